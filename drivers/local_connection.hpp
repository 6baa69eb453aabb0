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

/// Asks a local connection for its driver state and URI: `(driver_state_atom)`
/// answers `(state_actor, uri)`. The daemon's sessions call the state
/// directly with `prepare_call` (one actor hop less per call); the connection
/// actor keeps subscriptions, watchers and the close.
using driver_state_atom = caf::atom_constant<caf::atom("va_drvst")>;

/// What a local connection does with call `number` (CONNECT_CLOSE aside):
/// answer it itself, refuse it, or hand the typed call to its driver state.
struct call_step {
  enum kind { answer, refuse, to_state } what = answer;
  xdr::buffer reply;   // answer
  virt_error error;    // refuse
  conf::typed_call call; // to_state: the arguments decoded, once
};

/// The connection's rules for one call: read-only access, the
/// connection-level procedures it answers itself, the arguments decoded
/// once for every actor behind.
call_step prepare_call(const std::string& uri, bool read_only, int32_t number,
                       const xdr::buffer& args);

/// The error libvirt raises when a read-only connection calls a write API
/// (`virReportRestrictedError`), in the error domain of the API's object.
virt_error read_only_error(const char* api);

} // namespace virtactor::drivers
