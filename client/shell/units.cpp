#include "client/shell/units.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <strings.h>

#include "client/shell/console.hpp"
#include "drivers/xml/units.hpp"

namespace virtactor::client::shell {

namespace {

/// True if a '-' occurs among the characters strto* consumed.
bool has_minus(const char* begin, const char* end) {
  return std::memchr(begin, '-', static_cast<size_t>(end - begin)) != nullptr;
}

} // namespace

bool parse_int(const std::string& s, int& value) {
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(begin, &end, 10);
  if (errno != 0 || end == begin || *end != '\0' || v < INT_MIN || v > INT_MAX)
    return false;
  value = static_cast<int>(v);
  return true;
}

namespace {

/// strtoull over the whole of `s`; `negative` tells whether a '-' was read.
bool parse_whole_unsigned(const std::string& s, unsigned long long& value, bool& negative) {
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  value = std::strtoull(begin, &end, 10);
  if (errno != 0 || end == begin || *end != '\0')
    return false;
  negative = has_minus(begin, end);
  return true;
}

} // namespace

bool parse_uint(const std::string& s, unsigned& value, bool wrap) {
  unsigned long long v = 0;
  bool negative = false;
  if (!parse_whole_unsigned(s, v, negative) || (negative && !wrap))
    return false;
  // strtoull negated a '-' number's magnitude; -UINT_MAX .. -0 wrap around.
  if ((negative ? 0ULL - v : v) > UINT_MAX)
    return false;
  value = static_cast<unsigned>(v);
  return true;
}

bool parse_ulonglong(const std::string& s, unsigned long long& value, bool wrap) {
  unsigned long long v = 0;
  bool negative = false;
  if (!parse_whole_unsigned(s, v, negative) || (negative && !wrap))
    return false;
  value = v;
  return true;
}

bool parse_ulonglong_prefix(const std::string& s, unsigned long long& value, std::string& rest) {
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(begin, &end, 10);
  if (errno != 0 || end == begin || has_minus(begin, end))
    return false;
  value = v;
  rest = end;
  return true;
}

std::optional<virt_error> scale_integer(unsigned long long& value, std::string_view suffix,
                                        unsigned long long scale, unsigned long long limit) {
  if (suffix.empty() && scale == 0)
    return make_virt_error(error_code::internal_error, error_domain::none,
                           format("internal error: invalid scale %llu", scale));
  // The unit table is the XML model's (drivers/xml/units.hpp): one `virScaleInteger`.
  auto factor = drivers::xml::unit_scale(suffix, scale);
  if (!factor)
    return make_virt_error(error_code::invalid_arg, error_domain::none,
                           format("invalid argument: unknown suffix '%.*s'",
                                  static_cast<int>(suffix.size()), suffix.data()));
  if (value != 0 && value > limit / *factor)
    return make_virt_error(error_code::overflow, error_domain::none,
                           format("numerical overflow: value too large: %llu%.*s", value,
                                  static_cast<int>(suffix.size()), suffix.data()));
  value *= *factor;
  return std::nullopt;
}

double pretty_capacity(unsigned long long bytes, const char*& unit) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double limit = 1024;
  if (static_cast<double>(bytes) < limit) {
    unit = units[0];
    return static_cast<double>(bytes);
  }
  for (int i = 1; i < 6; ++i) {
    limit *= 1024;
    if (static_cast<double>(bytes) < limit) {
      unit = units[i];
      return static_cast<double>(bytes) / (limit / 1024);
    }
  }
  limit *= 1024;
  unit = units[6];
  return static_cast<double>(bytes) / (limit / 1024);
}

std::string format_capacity(unsigned long long bytes) {
  const char* unit = nullptr;
  double v = pretty_capacity(bytes, unit);
  return format("%.2lf %s", v, unit);
}

} // namespace virtactor::client::shell
