#include "daemon/config.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <fcntl.h>
#include <unistd.h>

namespace virtactor::daemon {

namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool is_eol(char c) {
  return c == '\n' || c == '\r';
}

std::string at_line(int line, std::string_view detail) {
  return "config line " + std::to_string(line) + ": " + std::string{detail};
}

virt_error syntax_error(int line, std::string_view detail) {
  return make_virt_error(error_code::conf_syntax, error_domain::conf, at_line(line, detail));
}

std::string quoted(std::string_view name) {
  return "'" + std::string{name} + "'";
}

// --- The virConf grammar -----------------------------------------------------

class conf_parser {
public:
  explicit conf_parser(std::string_view text) : text_(text) {}

  result<std::vector<conf_entry>> run() {
    std::vector<conf_entry> entries;
    for (;;) {
      skip_blanks_and_eols();
      if (at_end())
        return entries;
      if (peek() == '#') {
        skip_comment();
        continue;
      }
      auto entry = parse_statement();
      if (!entry)
        return entry.error();
      entries.push_back(std::move(*entry));
    }
  }

private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  void skip_blanks() {
    while (!at_end() && is_blank(peek()))
      ++pos_;
  }

  void skip_blanks_and_eols() {
    while (!at_end() && (is_blank(peek()) || is_eol(peek()))) {
      if (peek() == '\n')
        ++line_;
      ++pos_;
    }
  }

  /// From '#' to the end of the line, leaving the line end.
  void skip_comment() {
    while (!at_end() && !is_eol(peek()))
      ++pos_;
  }

  /// Between list elements: blanks, line ends and (our extension) comments.
  void skip_list_space() {
    for (;;) {
      skip_blanks_and_eols();
      if (peek() != '#' || at_end())
        return;
      skip_comment();
    }
  }

  result<conf_entry> parse_statement() {
    conf_entry entry;
    entry.line = line_;
    if (!is_alpha(peek()))
      return syntax_error(line_, "expected a key name, found '" + std::string(1, peek()) + "'");
    auto start = pos_;
    while (!at_end() && (is_alpha(peek()) || is_digit(peek()) || peek() == '_'))
      ++pos_;
    entry.name = std::string{text_.substr(start, pos_ - start)};
    skip_blanks();
    if (peek() != '=' || at_end())
      return syntax_error(line_, "expected '=' after " + quoted(entry.name));
    ++pos_;
    auto value = parse_value(entry.name);
    if (!value)
      return value.error();
    entry.value = std::move(*value);
    skip_blanks();
    if (peek() == '#' && !at_end())
      skip_comment();
    if (at_end() || is_eol(peek()))
      return entry;
    if (peek() == ';') {
      ++pos_;
      return entry;
    }
    return syntax_error(line_, "unexpected text after the value of " + quoted(entry.name));
  }

  result<conf_value> parse_value(const std::string& key) {
    skip_blanks();
    conf_value value;
    value.line = line_;
    if (at_end() || is_eol(peek()))
      return syntax_error(line_, "expected a value for " + quoted(key));
    char c = peek();
    if (c == '"' || c == '\'') {
      auto text = parse_string(key);
      if (!text)
        return text.error();
      value.type = conf_value::kind::string;
      value.text = std::move(*text);
      return value;
    }
    if (c == '[')
      return parse_list(key, std::move(value));
    if (is_digit(c) || c == '-' || c == '+')
      return parse_number(key, std::move(value));
    auto start = pos_;
    while (!at_end() && (is_alpha(peek()) || is_digit(peek()) || peek() == '_'))
      ++pos_;
    auto word = text_.substr(start, pos_ - start);
    for (std::string_view boolean : {"true", "false", "yes", "no", "on", "off"}) {
      if (word == boolean)
        return syntax_error(line_, "expected a value for " + quoted(key) +
                                       ": booleans are written 0 or 1");
    }
    return syntax_error(line_, "expected a value for " + quoted(key) +
                                   " (a quoted string, an integer or a list)");
  }

