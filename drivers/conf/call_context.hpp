/// What one call into a driver's model needs from its caller: the
/// connection's read-only flag, where lifecycle events go, and the driver-wide
/// domain id counter.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "actors/events.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::drivers::conf {

/// The caller's side of one `dispatch`: filled by the actor layer, read and
/// appended to by the model. A default-constructed context is a read-write
/// call that drops its events and cannot start domains.
struct call_context {
  /// The connection is read-only (VIR_CONNECT_RO): flags such as
  /// VIR_DOMAIN_XML_SECURE are refused.
  bool read_only = false;

  /// Lifecycle (event_id 0) and reboot (event_id 1) events, in the order
  /// libvirt queues them; `callback_id` is left 0 for the publisher to fill.
  /// May be null: the events are then dropped.
  std::vector<domain_event>* events = nullptr;

  /// Allocates the id of a domain that starts. Ids increase across the whole
  /// driver state (libvirt's `nextDomID`); `test` of test:///default has 1,
  /// the next start gets 2. Set by the actor layer for every call.
  std::function<int32_t()> next_domain_id;

  /// Appends one event (if `events` is set).
  void emit(const protocol::nonnull_domain& dom, int32_t event_id, int32_t event,
            int32_t detail) const {
    if (events)
      events->push_back(domain_event{0, event_id, dom, event, detail});
  }

  /// Appends one lifecycle event (`virDomainEventType` and its detail).
  void lifecycle(const protocol::nonnull_domain& dom, lifecycle_event event,
                 int32_t detail) const {
    emit(dom, static_cast<int32_t>(domain_event_id::lifecycle), static_cast<int32_t>(event),
         detail);
  }
};

} // namespace virtactor::drivers::conf
