/// The test driver as actors: the driver (accepts `test:///...` URIs), one
/// state actor per open test URI (shared by the connections open at the same
/// time, dropped with the last one), one actor per domain, and one connection
/// actor per `connect`.
#pragma once

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace virtactor::drivers::test {

/// Spawns the test driver.
driver_actor spawn_test_driver(caf::actor_system& sys);

} // namespace virtactor::drivers::test
