#include "daemon/tls_listener.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <thread>
#include <utility>

#include <sys/eventfd.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/message_handler.hpp>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/flow_stream.hpp"
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
/// A handshake thread is done: (tls_handshake_atom, id, stream or null).
using tls_handshake_atom = caf::atom_constant<caf::atom("va_tlshs")>;

namespace net = caf::io::network;

/// A doorman that hands accepted sockets to its broker as they are, instead
/// of wrapping them in plain scribes: the TLS handshake has to come first.
/// Running out of descriptors is survived and logged as on the other
/// listeners (`flow::doorman`).
class tls_doorman : public flow::doorman {
public:
  using flow::doorman::doorman;

  bool new_connection() override {
    if (detached())
      return false;
    auto handoff = std::make_shared<tls_handoff>();
    handoff->fd.reset(take_accepted());
    caf::anon_send(caf::actor_cast<caf::actor>(parent()->ctrl()), tls_accept_atom::value,
                   std::move(handoff));
    return true;
  }
};

/// One client's opening (handshake, checks, confirmation byte) on the
/// thread that runs it: the stream for a frame broker, or null when refused
/// (logged here, with the client's address and the reason).
std::shared_ptr<stream_endpoint> open_client(const tls_listener_options& opts, tls_handoff& h,
                                             int cancel_fd) {
  auto peer = tls::peer_address_of(h.fd.get());
  auto s = tls::accept(opts.context, std::move(h.fd), tls::clock::now() + opts.handshake_timeout,
                       cancel_fd);
  if (!s) {
    if (opts.log)
      opts.log(3, "TLS client " + peer + " refused: " + s.error().message);
    return nullptr;
  }
  if (!(*s)->peer_failure().empty() && opts.log)
    opts.log(3, "TLS client " + peer + " let in despite its certificate " +
                    "(tls_no_verify_certificate): " + (*s)->peer_failure());
  auto stream = tls::make_stream(*s, "tls:" + peer);
  // The count of clients drops when the stream (and so the session) ends.
  stream.owner = std::make_shared<std::pair<std::shared_ptr<void>, std::shared_ptr<void>>>(
      std::move(stream.owner), std::move(h.slot));
  return std::make_shared<stream_endpoint>(std::move(stream));
}

/// The openings in progress, each on a thread of its own (plain threads:
/// CAF 0.17's detached actors can hang the actor system's shutdown), and the
/// clients waiting for a free slot. Only the listener touches this.
struct handshakes {
  /// Readable once the listener stops: openings in progress give up at once.
  unique_fd cancel{::eventfd(0, EFD_CLOEXEC)};
  std::map<uint64_t, std::thread> running;
  std::deque<std::shared_ptr<tls_handoff>> waiting;
  uint64_t next_id = 0;

  /// Stops every opening and waits for its thread (each gives up at once).
  void abandon_all() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(cancel.get(), &one, sizeof one);
    for (auto& [id, t] : running)
      t.join();
    running.clear();
    waiting.clear();
  }
};

struct listener_state {
  std::shared_ptr<handshakes> work = std::make_shared<handshakes>();
};

caf::behavior tls_listener(caf::io::broker* self, int fd, std::shared_ptr<client_counter> counter,
                           std::shared_ptr<const session_options> opts, tls_listener_options tls) {
  auto st = std::make_shared<listener_state>();
  auto& mpx = static_cast<net::default_multiplexer&>(self->backend());
  self->add_doorman(caf::make_counted<tls_doorman>(mpx, fd, tls.log));
  // Runs in the listener's cleanup, when its mailbox no longer takes messages.
  self->attach_functor([work = st->work] { work->abandon_all(); });
  // Every client of this socket lives in this broker, as a plain session
  // object over its TLS scribe (no actor per client).
  auto [host, host_handlers] = make_session_host(self, opts);
  self->set_exit_handler([self, host = host](const caf::exit_msg& em) {
    host->close_all();
    self->quit(em.reason);
  });
  // 0: no limit (libvirtd's meaning).
  const size_t max_pending = tls.max_pending > 0 ? static_cast<size_t>(tls.max_pending) : SIZE_MAX;
  auto start = [self, st, tls](std::shared_ptr<tls_handoff> h) {
    auto id = st->work->next_id++;
    st->work->running.emplace(
        id, std::thread{[listener = caf::actor_cast<caf::actor>(self), tls, h = std::move(h), id,
                         cancel = st->work->cancel.get()] {
          auto stream = open_client(tls, *h, cancel);
          caf::anon_send(listener, tls_handshake_atom::value, id, std::move(stream));
        }});
  };
  caf::message_handler own{
      [st, counter, max_pending, start](tls_accept_atom, std::shared_ptr<tls_handoff>& h) {
        if (counter->clients.load() >= counter->max_clients.load()) {
          ++counter->refused;
          return; // the socket closes with the message
        }
        ++counter->clients;
        ++counter->accepted;
        h->slot = std::shared_ptr<void>(nullptr, [counter](void*) { --counter->clients; });
        if (st->work->running.size() < max_pending)
          start(std::move(h));
        else
          st->work->waiting.push_back(std::move(h));
      },
      [self, st, host = host, start](tls_handshake_atom, uint64_t id,
                              std::shared_ptr<stream_endpoint>& stream) {
        // The thread has sent its last message: it ends at once.
        if (auto i = st->work->running.find(id); i != st->work->running.end()) {
          i->second.join();
          st->work->running.erase(i);
        }
        if (!st->work->waiting.empty()) {
          start(std::move(st->work->waiting.front()));
          st->work->waiting.pop_front();
        }
        if (!stream)
          return; // refused; the thread has logged why
        client_info info;
        info.peer = stream->peer;
        auto scribe = stream->make_scribe ? stream->make_scribe(self)
                                          : flow::make_socket_scribe(self, stream->fd.release());
        auto hdl = scribe->hdl();
        self->add_scribe(std::move(scribe));
        host->add(hdl, std::move(info), !stream->make_scribe, std::move(stream->owner));
      },
      [](const caf::io::new_connection_msg&) {
        // nop: our doorman never makes plain scribes
      },
      [self](const caf::io::acceptor_closed_msg&) { self->quit(); },
  };
  return caf::behavior{own.or_else(host_handlers)};
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
