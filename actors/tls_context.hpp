/// TLS contexts on OpenSSL for both ends of the tls transport: libvirt's
/// loading of credentials and sanity checks of our own certificates, and its
/// checks of the peer's certificate after a handshake.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/tls_pki.hpp"
#include "protocol/error.hpp"

// OpenSSL's types, without its headers.
struct ssl_ctx_st;
struct ssl_st;
struct x509_st;
struct X509_name_st;

namespace virtactor::tls {

/// How to build a context.
struct context_options {
  tls::role role = tls::role::client;
  pki_files files;
  /// Check our own certificate and the CA certificates before use (libvirt's
  /// sanity checks; off with `no_sanity=1` / `tls_no_sanity_certificate`).
  bool sanity_check = true;
  /// Refuse a peer whose certificate fails the checks (off with
  /// `no_verify=1` / `tls_no_verify_certificate`: the peer is let in anyway).
  bool require_valid_peer = true;
  /// Server only: the client DNs let in (wildcards). Absent: no DN check;
  /// empty: nobody.
  std::optional<std::vector<std::string>> allowed_dns;
  /// A GnuTLS priority string (`tls_priority`); absent: the default.
  std::optional<std::string> priority;
};

/// What the checks found out about a peer.
struct peer_check {
  /// The peer certificate's DN as GnuTLS prints it; empty without one.
  std::string dn;
  /// Empty when the certificate passed; otherwise why it did not.
  std::string failure;
};

/// One side's TLS configuration: an OpenSSL `SSL_CTX` with our credentials,
/// the trusted CAs and the revocation list, shared by all its sessions.
class context {
public:
  /// Builds a context as libvirt's virNetTLSContextNew does: sanity checks
  /// first (when asked), then the CA certificate (required), the CRL (when
  /// present), our certificate and key (required for a server; a client
  /// without them connects without a certificate). Errors carry libvirt's
  /// codes and messages, e.g. VIR_ERR_SYSTEM_ERROR "Cannot read CA
  /// certificate '/x/cacert.pem': No such file or directory".
  static result<std::shared_ptr<context>> make(const context_options& opts);

  ~context();
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  const context_options& options() const { return opts_; }

  /// libvirt's checks of the peer's certificate on the established `ssl`: a
  /// certificate exists, chains to our CA, is not revoked, every certificate
  /// of the chain is within its validity period, it names `hostname` (clients
  /// pass the host they connected to; servers pass nothing), its DN is
  /// allowed (servers with an allow-list), it is no CA and its key usage and
  /// purpose fit its role.
  peer_check check_peer(ssl_st* ssl, const std::optional<std::string>& hostname) const;

private:
  context(ssl_ctx_st* ctx, context_options opts);

  ssl_ctx_st* ctx_;
  context_options opts_;
};

/// `name` as GnuTLS's `gnutls_x509_crt_get_dn` prints it (what libvirt matches
/// `tls_allowed_dn_list` against and `virt-pki-query-dn` shows): the RDNs in
/// certificate order joined by ',', multi-valued RDNs by '+', GnuTLS's
/// attribute names (C, ST, L, O, OU, CN, DC, UID, EMAIL, ...), RFC 4514
/// escapes, unknown attributes as OID=#hex.
std::string format_dn(const X509_name_st* name);

/// The subject DN of `cert` (see `format_dn`).
std::string subject_dn(const x509_st* cert);

/// The reason OpenSSL gave for its last failure, for messages ("" if none);
/// clears OpenSSL's error queue of this thread.
std::string last_openssl_error();

} // namespace virtactor::tls
