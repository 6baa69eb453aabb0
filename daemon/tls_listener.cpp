#include "daemon/tls_listener.hpp"

#include <climits>
#include <set>
#include <utility>

#include <sys/eventfd.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/frame_broker.hpp"
#include "actors/tls_scribe.hpp"
#include "actors/tls_session.hpp"

namespace virtactor::daemon {

namespace {

/// An accepted client on its way to a handshake worker. `slot` holds the
/// client's place in the server's count until the client is gone.
struct tls_handoff {
  unique_fd fd;
  std::shared_ptr<void> slot;
};

} // namespace

} // namespace virtactor::daemon

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::daemon::tls_handoff>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::stream_endpoint>)

namespace virtactor::daemon {

namespace {

/// An accepted socket, from our doorman to its broker.
using tls_accept_atom = caf::atom_constant<caf::atom("va_tlsacc")>;
/// Run a handshake: (tls_handshake_atom, handoff) -> stream_endpoint.
using tls_handshake_atom = caf::atom_constant<caf::atom("va_tlshs")>;

namespace net = caf::io::network;

/// A doorman that hands accepted sockets to its broker as they are, instead
/// of wrapping them in plain scribes: the TLS handshake has to come first.
class tls_doorman : public net::doorman_impl {
public:
  using doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached())
      return false;
    auto handoff = std::make_shared<tls_handoff>();
    handoff->fd.reset(std::exchange(acceptor_.accepted_socket(), net::invalid_native_socket));
    caf::anon_send(caf::actor_cast<caf::actor>(parent()->ctrl()), tls_accept_atom::value,
                   std::move(handoff));
    return true;
  }
};

/// Readable once the listener has stopped: handshakes in progress give up.
using cancel_signal = std::shared_ptr<unique_fd>;

/// One client's handshake on a thread of its own; it ends with the reply.
caf::behavior handshake_worker(caf::event_based_actor* self, tls_listener_options opts,
                               cancel_signal cancel) {
  return {
      [self, opts,
       cancel](tls_handshake_atom,
               std::shared_ptr<tls_handoff>& h) -> caf::result<std::shared_ptr<stream_endpoint>> {
        self->quit();
        auto peer = tls::peer_address_of(h->fd.get());
        auto s = tls::accept(opts.context, std::move(h->fd),
                             tls::clock::now() + opts.handshake_timeout, cancel->get());
        if (!s) {
          if (opts.log)
            opts.log(3, "TLS client " + peer + " refused: " + s.error().message);
          return to_caf_error(s.error());
        }
        if (!(*s)->peer_failure().empty() && opts.log)
          opts.log(3, "TLS client " + peer + " let in despite its certificate " +
                          "(tls_no_verify_certificate): " + (*s)->peer_failure());
        auto stream = tls::make_stream(*s, "tls:" + peer);
        // The count of clients drops when the stream (and so the session) ends.
        stream.owner = std::make_shared<std::pair<std::shared_ptr<void>, std::shared_ptr<void>>>(
            std::move(stream.owner), std::move(h->slot));
        return std::make_shared<stream_endpoint>(std::move(stream));
      },
  };
}

struct listener_state {
  caf::io::accept_handle acceptor;
  /// Clients in their handshake.
  int pending = 0;
  bool paused = false;
  /// The frame brokers of our clients, so that a stop closes every session.
  std::set<caf::actor> clients;
};

