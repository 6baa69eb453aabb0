#include "daemon/listener.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>

#include <set>

#include "actors/atoms.hpp"
#include "actors/flow_stream.hpp"
#include "actors/frame_broker.hpp"

namespace virtactor::daemon {

namespace {

caf::behavior listener(caf::io::broker* self, int fd, std::shared_ptr<client_counter> counter,
                       std::shared_ptr<const session_options> opts) {
  flow::add_listener(self, fd, opts->log);
  // Sessions report their end through `on_exit`; copy the options once with it.
  auto session_opts = std::make_shared<session_options>(*opts);
  session_opts->on_exit = [counter, chained = opts->on_exit] {
    --counter->clients;
    if (chained)
      chained();
  };
  std::shared_ptr<const session_options> shared_opts = session_opts;
  // The brokers of our clients, so that a stop closes every session.
  auto clients = std::make_shared<std::set<caf::actor>>();
  self->set_down_handler([clients](const caf::down_msg& dm) {
    for (auto i = clients->begin(); i != clients->end(); ++i)
      if (i->address() == dm.source) {
        clients->erase(i);
        break;
      }
  });
  self->set_exit_handler([self, clients](const caf::exit_msg& em) {
    for (auto& c : *clients)
      self->send(c, close_atom::value);
    clients->clear();
    self->quit(em.reason);
  });
  return {
    [self, counter, shared_opts, clients](const caf::io::new_connection_msg& msg) {
      if (counter->clients.load() >= counter->max_clients.load()) {
        ++counter->refused;
        self->close(msg.handle);
        return;
      }
      ++counter->clients;
      ++counter->accepted;
      auto& sys = self->system();
      // In CAF 0.17 a connection handle's id is its socket.
      client_info info;
      info.peer = describe_socket(static_cast<int>(msg.handle.id()));
      if (shared_opts->unix_socket)
        info.credentials = read_peer_credentials(static_cast<int>(msg.handle.id()));
      auto broker = self->fork(
        frame_broker, msg.handle,
        peer_factory{[&sys, shared_opts, info = std::move(info)](caf::actor broker) mutable {
          return spawn_session(sys, std::move(broker), shared_opts, std::move(info));
        }},
        shared_opts->limits);
      self->monitor(broker);
      clients->insert(broker);
    },
    [self](const caf::io::acceptor_closed_msg&) { self->quit(); },
  };
}

} // namespace

caf::actor spawn_listener(caf::actor_system& sys, int fd, std::shared_ptr<client_counter> counter,
                          std::shared_ptr<const session_options> opts) {
  return sys.middleman().spawn_broker(listener, fd, std::move(counter), std::move(opts));
}

} // namespace virtactor::daemon
