/// The process-wide actor system behind the blocking facade and the shell.
/// Services that embed the actor client bring their own `caf::actor_system`
/// (with `caf::io::middleman` loaded) and use client/async.hpp instead.
#pragma once

#include <caf/fwd.hpp>

namespace virtactor::client {

/// The actor system shared by every blocking connection of this process,
/// started on first use and shut down at exit.
caf::actor_system& process_system();

} // namespace virtactor::client
