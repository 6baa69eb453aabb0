/// The test driver's domains: libvirt 9.0's test driver keeps its guests in
/// memory, so starting, stopping and pausing one is a state change, with the
/// test driver's own errors and events; the shared core (drivers/conf) does
/// the rest of each domain API.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "drivers/conf/domain_backend.hpp"
#include "drivers/conf/driver_traits.hpp"

namespace virtactor::drivers::test {

/// The test driver's name, error domain, flags and limits.
const conf::driver_traits& traits();

/// A clock reading of wall-clock time (the test driver reports it as CPU
/// time); tests pass a fake.
using wall_clock = std::function<std::chrono::system_clock::time_point()>;

/// A test domain's backend; `now` defaults to the system clock.
std::unique_ptr<conf::domain_backend> make_domain_backend(wall_clock now = {});

} // namespace virtactor::drivers::test
