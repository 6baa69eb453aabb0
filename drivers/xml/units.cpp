#include "drivers/xml/units.hpp"

#include <cctype>
#include <climits>
#include <string>

#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::xml {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

std::optional<uint64_t> unit_scale(std::string_view unit, uint64_t default_scale) {
  if (unit.empty())
    return default_scale;
  if (iequals(unit, "b") || iequals(unit, "byte") || iequals(unit, "bytes"))
    return 1;
  uint64_t base = 0;
  if (unit.size() == 1 || iequals(unit.substr(1), "iB"))
    base = 1024;
  else if (unit.size() == 2 && std::tolower(static_cast<unsigned char>(unit[1])) == 'b')
    base = 1000;
  else
    return std::nullopt;
  int power = 0;
  switch (std::tolower(static_cast<unsigned char>(unit[0]))) {
    case 'k':
      power = 1;
      break;
    case 'm':
      power = 2;
      break;
    case 'g':
      power = 3;
      break;
    case 't':
      power = 4;
      break;
    case 'p':
      power = 5;
      break;
    case 'e':
      power = 6;
      break;
    default:
      return std::nullopt;
  }
  uint64_t scale = 1;
  for (int i = 0; i < power; ++i)
    scale *= base;
  return scale;
}

std::optional<uint64_t> parse_unsigned(std::string_view text) {
  return to_ull(text);
}

result<uint64_t> scale_value(uint64_t value, std::string_view unit, uint64_t default_scale,
                             uint64_t limit) {
  auto scale = unit_scale(unit, default_scale);
  if (!scale)
    return make_error(error_code::invalid_arg, error_domain::none,
                      "unknown suffix '" + std::string{unit} + "'");
  if (value != 0 && value > limit / *scale)
    return make_error(error_code::overflow, error_domain::none,
                      "value too large: " + std::to_string(value) + std::string{unit});
  return value * *scale;
}

} // namespace virtactor::drivers::xml
