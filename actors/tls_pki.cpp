#include "actors/tls_pki.hpp"

#include <algorithm>
#include <array>

#include <openssl/ssl.h>
#include <sys/stat.h>

namespace virtactor::tls {

std::string_view to_string(role r) {
  return r == role::server ? "server" : "client";
}

// --- credential files ----------------------------------------------------------

namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

} // namespace

pki_files locate_pki_files(role r, const std::optional<std::string>& pkipath, bool try_user_dir,
                           const std::string& home, const file_exists_fn& exists) {
  const bool server = r == role::server;
  auto in = [server](const std::string& dir) {
    return pki_files{dir + "/cacert.pem", dir + "/cacrl.pem",
                     dir + (server ? "/servercert.pem" : "/clientcert.pem"),
                     dir + (server ? "/serverkey.pem" : "/clientkey.pem")};
  };
  // An explicit directory is used whether the files exist or not.
  if (pkipath)
    return in(*pkipath);
  pki_files f;
  if (try_user_dir) {
    auto has = exists ? exists : file_exists_fn{file_exists};
    auto user = in(home + "/.pki/libvirt");
    if (has(user.ca_cert))
      f.ca_cert = user.ca_cert;
    if (has(user.ca_crl))
      f.ca_crl = user.ca_crl;
    // The certificate and its key only make sense together.
    if (has(user.cert) && has(user.key)) {
      f.cert = user.cert;
      f.key = user.key;
    }
  }
  if (f.ca_cert.empty())
    f.ca_cert = default_ca_cert;
  if (f.ca_crl.empty())
    f.ca_crl = default_ca_crl;
  if (f.cert.empty()) {
    f.cert = server ? default_server_cert : default_client_cert;
    f.key = server ? default_server_key : default_client_key;
  }
  return f;
}

// --- DN wildcards --------------------------------------------------------------

namespace {

/// The offset of the UTF-8 character after the one at `i`.
size_t next_char(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
    ++i;
  return i;
}

} // namespace

bool dn_pattern_matches(std::string_view pattern, std::string_view dn) {
  size_t p = 0;
  size_t s = 0;
  size_t star = std::string_view::npos; // pattern offset after the last '*'
  size_t mark = 0;                      // where that '*' started matching
  while (s < dn.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      mark = s;
    } else if (p < pattern.size() && pattern[p] == '?') {
      ++p;
      s = next_char(dn, s);
    } else if (p < pattern.size() && pattern[p] == dn[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      // Let the last '*' swallow one more character and retry.
      p = star;
      mark = next_char(dn, mark);
      s = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool dn_allowed(const std::vector<std::string>& allowed, std::string_view dn) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [dn](const std::string& pattern) { return dn_pattern_matches(pattern, dn); });
}

// --- GnuTLS priority strings -----------------------------------------------------

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos)
      return out;
    start = end + 1;
  }
}

/// TLS 1.0 ... 1.3, oldest first, with their GnuTLS names.
constexpr std::array<std::pair<std::string_view, int>, 4> versions{{
    {"TLS1.0", TLS1_VERSION},
    {"TLS1.1", TLS1_1_VERSION},
    {"TLS1.2", TLS1_2_VERSION},
    {"TLS1.3", TLS1_3_VERSION},
}};

struct base_keyword {
  std::string_view name;
  std::string_view cipher_list;
  std::string_view ciphersuites;
};

// The cipher choices of GnuTLS's base keywords in OpenSSL's words.
constexpr std::array<base_keyword, 8> base_keywords{{
    {"NORMAL", "", ""},
    {"PERFORMANCE", "", ""},
    {"PFS", "HIGH:!kRSA:!kPSK:!kSRP:!aNULL:!eNULL:!MD5", ""},
    {"SECURE128", "HIGH:!aNULL:!eNULL:!MD5:!3DES", ""},
    {"SECURE192", "AES256+ECDHE:AES256+DHE:!aNULL:!eNULL:!SHA1",
     "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"},
    {"SECURE256", "AES256+ECDHE:AES256+DHE:!aNULL:!eNULL:!SHA1",
     "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"},
    {"SUITEB128", "SUITEB128", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"},
    {"SUITEB192", "SUITEB192", "TLS_AES_256_GCM_SHA384"},
}};

// GnuTLS certificate profiles and the OpenSSL security level of the same strength.
constexpr std::array<std::pair<std::string_view, int>, 6> profiles{{
    {"%PROFILE_LOW", 1},
    {"%PROFILE_LEGACY", 1},
    {"%PROFILE_MEDIUM", 2},
    {"%PROFILE_HIGH", 3},
    {"%PROFILE_ULTRA", 4},
    {"%PROFILE_FUTURE", 5},
}};

} // namespace

