#pragma once
// Test support: the parameters of a domain stats record as text, by field.

#include <map>
#include <string>

#include "protocol/remote_protocol.hpp"

namespace virtactor::testing {

/// A typed parameter's value as decimal text or its string.
inline std::string param_text(const protocol::typed_param_value& x) {
  auto& v = x.value;
  switch (x.discriminant()) {
    case 1:
      return std::to_string(std::get<0>(v));
    case 2:
      return std::to_string(std::get<1>(v));
    case 3:
      return std::to_string(std::get<2>(v));
    case 4:
      return std::to_string(std::get<3>(v));
    case 5:
      return std::to_string(std::get<4>(v));
    case 6:
      return std::get<5>(v) ? "1" : "0";
    default:
      return std::get<6>(v);
  }
}

/// Every parameter of `params` (a record's list) as text, by field.
template <class List>
std::map<std::string, std::string> stats_fields(const List& params) {
  std::map<std::string, std::string> out;
  for (auto& p : params)
    out[p.field] = param_text(p.value);
  return out;
}

} // namespace virtactor::testing
