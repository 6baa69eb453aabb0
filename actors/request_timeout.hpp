/// CAF 0.17 keeps the timeout of a request in its clock until the timeout
/// expires, answered or not, together with a strong reference to the
/// requester: a long-lived actor that makes a request per client piles up
/// one entry per client for the whole timeout. `forget_timeout` drops the
/// entry once the answer is in.
#pragma once

#include <caf/actor_clock.hpp>
#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>

namespace virtactor {

/// Call from a request's handlers with the `id()` of its response handle.
inline void forget_timeout(caf::local_actor* self, caf::message_id response_id) {
  self->clock().cancel_request_timeout(self, response_id);
}

} // namespace virtactor
