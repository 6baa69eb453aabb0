/// Listener actors: one `caf::io` broker per listening socket (unix
/// read-write, unix read-only, tcp) that also carries every client it
/// accepted, each as a plain session object (daemon/session.hpp). The client
/// cap is shared by all listeners of a server.
#pragma once

#include <atomic>
#include <memory>

#include <caf/fwd.hpp>

#include "daemon/session.hpp"

namespace virtactor::daemon {

/// Counts the clients of one server against its cap (`max_clients`).
struct client_counter {
  std::atomic<int> clients{0};
  std::atomic<int> max_clients{5000};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
};

/// Spawns a listener that adopts the listening socket `fd`. Clients above the
/// cap are refused (their connection is closed at once; nothing hangs).
caf::actor spawn_listener(caf::actor_system& sys, int fd, std::shared_ptr<client_counter> counter,
                          std::shared_ptr<const session_options> opts);

} // namespace virtactor::daemon
