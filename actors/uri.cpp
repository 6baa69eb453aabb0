#include "actors/uri.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <system_error>


namespace virtactor {

namespace {

// --- Character classes (RFC 3986, as libxml2 2.9 applies them) ------------

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

int hex_value(char c) {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool is_unreserved(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(char c) {
  return std::string_view{"!$&'()*+,;="}.find(c) != std::string_view::npos;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}


// --- Errors, worded as libvirt words them ---------------------------------

virt_error unparsable(std::string_view text) {
  return make_virt_error(error_code::internal_error, error_domain::uri,
                         "internal error: Unable to parse URI " + std::string{text});
}


// --- Percent-decoding and -encoding ----------------------------------------

/// Decodes every valid `%XX`; other '%' stay as they are (libxml2 does the
/// same). `%00` is refused: libvirt would silently cut the string there.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
        hex_value(in[i + 2]) >= 0) {
      auto byte = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      if (byte == '\0')
        return std::nullopt;
      out.push_back(byte);
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

/// Appends `in`, escaping as `%XX` (upper-case hex) every byte `keep` rejects.
template <class Keep> void percent_encode(std::string& out, std::string_view in, Keep keep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : in) {
    if (keep(c)) {
      out.push_back(c);
    } else {
      auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0x0f]);
    }
  }
}

// RFC 2396's "unreserved": what libxml2's xmlSaveUri never escapes.
bool is_rfc2396_unreserved(char c) {
  return is_alnum(c) || std::string_view{"-_.!~*'()"}.find(c) != std::string_view::npos;
}

bool keep_in_user(char c) {
  return is_rfc2396_unreserved(c) || std::string_view{";:&=+$,"}.find(c) != std::string_view::npos;
}

bool keep_in_host(char c) {
  return is_unreserved(c) || is_sub_delim(c);
}

bool keep_in_ipv6(char c) {
  return is_unreserved(c) || c == ':';
}

bool keep_in_path(char c) {
  return is_rfc2396_unreserved(c) || std::string_view{"/;@&=+$,"}.find(c) != std::string_view::npos;
}

bool keep_in_fragment(char c) {
  return is_rfc2396_unreserved(c) ||
         std::string_view{";/?:@&=+$,[]"}.find(c) != std::string_view::npos;
}

bool keep_in_param_value(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// --- The grammar -----------------------------------------------------------

/// A cursor over the URI text; each `scan_*` consumes one production and
/// returns false when the text does not match it.
class scanner {
public:
  explicit scanner(std::string_view text) : text_(text) {}

  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  std::string_view slice(size_t from) const { return text_.substr(from, pos_ - from); }
  void reset(size_t to) { pos_ = to; }

  bool consume(char c) {
    if (at_end() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }

  /// pct-encoded = "%" HEXDIG HEXDIG
  bool scan_pct() {
    if (peek() == '%' && hex_value(peek(1)) >= 0 && hex_value(peek(2)) >= 0) {
      pos_ += 3;
      return true;
    }
    return false;
  }

  /// One character of `cls`, or one pct-encoded triple.
  template <class Class> bool scan_char(Class cls) {
    if (!at_end() && cls(text_[pos_])) {
      ++pos_;
      return true;
    }
    return scan_pct();
  }

  template <class Class> void scan_many(Class cls) {
    while (scan_char(cls)) {
      // nop
    }
  }

  /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  bool scan_scheme() {
    if (!is_alpha(peek()))
      return false;
    while (!at_end() && (is_alnum(peek()) || peek() == '+' || peek() == '-' || peek() == '.'))
      ++pos_;
    return true;
  }

private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool is_pchar_class(char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

bool is_pchar_no_colon(char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == '@';
}

bool is_query_class(char c) {
  return is_pchar_class(c) || c == '/' || c == '?';
}

bool is_fragment_class(char c) {
  // libxml2 2.9 also lets brackets through in fragments.
  return is_query_class(c) || c == '[' || c == ']';
}

bool is_userinfo_class(char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':';
}

bool is_reg_name_class(char c) {
  return is_unreserved(c) || is_sub_delim(c);
}

/// The raw spans of one URI reference; decoding happens afterwards.
struct raw_parts {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> user;
  std::optional<std::string_view> host; // without brackets
  std::optional<uint32_t> port;
  std::string_view path;
  std::optional<std::string_view> query;
  std::optional<std::string_view> fragment;
};

/// authority = [ userinfo "@" ] host [ ":" port ]
bool scan_authority(scanner& s, raw_parts& out) {
  auto start = s.pos();
  s.scan_many(is_userinfo_class);
  if (s.peek() == '@') {
    out.user = s.slice(start);
    s.consume('@');
  } else {
    s.reset(start);
  }
  if (s.consume('[')) {
    // IP-literal: we accept IPv6 (with an optional zone), not IPvFuture.
    auto lit = s.pos();
    while (s.scan_char([](char c) { return keep_in_ipv6(c) || c == '%'; })) {
      // nop
    }
    auto literal = s.slice(lit);
    if (!s.consume(']') || literal.find(':') == std::string_view::npos)
      return false;
    out.host = literal;
  } else {
    auto host = s.pos();
    s.scan_many(is_reg_name_class);
    if (s.pos() != host)
      out.host = s.slice(host);
  }
  if (s.consume(':')) {
    // libxml2 2.9 wants at least one digit after ':'.
    if (!is_digit(s.peek()))
      return false;
    uint32_t port = 0;
    while (is_digit(s.peek())) {
      port = port * 10 + static_cast<uint32_t>(s.peek() - '0');
      if (port > 65535)
        return false;
      s.consume(s.peek());
    }
    out.port = port;
  }
  return true;
}

/// Scans the path after the authority or scheme, then query and fragment,
/// and requires the end of the text.
bool scan_path_query_fragment(scanner& s, raw_parts& out, bool after_authority, bool no_scheme) {
  auto path = s.pos();
  if (!after_authority && s.peek() != '/') {
    // path-rootless (absolute URI) or path-noscheme (relative reference).
    if (no_scheme)
      s.scan_many(is_pchar_no_colon);
    else
      s.scan_many(is_pchar_class);
  }
  while (s.consume('/'))
    s.scan_many(is_pchar_class);
  out.path = s.slice(path);
  if (s.consume('?')) {
    auto query = s.pos();
    s.scan_many(is_query_class);
    out.query = s.slice(query);
  }
  if (s.consume('#')) {
    auto fragment = s.pos();
    s.scan_many(is_fragment_class);
    out.fragment = s.slice(fragment);
  }
  return s.at_end();
}

/// URI-reference = URI / relative-ref
bool scan_reference(std::string_view text, raw_parts& out) {
  scanner s{text};
  bool no_scheme = true;
  if (s.scan_scheme() && s.peek() == ':') {
    out.scheme = s.slice(0);
    s.consume(':');
    no_scheme = false;
  } else {
    s.reset(0);
  }
  bool after_authority = false;
  if (s.peek() == '/' && s.peek(1) == '/') {
    s.consume('/');
    s.consume('/');
    if (!scan_authority(s, out))
      return false;
    after_authority = true;
  }
  return scan_path_query_fragment(s, out, after_authority, no_scheme);
}

/// Splits a raw query into parameters as libvirt's `virURIParseParams`:
/// a parameter ends at the next '&' or, when there is none left, at ';'.
/// Deviation: a lone "=" is skipped like "=value"; libvirt names a parameter
/// after the whole rest of the query there (a libxml2 quirk).
std::optional<std::vector<uri_param>> split_params(std::string_view query) {
  std::vector<uri_param> params;
  while (!query.empty()) {
    auto end = query.find('&');
    if (end == std::string_view::npos)
      end = query.find(';');
    if (end == std::string_view::npos)
      end = query.size();
    auto part = query.substr(0, end);
    auto eq = part.find('=');
    if (!part.empty() && eq != 0) {
      auto name = percent_decode(part.substr(0, eq));
      auto value = eq == std::string_view::npos ? std::optional<std::string>{std::string{}}
                                                : percent_decode(part.substr(eq + 1));
      if (!name || !value)
        return std::nullopt;
      params.push_back(uri_param{std::move(*name), std::move(*value)});
    }
    query.remove_prefix(end < query.size() ? end + 1 : end);
  }
  return params;
}



} // namespace

// --- uri ---------------------------------------------------------------------

result<uri> parse_uri(std::string_view text) {
  raw_parts raw;
  if (!scan_reference(text, raw))
    return unparsable(text);
  if (!raw.scheme)
    return make_virt_error(error_code::no_connect, error_domain::none,
                           "no connection driver available for URI '" + std::string{text} +
                               "' does not include a driver name");
  uri out;
  out.scheme = std::string{*raw.scheme};
  auto plus = out.scheme.find('+');
  out.driver = out.scheme.substr(0, plus);
  if (plus != std::string::npos)
    out.transport = out.scheme.substr(plus + 1);
  auto decode_into = [&](std::optional<std::string>& field, std::string_view part) {
    auto decoded = percent_decode(part);
    if (!decoded)
      return false;
    field = std::move(*decoded);
    return true;
  };
  // An empty userinfo ("//@host") means no user; libvirt reads garbage there.
  if (raw.user && !raw.user->empty() && !decode_into(out.user, *raw.user))
    return unparsable(text);
  if (raw.host && !decode_into(out.host, *raw.host))
    return unparsable(text);
  if (out.host && raw.port && *raw.port != 0)
    out.port = static_cast<uint16_t>(*raw.port);
  std::optional<std::string> path;
  if (!decode_into(path, raw.path))
    return unparsable(text);
  out.path = std::move(*path);
  if (raw.query) {
    out.query = std::string{*raw.query};
    auto params = split_params(*raw.query);
    if (!params)
      return unparsable(text);
    out.params = std::move(*params);
  }
  if (raw.fragment && !decode_into(out.fragment, *raw.fragment))
    return unparsable(text);
  return out;
}

std::string format_params(const std::vector<uri_param>& params) {
  std::string out;
  for (const auto& p : params) {
    if (!out.empty())
      out.push_back('&');
    out.append(p.name);
    out.push_back('=');
    percent_encode(out, p.value, keep_in_param_value);
  }
  return out;
}

std::string to_string(const uri& x) {
  std::string out = x.scheme;
  out.append("://");
  if (x.user) {
    percent_encode(out, *x.user, keep_in_user);
    out.push_back('@');
  }
  if (x.host) {
    if (x.host->find(':') != std::string::npos) {
      out.push_back('[');
      percent_encode(out, *x.host, keep_in_ipv6);
      out.push_back(']');
    } else {
      percent_encode(out, *x.host, keep_in_host);
    }
  }
  if (x.port && *x.port > 0)
    out.append(":").append(std::to_string(*x.port));
  percent_encode(out, x.path, keep_in_path);
  if (x.query) {
    out.push_back('?');
    out.append(*x.query);
  } else if (!x.params.empty()) {
    out.push_back('?');
    out.append(format_params(x.params));
  }
  if (x.fragment) {
    out.push_back('#');
    percent_encode(out, *x.fragment, keep_in_fragment);
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

} // namespace virtactor
