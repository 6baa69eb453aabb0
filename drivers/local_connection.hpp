/// The connection actor of an in-process driver: enforces read-only access,
/// answers the connection-level procedures itself, forwards the rest to the
/// driver's state actor, and fans the driver's events out to subscribers.
#pragma once

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers {

/// Spawns a connection to an in-process driver whose state actor `owner`
/// answers `(call, proc, args, read_only)`, accepts `(subscribe, listener)` /
/// `(unsubscribe, listener)` and sends `(publish, domain_event)` to listeners.
connection_actor spawn_local_connection(caf::actor_system& sys, caf::actor owner,
                                        std::string uri, uint32_t flags);

/// The error libvirt raises when a read-only connection calls a write API
/// (`virReportRestrictedError`), in the error domain of the API's object.
virt_error read_only_error(const char* api);

} // namespace virtactor::drivers
