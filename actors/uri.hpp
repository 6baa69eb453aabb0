/// libvirt connection URIs: the grammar (as libvirt's `virURIParse`) and the
/// canonical re-serialisation. Pure code, shared by every driver and the
/// remote driver (client/uri.hpp adds what the remote driver derives).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor {

/// One query parameter, percent-decoded, as libvirt's `virURIParam`.
struct uri_param {
  std::string name;
  std::string value;

  bool operator==(const uri_param&) const = default;
};

/// A connection URI `driver[+transport]://[user@][host][:port]/[path][?params][#fragment]`,
/// split as libvirt's `virURIParse` (libxml2's RFC 3986 parser) splits it.
///
/// Every component is stored percent-decoded except `query`, which keeps the
/// text as written (libvirt re-emits it verbatim).
struct uri {
  /// The scheme as written, e.g. "qemu+ssh".
  std::string scheme;
  /// The scheme up to the first '+', e.g. "qemu".
  std::string driver;
  /// What follows the first '+' in the scheme, as written; absent without '+'.
  std::optional<std::string> transport;
  /// The user before '@'; absent when there is none (or it is empty).
  std::optional<std::string> user;
  /// The host; IPv6 literals without their brackets. Absent for `test:///default`.
  std::optional<std::string> host;
  /// The port; absent when not given, when 0, or when there is no host (as libvirt).
  std::optional<uint16_t> port;
  /// The path, e.g. "/system"; empty when the URI has none.
  std::string path;
  /// The raw query after '?', as written; absent without '?'.
  std::optional<std::string> query;
  /// The query split into parameters, in order.
  std::vector<uri_param> params;
  /// The fragment after '#'; absent without '#'.
  std::optional<std::string> fragment;

  bool operator==(const uri&) const = default;
};

/// Parses `text` as libvirt 9.0 does, with a few deliberate tightenings:
/// `%00`, ports above 65535 and bracketed hosts that are not IPv6 are refused.
///
/// Errors: VIR_ERR_INTERNAL_ERROR / VIR_FROM_URI "Unable to parse URI ..." for
/// malformed text; VIR_ERR_NO_CONNECT "... does not include a driver name" for
/// text without a scheme (the empty string included: choosing a default URI is
/// the caller's job).
result<uri> parse_uri(std::string_view text);

/// Serialises `x` as libvirt's `virURIFormat` does: always with "//" (so
/// `test:/default` comes back as `test:///default`), the port only when
/// non-zero, the raw `query` when set (otherwise the encoded `params`).
std::string to_string(const uri& x);

/// Encodes parameters as libvirt's `virURIFormatParams`: `name=value` joined by
/// '&', names verbatim, values percent-encoded except `[A-Za-z0-9-_.~]`.
std::string format_params(const std::vector<uri_param>& params);

/// ASCII case-insensitive equality, as GLib's `g_ascii_strcasecmp() == 0`.
bool iequals(std::string_view a, std::string_view b);

} // namespace virtactor
