/// The driver registry (libvirt's `virDriverTab[]`): built once per actor
/// system, it tries local drivers first and the remote driver last.
#pragma once

#include <chrono>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace virtactor::client {

/// How long a driver may take to accept or decline a URI (remote opens
/// include connecting and the handshake).
inline constexpr std::chrono::seconds open_timeout{90};

/// Spawns a registry over `drivers`, asked in order. The drivers are linked to
/// the registry: they end with it.
registry_actor spawn_registry(caf::actor_system& sys, std::vector<driver_actor> drivers);

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
