/// The client end of libvirt's RPC protocol: one actor per remote connection.
/// It makes the handshake real libvirt clients make (auth list and SASL or
/// polkit where the daemon asks, keepalive probe, open, event and
/// close-callback probes, close-callback registration),
/// assigns serials, matches replies to calls, answers and sends keepalive,
/// routes events to subscribers and fails every pending call cleanly when the
/// daemon goes away. It serves the same `connection_actor` interface as a
/// local driver connection, forwarding argument bytes untouched.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/connect_auth.hpp"
#include "actors/stream.hpp"
#include "actors/interfaces.hpp"

namespace virtactor::client {

/// How a remote connection reaches its daemon and what it opens there.
struct remote_options {
  /// Produces a connected stream (any transport); called off the scheduler
  /// threads (it may block up to its own deadline). Called again on reconnect.
  std::function<result<stream_endpoint>()> connect;
  /// The URI given to `open` (what `virConnectGetURI` reports).
  std::string uri;
  /// The driver name sent in CONNECT_OPEN (transport, host... removed).
  std::string open_name;
  /// `virConnectFlags` sent in CONNECT_OPEN.
  uint32_t flags = 0;
  /// Seconds between client PINGs while idle (0: no keepalive), and the
  /// number of unanswered PINGs after which the connection is closed.
  int keepalive_interval = 5;
  int keepalive_count = 6;
  /// Longest time any call may stay unanswered before it fails.
  std::chrono::seconds call_deadline{600};
  /// Reconnect after the daemon goes away: 0 = never (libvirt's behaviour),
  /// else the number of attempts, with exponential backoff starting at
  /// `reconnect_backoff` and capped at 30 s.
  int reconnect_attempts = 0;
  std::chrono::milliseconds reconnect_backoff{200};
  /// Answers what authentication asks (SASL: authname, passphrase, ...);
  /// may block (it may ask a person), so it runs off the actor threads.
  std::shared_ptr<const connect_auth> auth;
  /// The daemon's host for SASL ("localhost" on unix sockets).
  std::string hostname = "localhost";
  /// The URI's `auth=`: "sasl", "sasl.MECHANISM" or "polkit"; empty: the
  /// daemon's first choice.
  std::string auth_type;
};

/// Spawns a remote connection. Send it `(open_atom)` (a request): the reply
/// is the connection itself once the handshake succeeded, or the error that
/// stopped it (after which the actor is gone).
caf::actor spawn_remote_connection(caf::actor_system& sys, remote_options opts);

} // namespace virtactor::client
