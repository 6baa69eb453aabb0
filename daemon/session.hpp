/// One client of the daemon: the session actor decodes that client's RPC
/// messages, answers keepalive at once, dispatches calls to its driver
/// connection (opened through the same registry the client library uses), and
/// writes replies and events back through its frame broker. A session that
/// fails ends that client only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace virtactor::daemon {

/// What a session needs to know about the server and socket it came from.
struct session_options {
  /// Forces every connection on this socket read-only (`libvirt-sock-ro`).
  bool read_only_socket = false;
  /// True on unix sockets (FD passing possible, "secure" transport).
  bool unix_socket = true;
  /// True on the tls listener: encrypted, so CONNECT_IS_SECURE answers 1.
  bool tls = false;
  /// Seconds between keepalive PINGs to an idle client (0: never).
  int keepalive_interval = 5;
  /// Unanswered PINGs after which the client is dropped.
  int keepalive_count = 5;
  /// Deadline for one call into a driver.
  std::chrono::seconds call_timeout{300};
  /// Calls one client may have in flight at once (`max_client_requests`).
  int max_client_requests = 5;
  /// Registry used for CONNECT_OPEN.
  registry_actor registry;
  /// Called once when the session ends (the server counts its clients).
  std::function<void()> on_exit;
};

/// Spawns the session for a new client carried by `broker`.
caf::actor spawn_session(caf::actor_system& sys, caf::actor broker,
                         std::shared_ptr<const session_options> opts);

} // namespace virtactor::daemon
