/// The messaging interfaces that connect clients, drivers and the daemon:
/// one connection interface for every driver (local or remote), the driver
/// interface the registry asks, and the registry itself.
///
/// A call carries the procedure number and its XDR-encoded arguments; the reply
/// is the XDR-encoded return struct, or a `virt_error` packed into a
/// `caf::error` (actors/error.hpp). A local driver decodes the arguments once;
/// the remote driver forwards the bytes untouched: one interface, two carriers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/inspect.hpp"
#include "actors/open_options.hpp"
#include "protocol/xdr.hpp"

namespace virtactor {

/// A domain event filter: empty = all domains, else the one domain listed.
using domain_filter = std::vector<protocol::nonnull_domain>;

/// One open connection to a driver (`virConnectPtr`).
///
/// - `(call, proc, args)`: performs REMOTE procedure `proc`.
/// - `(subscribe, event_id, filter, sink)`: `sink` receives `domain_event`
///   messages for `event_id`; replies with the callback id.
/// - `(unsubscribe, callback_id)`: ends a subscription.
/// - `(watch, sink)`: `sink` receives `connection_closed` when the connection
///   ends for any reason other than its own close request, and
///   `connection_resumed` after a reconnect.
/// - `(uri)`: the connection's URI (`virConnectGetURI`).
/// - `(close)`: closes the connection; the actor then quits.
using connection_actor = caf::typed_actor<
  caf::replies_to<call_atom, int32_t, xdr::buffer>::with<xdr::buffer>,
  caf::replies_to<subscribe_atom, int32_t, domain_filter, caf::actor>::with<int32_t>,
  caf::replies_to<unsubscribe_atom, int32_t>::with<bool>,
  caf::replies_to<watch_atom, caf::actor>::with<bool>,
  caf::replies_to<uri_atom>::with<std::string>,
  caf::replies_to<close_atom>::with<bool>>;

/// A connection driver (`virConnectDriver` with its `virStateDriver` hooks).
///
/// - `(open, uri, flags, options)` replies with a connection, with an invalid
///   handle when the driver declines the URI (libvirt's VIR_DRV_OPEN_DECLINED),
///   or with an error when it accepts the URI but cannot open it.
/// - `(initialize)`: the daemon starts (load definitions, reattach to running
///   guests, autostart); `(reload)`: SIGHUP; `(shutdown)`: the daemon stops.
///   Each replies true when done, or an error. Drivers without state answer
///   at once.
using driver_actor = caf::typed_actor<
  caf::replies_to<open_atom, std::string, uint32_t, open_options>::with<connection_actor>,
  caf::replies_to<initialize_atom>::with<bool>, caf::replies_to<reload_atom>::with<bool>,
  caf::replies_to<shutdown_atom>::with<bool>>;

/// The driver registry: asks each driver in order, local drivers first and the
/// remote driver last; the first that accepts returns the connection. The
/// hooks go to every driver, in order; the first error ends the round.
using registry_actor = driver_actor;

} // namespace virtactor