caf::behavior tls_listener(caf::io::broker* self, int fd, std::shared_ptr<client_counter> counter,
                           std::shared_ptr<const session_options> opts, tls_listener_options tls) {
  auto st = std::make_shared<listener_state>();
  auto& mpx = static_cast<net::default_multiplexer&>(self->backend());
  auto door = caf::make_counted<tls_doorman>(mpx, fd);
  st->acceptor = door->hdl();
  self->add_doorman(std::move(door));
  cancel_signal cancel = std::make_shared<unique_fd>(::eventfd(0, EFD_CLOEXEC));
  self->attach_functor([cancel] {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(cancel->get(), &one, sizeof one);
  });
  self->set_down_handler([st](const caf::down_msg& dm) {
    for (auto i = st->clients.begin(); i != st->clients.end(); ++i)
      if (i->address() == dm.source) {
        st->clients.erase(i);
        break;
      }
  });
  self->set_exit_handler([self, st](const caf::exit_msg& em) {
    for (auto& c : st->clients)
      self->send(c, close_atom::value);
    st->clients.clear();
    self->quit(em.reason);
  });
  // 0: no limit (libvirtd's meaning).
  const int max_pending = tls.max_pending > 0 ? tls.max_pending : INT_MAX;
  // A handshake ended (either way): accept again if we had paused.
  auto finished = [self, st, max_pending] {
    --st->pending;
    if (st->paused && st->pending < max_pending) {
      st->paused = false;
      self->trigger(st->acceptor);
    }
  };
  return {
      [self, st, counter, opts, tls, max_pending, finished,
       cancel](tls_accept_atom, std::shared_ptr<tls_handoff>& h) {
        if (counter->clients.load() >= counter->max_clients.load()) {
          ++counter->refused;
          return; // the socket closes with the message
        }
        ++counter->clients;
        ++counter->accepted;
        h->slot = std::shared_ptr<void>(nullptr, [counter](void*) { --counter->clients; });
        if (++st->pending >= max_pending) {
          st->paused = true;
          self->halt(st->acceptor);
        }
        auto worker = self->spawn<caf::detached>(handshake_worker, tls, cancel);
        // The worker keeps its own deadline; this one only guards against a lost reply.
        self->request(worker, tls.handshake_timeout + std::chrono::seconds{10},
                      tls_handshake_atom::value, std::move(h))
            .then(
                [self, st, opts, finished](std::shared_ptr<stream_endpoint>& stream) {
                  finished();
                  auto& sys = self->system();
                  auto broker = spawn_frame_broker(sys, std::move(*stream),
                                                   peer_factory{[&sys, opts](caf::actor b) {
                                                     return spawn_session(sys, std::move(b), opts);
                                                   }});
                  self->monitor(broker);
                  st->clients.insert(broker);
                },
                [finished](const caf::error&) {
                  finished(); // the worker has logged why
                });
      },
      [](const caf::io::new_connection_msg&) {
        // nop: our doorman never makes plain scribes
      },
      [self](const caf::io::acceptor_closed_msg&) { self->quit(); },
  };
}

} // namespace

result<std::shared_ptr<tls::context>> make_server_context(const daemon_config& cfg, bool privileged,
                                                          const std::string& home) {
  tls::context_options opts;
  opts.role = tls::role::server;
  if (cfg.ca_file || cfg.cert_file || cfg.key_file) {
    auto missing = [](const char* what) {
      return make_virt_error(error_code::conf_syntax, error_domain::conf, what);
    };
    if (!cfg.ca_file)
      return missing("No CA certificate path set to match server key/cert");
    if (!cfg.cert_file)
      return missing("No server certificate path set to match server key");
    if (!cfg.key_file)
      return missing("No server key path set to match server cert");
    opts.files = {*cfg.ca_file, cfg.crl_file.value_or(""), *cfg.cert_file, *cfg.key_file};
  } else {
    opts.files = tls::locate_pki_files(tls::role::server, std::nullopt, !privileged, home);
  }
  opts.sanity_check = !cfg.tls_no_sanity_certificate;
  opts.require_valid_peer = !cfg.tls_no_verify_certificate;
  opts.allowed_dns = cfg.tls_allowed_dn_list;
  opts.priority = cfg.tls_priority;
  return tls::context::make(opts);
}

caf::actor spawn_tls_listener(caf::actor_system& sys, int fd,
                              std::shared_ptr<client_counter> counter,
                              std::shared_ptr<const session_options> opts,
                              tls_listener_options tls) {
  return sys.middleman().spawn_broker(tls_listener, fd, std::move(counter), std::move(opts),
                                      std::move(tls));
}

} // namespace virtactor::daemon
