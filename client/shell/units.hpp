/// Numbers as virsh reads and writes them: libvirt's strict string-to-integer
/// rules (`virStrToLong_*`), unit suffixes (`virScaleInteger`) and sizes
/// printed as "1.50 GiB" (`vshPrettyCapacity`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/error.hpp"

namespace virtactor::client::shell {

/// `virStrToLong_i`: the whole of `s` is a base-10 int.
bool parse_int(const std::string& s, int& value);

/// `virStrToLong_ui` (`wrap`: "-1" means UINT_MAX) or `virStrToLong_uip`
/// (no sign allowed).
bool parse_uint(const std::string& s, unsigned& value, bool wrap);

/// `virStrToLong_ull` / `virStrToLong_ullp`, as above for 64 bits.
bool parse_ulonglong(const std::string& s, unsigned long long& value, bool wrap);

/// `virStrToLong_ullp` with an end position: parses the leading number of
/// `s` and sets `rest` to what follows. False if there is no number.
bool parse_ulonglong_prefix(const std::string& s, unsigned long long& value, std::string& rest);

/// `virScaleInteger`: multiplies `value` by the unit named by `suffix`
/// ("", "b", "k", "KiB", "kB", ... "EiB"); `scale` applies when `suffix` is
/// empty. Returns libvirt's error for an unknown suffix or an overflow.
std::optional<virt_error> scale_integer(unsigned long long& value, std::string_view suffix,
                                        unsigned long long scale, unsigned long long limit);

/// `vshPrettyCapacity`: `bytes` in the largest binary unit below it.
double pretty_capacity(unsigned long long bytes, const char*& unit);

/// "%.2lf %s" of `pretty_capacity`, as in "100.00 GiB".
std::string format_capacity(unsigned long long bytes);

} // namespace virtactor::client::shell
