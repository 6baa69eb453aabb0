/// The connection actor of an in-process driver: enforces read-only access,
/// answers the connection-level procedures itself, decodes the arguments of
/// the rest once and forwards them to the driver's state actor, and fans the
/// driver's events out to subscribers.
#pragma once

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "drivers/conf/actors.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers {

/// Spawns a connection to the driver state `owner`. `driver`, when set,
/// answers `(release, connection address)` with a bool: the connection asks
/// it before it confirms a close, so a state dropped with its last
/// connection is gone when the close returns.
connection_actor spawn_local_connection(caf::actor_system& sys, conf::state_actor owner,
                                        std::string uri, uint32_t flags,
                                        caf::actor driver = {});

/// The error libvirt raises when a read-only connection calls a write API
/// (`virReportRestrictedError`), in the error domain of the API's object.
virt_error read_only_error(const char* api);

} // namespace virtactor::drivers