  result<std::string> parse_string(const std::string& key) {
    int start_line = line_;
    if (text_.substr(pos_, 3) == R"(""")") {
      auto end = text_.find(R"(""")", pos_ + 3);
      if (end == std::string_view::npos)
        return syntax_error(start_line, "unterminated string for " + quoted(key));
      std::string out{text_.substr(pos_ + 3, end - pos_ - 3)};
      for (char ch : out)
        line_ += ch == '\n' ? 1 : 0;
      pos_ = end + 3;
      return out;
    }
    char quote = peek();
    auto start = ++pos_;
    while (!at_end() && peek() != quote && !is_eol(peek()))
      ++pos_;
    if (at_end() || peek() != quote)
      return syntax_error(start_line, "unterminated string for " + quoted(key));
    std::string out{text_.substr(start, pos_ - start)};
    ++pos_;
    return out;
  }

  result<conf_value> parse_list(const std::string& key, conf_value value) {
    int start_line = line_;
    value.type = conf_value::kind::list;
    // No setting takes nested lists; the bound keeps hostile files off the stack.
    if (depth_ == max_list_depth)
      return syntax_error(line_, "lists nest too deeply for " + quoted(key));
    ++depth_;
    ++pos_; // '['
    skip_list_space();
    while (!at_end() && peek() != ']') {
      auto item = parse_value(key);
      if (!item)
        return item.error();
      value.items.push_back(std::move(*item));
      skip_list_space();
      if (at_end() || peek() == ']')
        break;
      if (peek() != ',')
        return syntax_error(line_, "expected ',' or ']' in the list for " + quoted(key));
      ++pos_;
      skip_list_space();
    }
    if (at_end())
      return syntax_error(start_line, "the list for " + quoted(key) + " is not closed with ']'");
    ++pos_; // ']'
    --depth_;
    return value;
  }

  result<conf_value> parse_number(const std::string& key, conf_value value) {
    value.type = conf_value::kind::integer;
    if (peek() == '-' || peek() == '+')
      value.negative = text_[pos_++] == '-';
    if (!is_digit(peek()) || at_end())
      return syntax_error(line_, "expected digits in the number for " + quoted(key));
    constexpr auto max = std::numeric_limits<uint64_t>::max();
    while (!at_end() && is_digit(peek())) {
      auto digit = static_cast<uint64_t>(peek() - '0');
      if (value.number > (max - digit) / 10)
        return syntax_error(line_, "the number for " + quoted(key) + " is too large");
      value.number = value.number * 10 + digit;
      ++pos_;
    }
    return value;
  }

  static constexpr int max_list_depth = 32;

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int depth_ = 0;
};

// --- Typed settings ---------------------------------------------------------

virt_error bad_value(const conf_value& v, std::string_view detail) {
  return make_virt_error(error_code::conf_syntax, error_domain::conf, at_line(v.line, detail));
}

result<void> read_bool(const conf_entry& e, bool& out) {
  const auto& v = e.value;
  if (v.type != conf_value::kind::integer || v.negative || v.number > 1)
    return bad_value(v, "expected 0 or 1 for " + quoted(e.name));
  out = v.number == 1;
  return {};
}

/// An integer in [lo, hi].
result<void> read_integer(const conf_entry& e, long long lo, unsigned long long hi,
                          long long& out) {
  const auto& v = e.value;
  if (v.type != conf_value::kind::integer)
    return bad_value(v, "expected an integer for " + quoted(e.name));
  if (v.negative && lo >= 0)
    return bad_value(v, "expected a non-negative integer for " + quoted(e.name));
  bool too_small = v.negative && v.number > static_cast<unsigned long long>(-(lo + 1)) + 1;
  bool too_large = !v.negative && v.number > hi;
  if (too_small || too_large)
    return bad_value(v, quoted(e.name) + " must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi));
  out = v.negative ? -static_cast<long long>(v.number - 1) - 1 : static_cast<long long>(v.number);
  return {};
}

result<void> read_uint(const conf_entry& e, uint32_t& out) {
  long long x = 0;
  auto ok = read_integer(e, 0, std::numeric_limits<uint32_t>::max(), x);
  if (ok)
    out = static_cast<uint32_t>(x);
  return ok;
}

result<void> read_int(const conf_entry& e, int32_t& out) {
  long long x = 0;
  auto ok =
      read_integer(e, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), x);
  if (ok)
    out = static_cast<int32_t>(x);
  return ok;
}

