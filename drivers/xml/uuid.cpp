#include "drivers/xml/uuid.hpp"

#include <cctype>
#include <random>

namespace virtactor::drivers::xml {

std::string format_uuid(const xdr::uuid& u) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += hex[u[i] >> 4];
    out += hex[u[i] & 0xf];
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<xdr::uuid> parse_uuid(std::string_view text) {
  xdr::uuid out{};
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
  for (size_t n = 0; n < out.size();) {
    if (i >= text.size())
      return std::nullopt;
    if (text[i] == '-' || text[i] == ' ') {
      ++i;
      continue;
    }
    if (i + 1 >= text.size())
      return std::nullopt;
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out[n++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  for (; i < text.size(); ++i)
    if (!std::isspace(static_cast<unsigned char>(text[i])))
      return std::nullopt;
  return out;
}

xdr::uuid random_uuid() {
  std::random_device rd;
  xdr::uuid out{};
  for (auto& b : out)
    b = static_cast<uint8_t>(rd() & 0xff);
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x40); // version 4
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80); // RFC 4122 variant
  return out;
}

} // namespace virtactor::drivers::xml
