#include "daemon/listener.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/message_handler.hpp>


#include "actors/atoms.hpp"
#include "actors/flow_stream.hpp"

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
  // Every client of this socket lives in this broker: its connection's
  // framing and its session are plain objects (no actor per client).
  auto [host, host_handlers] = make_session_host(self, std::move(session_opts));
  self->set_exit_handler([self, host = host](const caf::exit_msg& em) {
    host->close_all();
    self->quit(em.reason);
  });
  caf::message_handler own{
    [self, counter, host = host, unix_socket = opts->unix_socket](
      const caf::io::new_connection_msg& msg) {
      if (counter->clients.load() >= counter->max_clients.load()) {
        ++counter->refused;
        self->close(msg.handle);
        return;
      }
      ++counter->clients;
      ++counter->accepted;
      // In CAF 0.17 a connection handle's id is its socket.
      client_info info;
      info.peer = describe_socket(static_cast<int>(msg.handle.id()));
      if (unix_socket)
        info.credentials = read_peer_credentials(static_cast<int>(msg.handle.id()));
      host->add(msg.handle, std::move(info), true);
    },
    [self](const caf::io::acceptor_closed_msg&) { self->quit(); },
  };
  return caf::behavior{own.or_else(host_handlers)};
}

} // namespace

caf::actor spawn_listener(caf::actor_system& sys, int fd, std::shared_ptr<client_counter> counter,
                          std::shared_ptr<const session_options> opts) {
  return sys.middleman().spawn_broker(listener, fd, std::move(counter), std::move(opts));
}

} // namespace virtactor::daemon