result<void> read_string(const conf_entry& e, std::optional<std::string>& out) {
  if (e.value.type != conf_value::kind::string)
    return bad_value(e.value, "expected a quoted string for " + quoted(e.name));
  out = e.value.text;
  return {};
}

result<void> read_string_list(const conf_entry& e, std::optional<std::vector<std::string>>& out) {
  const auto& v = e.value;
  if (v.type != conf_value::kind::list)
    return bad_value(v, "expected a list of quoted strings for " + quoted(e.name));
  std::vector<std::string> items;
  for (const auto& item : v.items) {
    if (item.type != conf_value::kind::string)
      return bad_value(item, "expected a list of quoted strings for " + quoted(e.name));
    items.push_back(item.text);
  }
  out = std::move(items);
  return {};
}

/// libvirtd writes ports as strings; bare integers are accepted as well.
result<void> read_port(const conf_entry& e, uint16_t& out) {
  const auto& v = e.value;
  if (v.type == conf_value::kind::integer) {
    long long x = 0;
    auto ok = read_integer(e, 0, 65535, x);
    if (ok)
      out = static_cast<uint16_t>(x);
    return ok;
  }
  if (v.type != conf_value::kind::string || v.text.empty())
    return bad_value(v, "expected an integer for " + quoted(e.name));
  unsigned long port = 0;
  for (char c : v.text) {
    if (!is_digit(c))
      return bad_value(v, "expected an integer for " + quoted(e.name));
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535)
      return bad_value(v, quoted(e.name) + " must be between 0 and 65535");
  }
  out = static_cast<uint16_t>(port);
  return {};
}

