/// Typed event messages that drivers publish and sessions and clients receive.
/// Plain structs with CAF `inspect` overloads; no CAF include needed here.
#pragma once

#include <cstdint>
#include <string>

#include "protocol/remote_protocol.hpp"

namespace virtactor {

/// `virDomainEventID` values virtactor publishes.
enum class domain_event_id : int32_t {
  lifecycle = 0,
  reboot = 1,
  control_error = 7,
};

/// Number of domain event IDs libvirt 9.0 defines (`VIR_DOMAIN_EVENT_ID_LAST`).
inline constexpr int32_t domain_event_id_last = 27;

/// `virDomainEventType`.
enum class lifecycle_event : int32_t {
  defined = 0,
  undefined = 1,
  started = 2,
  suspended = 3,
  resumed = 4,
  stopped = 5,
  shutdown = 6,
  pmsuspended = 7,
  crashed = 8,
};

/// A domain event delivered to one subscription. `callback_id` names the
/// subscription (the id the subscriber got when it registered); for
/// `domain_event_id::lifecycle`, `event` and `detail` carry libvirt's
/// `virDomainEventType` and detail numbers; for `reboot` and `control_error`
/// both are 0.
struct domain_event {
  int32_t callback_id = 0;
  int32_t event_id = 0;
  protocol::nonnull_domain dom;
  int32_t event = 0;
  int32_t detail = 0;

  bool operator==(const domain_event&) const = default;
};

/// `virConnectCloseReason`.
enum class close_reason : int32_t {
  error = 0,
  eof = 1,
  keepalive = 2,
  client = 3,
};

/// How a byte stream ended, as a broker tells its peer: `(closed_atom,
/// stream_end, broker id)`. `eof` is the peer's orderly close; otherwise
/// `reason` says what went wrong (a length word outside libvirt's limits, a
/// security-layer failure, a bound passed).
struct stream_end {
  bool eof = false;
  std::string reason;
  bool operator==(const stream_end&) const = default;
};

/// The connection behind a subscription went away (close callback).
struct connection_closed {
  int32_t reason = 0;
  bool operator==(const connection_closed&) const = default;
};

/// With a reconnect policy: the connection was lost and has been re-opened;
/// events between `lost` and now may be missing. Subscriptions were
/// re-registered under the same callback ids.
struct connection_resumed {
  int32_t attempts = 0;
  bool operator==(const connection_resumed&) const = default;
};

} // namespace virtactor
