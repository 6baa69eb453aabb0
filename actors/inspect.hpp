/// CAF `inspect` overloads for the protocol and event structs that travel
/// between actors (CAF 0.17 wants one for every type in a message).
#pragma once

#include <caf/meta/type_name.hpp>

#include "actors/events.hpp"
#include "actors/open_options.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::protocol {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, nonnull_domain& x) {
  return f(caf::meta::type_name("nonnull_domain"), x.name, x.uuid, x.id);
}

} // namespace virtactor::protocol

namespace virtactor {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, domain_event& x) {
  return f(caf::meta::type_name("domain_event"), x.callback_id, x.event_id, x.dom, x.event,
           x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_closed& x) {
  return f(caf::meta::type_name("connection_closed"), x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_end& x) {
  return f(caf::meta::type_name("stream_end"), x.eof, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_resumed& x) {
  return f(caf::meta::type_name("connection_resumed"), x.attempts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, open_options& x) {
  return f(caf::meta::type_name("open_options"), x.reconnect_attempts, x.reconnect_backoff_ms,
           x.keepalive_interval, x.keepalive_count);
}

} // namespace virtactor