result<void> read_perms(const conf_entry& e, uint32_t& out) {
  const auto& v = e.value;
  auto refuse = [&] {
    return bad_value(v,
                     "expected an octal mode in quotes, such as \"0770\", for " + quoted(e.name));
  };
  if (v.type != conf_value::kind::string || v.text.empty() || v.text.size() > 5)
    return refuse();
  uint32_t mode = 0;
  for (char c : v.text) {
    if (c < '0' || c > '7')
      return refuse();
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (mode > 07777)
    return refuse();
  out = mode;
  return {};
}

result<void> read_auth(const conf_entry& e, auth_method& out) {
  const auto& v = e.value;
  if (v.type != conf_value::kind::string)
    return bad_value(v, "expected a quoted string for " + quoted(e.name));
  if (v.text == "none" || v.text == "sasl") {
    out = v.text == "none" ? auth_method::none : auth_method::sasl;
    return {};
  }
  auto detail = v.text == "polkit"
                    ? "auth \"polkit\" for " + quoted(e.name) +
                          " is not supported: virtactord has no polkit; use \"none\" or \"sasl\""
                    : "unknown auth \"" + v.text + "\" for " + quoted(e.name) +
                          " (libvirt knows none, sasl and polkit; virtactord supports none and "
                          "sasl)";
  return make_virt_error(error_code::config_unsupported, error_domain::conf,
                         at_line(v.line, detail));
}

result<void> read_max_workers(const conf_entry& e, uint32_t& out) {
  uint32_t x = 0;
  auto ok = read_uint(e, x);
  if (!ok)
    return ok;
  if (x < 1)
    return bad_value(e.value, "'max_workers' must be greater than 0");
  out = x;
  return {};
}

result<void> read_log_level(const conf_entry& e, uint32_t& out) {
  uint32_t x = 0;
  auto ok = read_uint(e, x);
  if (!ok)
    return ok;
  if (x > 4)
    return bad_value(e.value, "'log_level' must be 1 (debug), 2 (info), 3 (warning), 4 (error) "
                              "or 0 (keep the default)");
  if (x != 0)
    out = x;
  return {};
}

/// 32 hex digits, alone or grouped 8-4-4-4-12; not all bytes equal (libvirt
/// refuses such host UUIDs).
result<void> read_host_uuid(const conf_entry& e, std::optional<std::string>& out) {
  std::optional<std::string> text;
  auto ok = read_string(e, text);
  if (!ok)
    return ok;
  auto refuse = [&](std::string_view why) {
    return bad_value(e.value,
                     "invalid UUID \"" + *text + "\" for 'host_uuid': " + std::string{why});
  };
  std::string digits;
  bool grouped = text->size() == 36;
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    bool dash_here = grouped && (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash_here) {
      if (c != '-')
        return refuse("expected the form 01234567-89ab-cdef-0123-456789abcdef");
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return refuse("expected the form 01234567-89ab-cdef-0123-456789abcdef");
    digits.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (digits.size() != 32)
    return refuse("expected the form 01234567-89ab-cdef-0123-456789abcdef");
  bool uniform = true;
  for (size_t i = 2; i < digits.size(); i += 2)
    uniform = uniform && digits.compare(i, 2, digits, 0, 2) == 0;
  if (uniform)
    return refuse("all its bytes are equal");
  out = *text;
  return {};
}

// --- Security keys -----------------------------------------------------------

result<void> read_uint64(const conf_entry& e, uint64_t& out) {
  long long x = 0;
  auto ok = read_integer(e, 0, static_cast<unsigned long long>(std::numeric_limits<long long>::max()),
                         x);
  if (ok)
    out = static_cast<uint64_t>(x);
  return ok;
}

/// libvirtd: "minimum SSF levels lower than 56 are not supported".
result<void> read_tcp_min_ssf(const conf_entry& e, uint32_t& out) {
  uint32_t x = 0;
  auto ok = read_uint(e, x);
  if (!ok)
    return ok;
  if (x < 56)
    return bad_value(e.value, "minimum SSF levels lower than 56 are not supported");
  out = x;
  return {};
}

/// A bound that must leave room for at least one message of libvirt's
/// largest size (32 MiB + 4).
result<void> read_message_bound(const conf_entry& e, uint64_t& out) {
  uint64_t x = 0;
  auto ok = read_uint64(e, x);
  if (!ok)
    return ok;
  constexpr uint64_t one_message = 32 * 1024 * 1024 + 4;
  if (x < one_message)
    return bad_value(e.value, quoted(e.name) + " must be at least " +
                                  std::to_string(one_message) + " (one message of libvirt's "
                                  "largest size)");
  out = x;
  return {};
}

/// A count or size that must not be zero.
template <class T>
result<void> read_positive(const conf_entry& e, T& out) {
  uint64_t x = 0;
  auto ok = read_uint64(e, x);
  if (!ok)
    return ok;
  if (x == 0 || x > std::numeric_limits<T>::max())
    return bad_value(e.value, quoted(e.name) + " must be between 1 and " +
                                  std::to_string(std::numeric_limits<T>::max()));
  out = static_cast<T>(x);
  return {};
}

using reader = result<void> (*)(const conf_entry&, daemon_config&);

struct key_reader {
  std::string_view name;
  reader read;
};

// Each key reads into the field of the same name.
// clang-format off
#define VA_CONFIG_KEY(field, read) \
  key_reader{#field, [](const conf_entry& e, daemon_config& c) { return read(e, c.field); }}
// clang-format on

constexpr key_reader key_readers[] = {
    VA_CONFIG_KEY(listen_tcp, read_bool),
    VA_CONFIG_KEY(listen_tls, read_bool),
    VA_CONFIG_KEY(listen_addr, read_string),
    VA_CONFIG_KEY(tcp_port, read_port),
    VA_CONFIG_KEY(tls_port, read_port),
    VA_CONFIG_KEY(unix_sock_dir, read_string),
    VA_CONFIG_KEY(unix_sock_group, read_string),
    VA_CONFIG_KEY(unix_sock_ro_perms, read_perms),
    VA_CONFIG_KEY(unix_sock_rw_perms, read_perms),
    VA_CONFIG_KEY(auth_unix_rw, read_auth),
    VA_CONFIG_KEY(auth_unix_ro, read_auth),
    VA_CONFIG_KEY(auth_tcp, read_auth),
    VA_CONFIG_KEY(auth_tls, read_auth),
    VA_CONFIG_KEY(key_file, read_string),
    VA_CONFIG_KEY(cert_file, read_string),
    VA_CONFIG_KEY(ca_file, read_string),
    VA_CONFIG_KEY(crl_file, read_string),
    VA_CONFIG_KEY(tls_no_verify_certificate, read_bool),
    VA_CONFIG_KEY(tls_no_sanity_certificate, read_bool),
    VA_CONFIG_KEY(tls_allowed_dn_list, read_string_list),
    VA_CONFIG_KEY(tls_priority, read_string),
    VA_CONFIG_KEY(max_clients, read_uint),
    VA_CONFIG_KEY(max_queued_clients, read_uint),
    VA_CONFIG_KEY(max_anonymous_clients, read_uint),
    VA_CONFIG_KEY(min_workers, read_uint),
    VA_CONFIG_KEY(max_workers, read_max_workers),
    VA_CONFIG_KEY(prio_workers, read_uint),
    VA_CONFIG_KEY(max_requests, read_uint),
    VA_CONFIG_KEY(max_client_requests, read_uint),
    VA_CONFIG_KEY(keepalive_interval, read_int),
    VA_CONFIG_KEY(keepalive_count, read_uint),
    VA_CONFIG_KEY(log_level, read_log_level),
    VA_CONFIG_KEY(log_filters, read_string),
    VA_CONFIG_KEY(log_outputs, read_string),
    VA_CONFIG_KEY(host_uuid, read_host_uuid),
    VA_CONFIG_KEY(qemu_config_dir, read_string),
    VA_CONFIG_KEY(qemu_run_dir, read_string),
    VA_CONFIG_KEY(qemu_lib_dir, read_string),
    VA_CONFIG_KEY(qemu_log_dir, read_string),
    VA_CONFIG_KEY(qemu_emulator, read_string),
    VA_CONFIG_KEY(qemu_monitor_timeout_ms, read_uint),
    VA_CONFIG_KEY(qemu_stats_timeout_ms, read_uint),
    VA_CONFIG_KEY(qemu_destroy_grace_ms, read_uint),
    VA_CONFIG_KEY(qemu_autostart, read_bool),
    VA_CONFIG_KEY(qemu_user, read_string),
    VA_CONFIG_KEY(qemu_group, read_string),
    VA_CONFIG_KEY(qemu_dynamic_ownership, read_bool),
    // Security (daemon_config's block of the same name).
    VA_CONFIG_KEY(sasl_allowed_username_list, read_string_list),
    VA_CONFIG_KEY(tcp_min_ssf, read_tcp_min_ssf),
    VA_CONFIG_KEY(max_client_pending_calls, read_positive<uint32_t>),
    VA_CONFIG_KEY(max_client_pending_bytes, read_positive<uint64_t>),
    VA_CONFIG_KEY(max_client_unsent_bytes, read_positive<uint64_t>),
    VA_CONFIG_KEY(max_client_unsent_bytes_hard, read_message_bound),
    VA_CONFIG_KEY(allow_test_driver_files, read_bool),
    VA_CONFIG_KEY(max_test_driver_file_size, read_positive<uint64_t>),
    VA_CONFIG_KEY(max_xml_size, read_positive<uint64_t>),
    VA_CONFIG_KEY(max_xml_depth, read_positive<uint32_t>),
    VA_CONFIG_KEY(max_error_length, read_positive<uint32_t>),
};

#undef VA_CONFIG_KEY

/// libvirtd settings virtactord does not implement: read by libvirtd, ignored here with a warning.
constexpr std::string_view unsupported_keys[] = {
    "access_drivers", "audit_level", "audit_logging", "host_uuid_source", "ovs_timeout",
};

/// The admin interface is not implemented; its settings are ignored silently.
bool is_admin_key(std::string_view name) {
  return name.starts_with("admin_") || name == "unix_sock_admin_perms";
}

} // namespace

result<std::vector<conf_entry>> parse_conf(std::string_view text) {
  return conf_parser{text}.run();
}

std::string_view to_string(auth_method x) {
  switch (x) {
    case auth_method::sasl:
      return "sasl";
    case auth_method::polkit:
      return "polkit";
    case auth_method::none:
      break;
  }
  return "none";
}

result<daemon_config> parse_config(std::string_view text, std::vector<std::string>& warnings) {
  auto entries = parse_conf(text);
  if (!entries)
    return entries.error();
  daemon_config config;
  std::unordered_map<std::string_view, int> first_line;
  for (const auto& entry : *entries) {
    if (auto [it, fresh] = first_line.emplace(entry.name, entry.line); !fresh) {
      warnings.push_back(at_line(entry.line, quoted(entry.name) +
                                                 " is set again; the setting "
                                                 "on line " +
                                                 std::to_string(it->second) +
                                                 " applies (the first wins, as in libvirtd)"));
      continue;
    }
    if (is_admin_key(entry.name))
      continue;
    bool known = false;
    for (const auto& k : key_readers) {
      if (k.name == entry.name) {
        auto ok = k.read(entry, config);
        if (!ok)
          return ok.error();
        known = true;
        break;
      }
    }
    if (known)
      continue;
    bool unsupported = false;
    for (auto name : unsupported_keys)
      unsupported = unsupported || name == entry.name;
    warnings.push_back(
        at_line(entry.line, unsupported ? quoted(entry.name) + " is not supported by virtactord; "
                                                               "ignored"
                                        : "unknown key " + quoted(entry.name) + " ignored"));
  }
  return config;
}

namespace {

constexpr size_t max_config_size = 10 * 1024 * 1024;

/// Closes a file descriptor when it goes out of scope.
class fd_owner {
public:
  explicit fd_owner(int fd) : fd_(fd) {}
  fd_owner(const fd_owner&) = delete;
  fd_owner& operator=(const fd_owner&) = delete;
  ~fd_owner() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const { return fd_; }

private:
  int fd_;
};

virt_error file_error(std::string_view what, const std::string& path, int err) {
  return make_virt_error(error_code::system_error, error_domain::none,
                         std::string{what} + " '" + path + "': " + std::strerror(err));
}

} // namespace

result<daemon_config> load_config(const std::string& path, std::vector<std::string>& warnings) {
  fd_owner fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.get() < 0)
    return file_error("Failed to open file", path, errno);
  std::string text;
  char buffer[65536];
  for (;;) {
    auto n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return file_error("Failed to read file", path, errno);
    if (n == 0)
      break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_config_size)
      return make_virt_error(error_code::system_error, error_domain::none,
                             "Failed to read file '" + path + "': larger than 10 MiB");
  }
  std::vector<std::string> local;
  auto config = parse_config(text, local);
  for (auto& w : local)
    warnings.push_back(path + ": " + w);
  if (!config) {
    auto err = config.error();
    err.message = path + ": " + err.message;
    return err;
  }
  return config;
}

} // namespace virtactor::daemon
