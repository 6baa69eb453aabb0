/// The checks libvirt makes on a per-domain call before it looks the domain
/// up: argument decoding, the public API's argument and read-only flag checks,
/// and the test driver's flag checks. Shared by `domain_object` and by
/// `driver_state::no_domain_error`, so an unknown domain fails as libvirt does.
#pragma once

#include <cstdint>

#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::test {

/// Success when per-domain procedure `proc` with `args` passes every check
/// that precedes the domain lookup, else the first failing check's error.
result<void> check_domain_call(int32_t proc, const xdr::buffer& args, bool read_only);

} // namespace virtactor::drivers::test
