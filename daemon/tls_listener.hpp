/// The daemon's tls listener (libvirtd's `listen_tls`, port 16514): accepts
/// TCP clients, runs each one's TLS handshake and certificate checks on a
/// thread of its own (never on CAF's I/O thread, never holding up other
/// clients), then hands the session to a frame broker and the usual session
/// actor.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/tls_context.hpp"
#include "daemon/config.hpp"
#include "daemon/listener.hpp"

namespace virtactor::daemon {

/// Writes one line to the daemon's log; `level` as the config's log_level
/// (2 info, 3 warning, 4 error).
using log_fn = std::function<void(int level, const std::string& message)>;

/// What the tls listener needs besides its socket and the server's counters.
struct tls_listener_options {
  std::shared_ptr<tls::context> context;
  /// How long a client may take for its handshake and the checks.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds{30}};
  /// Clients in their handshake at once (`max_anonymous_clients`, 0: no
  /// limit); further accepted clients wait, in order, until one finishes.
  int max_pending = 20;
  /// Refused clients and clients let in despite a bad certificate are logged here.
  log_fn log;
};

/// The server's TLS context as libvirtd builds it from `cfg`: with any of
/// `ca_file`, `cert_file`, `key_file` set, all three are required
/// (VIR_ERR_CONF_SYNTAX otherwise) and `crl_file` is optional; with none
/// set, libvirt's locations (/etc/pki/..., or for a daemon not running as
/// root `home`/.pki/libvirt first). Then `tls_no_sanity_certificate`,
/// `tls_no_verify_certificate`, `tls_allowed_dn_list` and `tls_priority`.
result<std::shared_ptr<tls::context>> make_server_context(const daemon_config& cfg, bool privileged,
                                                          const std::string& home);

/// Spawns the tls listener on the listening TCP socket `fd`. Clients above
/// the server's cap are closed at once; clients still in their handshake
/// count as clients.
caf::actor spawn_tls_listener(caf::actor_system& sys, int fd,
                              std::shared_ptr<client_counter> counter,
                              std::shared_ptr<const session_options> opts,
                              tls_listener_options tls);

} // namespace virtactor::daemon
