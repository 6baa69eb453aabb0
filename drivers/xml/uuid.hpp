/// UUID text helpers shared by every XML object: libvirt's accepted input forms,
/// its canonical printed form, and random version 4 UUIDs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocol/xdr.hpp"

namespace virtactor::drivers::xml {

/// Prints `u` as libvirt does: 36 lower-case characters, dashes at 8-4-4-4-12.
std::string format_uuid(const xdr::uuid& u);

/// Parses a UUID as libvirt's `virUUIDParse` accepts it: 32 hex digits, with or
/// without dashes between any two of them, surrounded by optional blanks.
/// Returns `std::nullopt` for anything else.
std::optional<xdr::uuid> parse_uuid(std::string_view text);

/// A fresh random (version 4, RFC 4122 variant) UUID.
xdr::uuid random_uuid();

} // namespace virtactor::drivers::xml
