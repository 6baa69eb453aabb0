/// Carrying `virt_error` through CAF: packing into and out of `caf::error`,
/// and mapping CAF's own errors (timeouts, dead actors) onto libvirt's codes.
#pragma once

#include <string_view>

#include <caf/error.hpp>

#include "protocol/error.hpp"

namespace virtactor {

/// The CAF error category of packed `virt_error`s.
inline constexpr caf::atom_value virt_error_category = caf::atom("virt");

/// Packs `e` into a `caf::error` (code, category "virt", context: domain,
/// message, level).
caf::error to_caf_error(const virt_error& e);

/// Shorthand: `to_caf_error(make_virt_error(code, domain, message))`.
caf::error make_caf_error(error_code code, error_domain domain, std::string message);

/// Unpacks a `caf::error`. Errors of other categories become libvirt errors:
/// a request timeout is VIR_ERR_OPERATION_TIMEOUT, a dead receiver is "client
/// socket is closed" (VIR_ERR_INTERNAL_ERROR from RPC), anything else an
/// internal error naming CAF's reason. `what` names the operation for messages.
virt_error from_caf_error(const caf::error& err, std::string_view what = {});

} // namespace virtactor
