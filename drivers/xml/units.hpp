/// Scaled integers as libvirt's XML reads them: a number plus a unit suffix
/// (`b`, `KiB`/`K`, `KB`, `MiB`/`M`, `MB`, ... `EiB`/`E`, `EB`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/error.hpp"

namespace virtactor::drivers::xml {

/// The multiplier of `unit` in bytes, or `std::nullopt` for an unknown unit. An
/// empty unit means `default_scale`. Accepted spellings follow libvirt's
/// `virScaleInteger`: case-insensitive `b`/`byte`/`bytes`, a prefix letter alone
/// or followed by `iB` (powers of 1024), or followed by `B` (powers of 1000).
std::optional<uint64_t> unit_scale(std::string_view unit, uint64_t default_scale);

/// Parses a non-negative decimal integer that must fill all of `text` (blanks
/// around it allowed, as libvirt's `virStrToLong_ullp`).
std::optional<uint64_t> parse_unsigned(std::string_view text);

/// `value` times the scale of `unit` (libvirt's `virScaleInteger`), refused
/// above `limit`: VIR_ERR_INVALID_ARG "unknown suffix 'X'" or VIR_ERR_OVERFLOW
/// "value too large: 16EiB", both without an error domain, as libvirt reports.
result<uint64_t> scale_value(uint64_t value, std::string_view unit, uint64_t default_scale,
                             uint64_t limit);

} // namespace virtactor::drivers::xml
