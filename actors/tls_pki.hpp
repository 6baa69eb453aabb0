/// The parts of the tls transport that need no OpenSSL: where libvirt looks
/// for certificates and keys, its DN allow-list wildcards, and GnuTLS
/// priority strings translated into OpenSSL settings.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::tls {

/// Which end of a connection a context serves.
enum class role : uint8_t { client, server };

/// "client" or "server", as libvirt's messages name them.
std::string_view to_string(role r);

/// One side's credentials in libvirt's layout. An empty path loads nothing.
struct pki_files {
  /// The CA certificate(s) that signed the peer's certificate (PEM, up to 16).
  std::string ca_cert;
  /// The CA's revocation list; a missing file is skipped.
  std::string ca_crl;
  /// Our certificate (PEM; a chain may follow it).
  std::string cert;
  /// Our private key (PEM).
  std::string key;

  bool operator==(const pki_files&) const = default;
};

/// libvirt's system-wide locations.
inline constexpr const char* default_ca_cert = "/etc/pki/CA/cacert.pem";
inline constexpr const char* default_ca_crl = "/etc/pki/CA/cacrl.pem";
inline constexpr const char* default_client_cert = "/etc/pki/libvirt/clientcert.pem";
inline constexpr const char* default_client_key = "/etc/pki/libvirt/private/clientkey.pem";
inline constexpr const char* default_server_cert = "/etc/pki/libvirt/servercert.pem";
inline constexpr const char* default_server_key = "/etc/pki/libvirt/private/serverkey.pem";

/// Tells whether a file exists; tests pass a fake.
using file_exists_fn = std::function<bool(const std::string&)>;

/// Where libvirt 9.0 looks for `r`'s credentials (virNetTLSContextLocateCredentials):
/// - `pkipath` given: cacert.pem, cacrl.pem and client|server cert.pem/key.pem
///   there, whether they exist or not;
/// - else, with `try_user_dir` (clients and daemons not running as root):
///   `home`/.pki/libvirt, where the CA certificate and the CRL each fall back
///   to the system file on their own, and the certificate and key as a pair;
/// - else the system files under /etc/pki.
/// `exists` defaults to the real filesystem.
pki_files locate_pki_files(role r, const std::optional<std::string>& pkipath, bool try_user_dir,
                           const std::string& home, const file_exists_fn& exists = {});

/// libvirt's DN wildcard (GLib's `g_pattern_match_simple`): '*' matches any
/// run of characters, '?' one character (UTF-8 aware), all else itself.
bool dn_pattern_matches(std::string_view pattern, std::string_view dn);

/// True when `dn` matches an entry of `allowed` (an empty list lets no one in).
bool dn_allowed(const std::vector<std::string>& allowed, std::string_view dn);

/// What a GnuTLS priority string means for an OpenSSL context.
struct priority_settings {
  /// Lowest and highest protocol version as OpenSSL numbers them
  /// (TLS1_2_VERSION ...).
  int min_version = 0;
  int max_version = 0;
  /// OpenSSL cipher list for TLS 1.2 and older; empty: OpenSSL's default.
  std::string cipher_list;
  /// OpenSSL TLS 1.3 cipher suites; empty: OpenSSL's default.
  std::string ciphersuites;
  /// OpenSSL security level; -1 keeps the system's.
  int security_level = -1;
  /// The server picks the cipher (%SERVER_PRECEDENCE).
  bool server_precedence = false;
  /// No session tickets (%NO_TICKETS).
  bool no_tickets = false;

  bool operator==(const priority_settings&) const = default;
};

/// The priority used when none is configured: GnuTLS's "NORMAL", with TLS 1.2
/// as the oldest version offered.
priority_settings default_priority();

/// Translates the GnuTLS priority string `text` (libvirt's `tls_priority`)
/// into OpenSSL settings. Understood: the base keywords NORMAL, PERFORMANCE,
/// PFS, SECURE128, SECURE192, SECURE256, SUITEB128, SUITEB192 and @SYSTEM (or
/// a "@NAME,...,SYSTEM" fallback list); then `+VERS-…`/`-VERS-…` for TLS1.0 to
/// TLS1.3 and ALL (SSL3.0 and DTLS are ignored), %SERVER_PRECEDENCE,
/// %NO_TICKETS, %COMPAT, %SAFE_RENEGOTIATION, %PARTIAL_RENEGOTIATION and
/// %PROFILE_LOW … %PROFILE_FUTURE. Anything else (single algorithms, NONE,
/// unsafe renegotiation) has no faithful OpenSSL translation and is refused:
/// VIR_ERR_SYSTEM_ERROR "Failed to set TLS session priority to X: <why>".
result<priority_settings> parse_priority(std::string_view text);

} // namespace virtactor::tls
