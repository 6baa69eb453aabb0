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

/// Parses a UUID as libvirt's `virUUIDParse` accepts it: 32 hex digits in
/// pairs, with any dashes or spaces between the pairs, surrounded by optional
/// blanks ("6695eb01-f6a4-8304-79aa-97f2502e193f" and the same without dashes).
/// Returns `std::nullopt` for anything else.
std::optional<xdr::uuid> parse_uuid(std::string_view text);

/// A fresh random (version 4, RFC 4122 variant) UUID.
xdr::uuid random_uuid();

} // namespace virtactor::drivers::xml
