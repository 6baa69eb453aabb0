/// The driver registry (libvirt's `virDriverTab[]`): asks its drivers in
/// order, local drivers first and the remote driver last; the first that
/// accepts a URI returns the connection. The client and the daemon both build
/// one: the client with the remote driver last, the daemon without it.
#pragma once

#include <chrono>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace virtactor::drivers {

/// How long a driver may take to accept or decline a URI (remote opens
/// include connecting and the handshake).
inline constexpr std::chrono::seconds open_timeout{90};

/// How long a driver-wide hook (initialize, reload, shutdown) may take.
inline constexpr std::chrono::seconds hook_timeout{120};

/// Spawns a registry over `drivers`, asked in order. The drivers are linked to
/// the registry: they end with it. The registry also passes the driver-wide
/// hooks (initialize at daemon start, reload on SIGHUP, shutdown) to every
/// driver, in order. The registry and its drivers are hidden actors: they end
/// with their actor system (or an exit message), after their drivers.
registry_actor spawn_registry(caf::actor_system& sys, std::vector<driver_actor> drivers);

/// virtactor's in-process drivers of the client library (the test driver),
/// in the order the registry asks them. virtactord adds its hypervisor
/// drivers (drivers/qemu/qemu_driver.hpp); the client library has none, and
/// qemu:/// URIs go to a daemon, as in libvirt.
std::vector<driver_actor> local_drivers(caf::actor_system& sys);

} // namespace virtactor::drivers
