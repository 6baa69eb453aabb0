/// The client's driver registry: virtactor's local drivers, then the remote
/// driver (libvirt's `virInitialize()` registers remote last), built once per
/// actor system.
#pragma once

#include <caf/fwd.hpp>

#include "drivers/registry.hpp"

namespace virtactor::client {

using drivers::open_timeout;
using drivers::spawn_registry;

/// The registry of `sys` with all of virtactor's drivers, spawned on first use.
registry_actor driver_registry(caf::actor_system& sys);

/// Stops the registry of `sys` (and its drivers), if one was spawned.
void stop_driver_registry(caf::actor_system& sys);

} // namespace virtactor::client
