/// The qemu driver: accepts qemu:///system (a privileged daemon) or
/// qemu:///session (a user's daemon), keeps one driver state for the life of
/// the daemon, loads definitions and reattaches to running QEMUs when the
/// daemon starts (the `initialize` hook), then autostarts.
#pragma once

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "drivers/qemu/driver_config.hpp"

namespace virtactor::drivers::qemu {

/// Spawns the qemu driver with `cfg`.
driver_actor spawn_qemu_driver(caf::actor_system& sys, driver_config cfg);

} // namespace virtactor::drivers::qemu