priority_settings default_priority() {
  priority_settings s;
  s.min_version = TLS1_2_VERSION;
  return s;
}

result<priority_settings> parse_priority(std::string_view text) {
  auto fail = [text](const std::string& why) {
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Failed to set TLS session priority to " + std::string{text} + ": " +
                               why);
  };
  auto tokens = split(text, ':');
  auto base = tokens.front();
  priority_settings s = default_priority();
  if (base.empty())
    return fail("the priority string names no base keyword (e.g. NORMAL)");
  if (base.front() == '@') {
    // A system-wide GnuTLS keyword with fallbacks: only the system default
    // itself has a counterpart (OpenSSL's own system configuration).
    auto names = split(base.substr(1), ',');
    if (std::none_of(names.begin(), names.end(), [](auto n) { return iequals(n, "SYSTEM"); }))
      return fail("'" + std::string{base} +
                  "' names GnuTLS system keywords virtactor cannot read; use @SYSTEM or a "
                  "base keyword such as NORMAL");
  } else {
    auto i = std::find_if(base_keywords.begin(), base_keywords.end(),
                          [base](const base_keyword& k) { return iequals(k.name, base); });
    if (i == base_keywords.end())
      return fail("'" + std::string{base} +
                  "' is not a base keyword virtactor maps to OpenSSL (NORMAL, PERFORMANCE, PFS, "
                  "SECURE128, SECURE192, SECURE256, SUITEB128, SUITEB192, @SYSTEM)");
    s.cipher_list = i->cipher_list;
    s.ciphersuites = i->ciphersuites;
  }
  // Versions offered: TLS 1.2 and 1.3 unless the string says otherwise.
  std::array<bool, versions.size()> offered{false, false, true, true};
  bool versions_changed = false;
  for (size_t t = 1; t < tokens.size(); ++t) {
    auto tok = tokens[t];
    if (tok.empty())
      continue;
    if (tok.size() > 6 && (tok[0] == '+' || tok[0] == '-' || tok[0] == '!') &&
        iequals(tok.substr(1, 5), "VERS-")) {
      bool add = tok[0] == '+';
      auto name = tok.substr(6);
      if (iequals(name, "ALL") || iequals(name, "TLS-ALL")) {
        offered.fill(add);
        versions_changed = true;
      } else if (iequals(name.substr(0, 4), "DTLS")) {
        // nop: datagram TLS is not a libvirt transport
      } else if (iequals(name, "SSL3.0")) {
        if (add)
          return fail("SSL 3.0 is insecure and not offered");
      } else {
        auto v = std::find_if(versions.begin(), versions.end(),
                              [name](auto& x) { return iequals(x.first, name); });
        if (v == versions.end())
          return fail("unknown protocol version '" + std::string{name} + "'");
        offered[static_cast<size_t>(v - versions.begin())] = add;
        versions_changed = true;
      }
    } else if (iequals(tok, "%SERVER_PRECEDENCE")) {
      s.server_precedence = true;
    } else if (iequals(tok, "%NO_TICKETS")) {
      s.no_tickets = true;
    } else if (iequals(tok, "%COMPAT") || iequals(tok, "%SAFE_RENEGOTIATION") ||
               iequals(tok, "%PARTIAL_RENEGOTIATION")) {
      // nop: renegotiation is always refused, and OpenSSL is compatible already
    } else if (auto p = std::find_if(profiles.begin(), profiles.end(),
                                     [tok](auto& x) { return iequals(x.first, tok); });
               p != profiles.end()) {
      s.security_level = p->second;
    } else {
      return fail("'" + std::string{tok} +
                  "' has no OpenSSL equivalent in virtactor (only versions, "
                  "%SERVER_PRECEDENCE, %NO_TICKETS, %COMPAT and %PROFILE_* modify a base keyword)");
    }
  }
  if (versions_changed) {
    auto first = std::find(offered.begin(), offered.end(), true);
    if (first == offered.end())
      return fail("no protocol version is left");
    auto last = std::find(offered.rbegin(), offered.rend(), true).base() - 1;
    if (std::find(first, last, false) != last)
      return fail("OpenSSL can only offer a contiguous range of protocol versions");
    s.min_version = versions[static_cast<size_t>(first - offered.begin())].second;
    s.max_version = versions[static_cast<size_t>(last - offered.begin())].second;
  }
  return s;
}

} // namespace virtactor::tls
