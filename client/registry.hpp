/// The client's driver registry: virtactor's local drivers, then the remote
/// driver (libvirt's `virInitialize()` registers remote last), built once per
/// actor system.
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "drivers/registry.hpp"

namespace virtactor::client {

using drivers::open_timeout;
using drivers::spawn_registry;

/// The registry of `sys` with all of virtactor's drivers, spawned on first use.
registry_actor driver_registry(caf::actor_system& sys);

/// Stops the registry of `sys` (and its drivers), if one was spawned, and
/// waits up to `wait` for them to end. Not needed at shutdown: the registry
/// ends with its actor system.
void stop_driver_registry(caf::actor_system& sys,
                          std::chrono::milliseconds wait = std::chrono::milliseconds{0});

/// Closes `conn` when the actor `owner` ends (client::open does this for the
/// actor that opens a connection), so that no connection outlives every actor
/// that could use it and an actor system with open connections still shuts
/// down.
void close_with_owner(caf::actor_system& sys, const caf::actor_addr& owner,
                      const connection_actor& conn);

} // namespace virtactor::client
