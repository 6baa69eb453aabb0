#include "actors/tls_context.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

namespace virtactor::tls {

namespace {

// --- small owners -------------------------------------------------------------

struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

struct store_free {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* s) const { X509_STORE_CTX_free(s); }
};
struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};

virt_error sys_error(std::string message) {
  return make_virt_error(error_code::system_error, error_domain::rpc, std::move(message));
}

// --- files ----------------------------------------------------------------------

/// libvirt's virNetTLSContextCheckCertFile: 0 when `path` exists, 1 when it
/// does not but may be missing, an error otherwise.
result<int> check_file(const char* type, const std::string& path, bool allow_missing) {
  if (::access(path.c_str(), F_OK) == 0)
    return 0;
  int err = errno;
  if (allow_missing)
    return 1;
  return sys_error(std::string{"Cannot read "} + type + " '" + path + "': " + std::strerror(err));
}

/// At most `max` certificates of the PEM file `path`; empty when it has none.
std::vector<x509_ptr> read_certs(const std::string& path, size_t max) {
  std::vector<x509_ptr> out;
  std::unique_ptr<BIO, bio_free> bio{BIO_new_file(path.c_str(), "r")};
  if (!bio)
    return out;
  while (out.size() < max) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!x)
      break;
    out.emplace_back(x);
  }
  ERR_clear_error(); // the read that ended the loop
  return out;
}

// --- certificate properties -------------------------------------------------------

bool extension_critical(const X509* cert, int nid) {
  int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) != 0;
}

/// 1: CA, 0: not a CA, -1: no basic constraints.
int basic_constraints(X509* cert) {
  auto flags = X509_get_extension_flags(cert);
  if (!(flags & EXFLAG_BCONS))
    return -1;
  return (flags & EXFLAG_CA) ? 1 : 0;
}

/// Elliptic-curve keys never encipher keys (RFC 8813), so they need no
/// keyEncipherment.
bool needs_key_encipherment(const X509* cert) {
  auto key = X509_get0_pubkey(cert);
  if (!key)
    return true;
  auto id = EVP_PKEY_get_base_id(key);
  return id != EVP_PKEY_EC && id != EVP_PKEY_ED25519 && id != EVP_PKEY_ED448 &&
         id != EVP_PKEY_X25519 && id != EVP_PKEY_X448;
}

/// Whether the extended key usage (if any) lets `cert` act as `r`; with
/// `critical` telling whether that extension is critical.
bool purpose_allows(X509* cert, role r, bool& critical) {
  critical = extension_critical(cert, NID_ext_key_usage);
  if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE))
    return true;
  auto xku = X509_get_extended_key_usage(cert);
  return (xku & XKU_ANYEKU) || (xku & (r == role::server ? XKU_SSL_SERVER : XKU_SSL_CLIENT));
}

// --- libvirt's sanity checks of our own credentials ----------------------------------

/// virNetTLSContextCheckCert*: validity period, basic constraints, key
/// usage and purpose of a certificate of ours (`ca`: one of our CAs).
result<void> check_own_cert(X509* cert, const std::string& file, role r, bool ca) {
  auto who = ca ? std::string{"CA"} : std::string{to_string(r)};
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
    return sys_error("The " + who + " certificate " + file + " has expired");
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
    return sys_error("The " + who + " certificate " + file + " is not yet active");
  int bc = basic_constraints(cert);
  if (bc == 1 && !ca)
    return sys_error("The certificate " + file +
                     " basic constraints show a CA, but we need one for a " +
                     std::string{to_string(r)});
  if (bc == 0 && ca)
    return sys_error("The certificate " + file + " basic constraints do not show a CA");
  if (bc == -1 && ca)
    return sys_error("The certificate " + file + " is missing basic constraints for a CA");
  // Key usage: only a critical extension that lacks a bit is fatal (libvirt
  // warns otherwise).
  auto ku = X509_get_key_usage(cert);
  if (ku != UINT32_MAX && extension_critical(cert, NID_key_usage)) {
    if (ca && !(ku & KU_KEY_CERT_SIGN))
      return sys_error("Certificate " + file + " usage does not permit certificate signing");
    if (!ca && !(ku & KU_DIGITAL_SIGNATURE))
      return sys_error("Certificate " + file + " usage does not permit digital signature");
    if (!ca && !(ku & KU_KEY_ENCIPHERMENT) && needs_key_encipherment(cert))
      return sys_error("Certificate " + file + " usage does not permit key encipherment");
  }
  bool critical = false;
  if (!ca && !purpose_allows(cert, r, critical) && critical)
    return sys_error("Certificate " + file + " purpose does not allow use for with a TLS " +
                     std::string{to_string(r)});
  return {};
}

/// The errors a chain verification ran into, with the depth of the
/// certificate each concerns; the verification goes on past each error.
struct chain_errors {
  std::vector<std::pair<int, int>> list;

  bool has(int err) const {
    for (auto& [e, d] : list)
      if (e == err)
        return true;
    return false;
  }
};

int collect_error(int ok, X509_STORE_CTX* ctx) {
  if (!ok) {
    auto errors = static_cast<chain_errors*>(X509_STORE_CTX_get_app_data(ctx));
    int err = X509_STORE_CTX_get_error(ctx);
    // Like GnuTLS: a CRL only speaks for its own issuer, and a stale CRL still
    // lists what it revoked.
    if (err != X509_V_ERR_UNABLE_TO_GET_CRL && err != X509_V_ERR_CRL_HAS_EXPIRED &&
        err != X509_V_ERR_CRL_NOT_YET_VALID)
      errors->list.emplace_back(err, X509_STORE_CTX_get_error_depth(ctx));
  }
  return 1;
}

/// Verifies `cert` (with the untrusted `chain`) against `store`.
chain_errors verify_chain(X509_STORE* store, X509* cert, STACK_OF(X509) * chain) {
  chain_errors errors;
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> ctx{X509_STORE_CTX_new()};
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, cert, chain) != 1) {
    errors.list.emplace_back(X509_V_ERR_OUT_OF_MEM, 0);
    return errors;
  }
  X509_STORE_CTX_set_app_data(ctx.get(), &errors);
  X509_STORE_CTX_set_verify_cb(ctx.get(), collect_error);
  if (X509_verify_cert(ctx.get()) != 1 && errors.list.empty())
    errors.list.emplace_back(X509_STORE_CTX_get_error(ctx.get()), 0);
  ERR_clear_error();
  return errors;
}

/// GnuTLS's (and libvirt's) words for a failed chain, or "" when none of
/// these apply.
std::string chain_reason(const chain_errors& e) {
  if (e.has(X509_V_ERR_CERT_REVOKED))
    return "The certificate has been revoked.";
  for (int err :
       {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
        X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE})
    if (e.has(err))
      return "The certificate hasn't got a known issuer.";
  for (int err :
       {X509_V_ERR_CA_KEY_TOO_SMALL, X509_V_ERR_EE_KEY_TOO_SMALL, X509_V_ERR_CA_MD_TOO_WEAK})
    if (e.has(err))
      return "The certificate uses an insecure algorithm";
  for (auto& [err, depth] : e.list)
    if (err != X509_V_ERR_CERT_HAS_EXPIRED && err != X509_V_ERR_CERT_NOT_YET_VALID)
      return std::string{"The certificate is not trusted. ("} + X509_verify_cert_error_string(err) +
             ")";
  return {};
}

/// libvirt's check that our own certificate chains to our CAs.
result<void> check_own_pair(X509* cert, const std::string& file, const std::vector<x509_ptr>& cas,
                            const std::string& ca_file) {
  std::unique_ptr<X509_STORE, store_free> store{X509_STORE_new()};
  for (auto& ca : cas)
    X509_STORE_add_cert(store.get(), ca.get());
  auto errors = verify_chain(store.get(), cert, nullptr);
  if (errors.list.empty())
    return {};
  auto reason = chain_reason(errors);
  if (reason.empty())
    reason = "Invalid certificate";
  return sys_error("Our own certificate " + file + " failed validation against " + ca_file + ": " +
                   reason);
}

/// virNetTLSContextSanityCheckCredentials: the files that can be read are checked.
result<void> sanity_check(role r, const std::string& ca_file, const std::string& cert_file) {
  x509_ptr cert;
  if (!cert_file.empty() && ::access(cert_file.c_str(), R_OK) == 0) {
    auto certs = read_certs(cert_file, 1);
    if (certs.empty())
      return sys_error("Unable to import " + std::string{to_string(r)} + " certificate " +
                       cert_file);
    cert = std::move(certs.front());
  }
  std::vector<x509_ptr> cas;
  if (!ca_file.empty() && ::access(ca_file.c_str(), R_OK) == 0) {
    cas = read_certs(ca_file, 16);
    if (cas.empty())
      return sys_error("Unable to import CA certificate list " + ca_file);
  }
  if (cert)
    if (auto ok = check_own_cert(cert.get(), cert_file, r, false); !ok)
      return ok;
  for (auto& ca : cas)
    if (auto ok = check_own_cert(ca.get(), ca_file, r, true); !ok)
      return ok;
  if (cert && !cas.empty())
    return check_own_pair(cert.get(), cert_file, cas, ca_file);
  return {};
}

/// Accepts every certificate during the handshake: the checks run afterwards
/// (as libvirt's do), so that the checking side can name the reason.
int accept_during_handshake(int, X509_STORE_CTX*) {
  return 1;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

} // namespace

std::string last_openssl_error() {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0)
    return {};
  if (auto reason = ERR_reason_error_string(first))
    return reason;
  char buf[256];
  ERR_error_string_n(first, buf, sizeof buf);
  return buf;
}

// --- context ----------------------------------------------------------------------

context::context(SSL_CTX* ctx, context_options opts) : ctx_(ctx), opts_(std::move(opts)) {
  // nop
}

context::~context() {
  SSL_CTX_free(ctx_);
}

result<std::shared_ptr<context>> context::make(const context_options& opts) {
  const bool server = opts.role == role::server;
  const auto& f = opts.files;
  if (opts.sanity_check)
    if (auto ok = sanity_check(opts.role, f.ca_cert, f.cert); !ok)
      return ok.error();
  SSL_CTX* raw = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!raw)
    return sys_error("Unable to allocate x509 credentials: " + last_openssl_error());
  std::shared_ptr<context> ctx{new context(raw, opts)};

  if (!f.ca_cert.empty()) {
    auto rv = check_file("CA certificate", f.ca_cert, false);
    if (!rv)
      return rv.error();
    if (SSL_CTX_load_verify_locations(raw, f.ca_cert.c_str(), nullptr) != 1)
      return sys_error("Unable to set x509 CA certificate: " + f.ca_cert + ": " +
                       last_openssl_error());
  }
  if (!f.ca_crl.empty()) {
    auto rv = check_file("CA revocation list", f.ca_crl, true);
    if (!rv)
      return rv.error();
    if (*rv == 0) {
      auto store = SSL_CTX_get_cert_store(raw);
      auto lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
      if (!lookup || X509_load_crl_file(lookup, f.ca_crl.c_str(), X509_FILETYPE_PEM) <= 0)
        return sys_error("Unable to set x509 certificate revocation list: " + f.ca_crl + ": " +
                         last_openssl_error());
      X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
  }
  if (!f.cert.empty() && !f.key.empty()) {
    auto rv = check_file("certificate", f.cert, !server);
    if (!rv)
      return rv.error();
    if (*rv == 0) {
      rv = check_file("private key", f.key, !server);
      if (!rv)
        return rv.error();
    }
    if (*rv == 0 && (SSL_CTX_use_certificate_chain_file(raw, f.cert.c_str()) != 1 ||
                     SSL_CTX_use_PrivateKey_file(raw, f.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
                     SSL_CTX_check_private_key(raw) != 1))
      return sys_error("Unable to set x509 key and certificate: " + f.key + ", " + f.cert + ": " +
                       last_openssl_error());
  }

  auto prio = opts.priority ? parse_priority(*opts.priority) : result{default_priority()};
  if (!prio)
    return prio.error();
  auto refused = [&opts](const char* what) {
    return sys_error("Failed to set TLS session priority to " + opts.priority.value_or("NORMAL") +
                     ": OpenSSL refused the " + what + " (" + last_openssl_error() + ")");
  };
  if (prio->min_version && SSL_CTX_set_min_proto_version(raw, prio->min_version) != 1)
    return refused("lowest protocol version");
  if (prio->max_version && SSL_CTX_set_max_proto_version(raw, prio->max_version) != 1)
    return refused("highest protocol version");
  if (!prio->cipher_list.empty() && SSL_CTX_set_cipher_list(raw, prio->cipher_list.c_str()) != 1)
    return refused("cipher list");
  if (!prio->ciphersuites.empty() && SSL_CTX_set_ciphersuites(raw, prio->ciphersuites.c_str()) != 1)
    return refused("TLS 1.3 cipher suites");
  if (prio->security_level >= 0)
    SSL_CTX_set_security_level(raw, prio->security_level);
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
  if (prio->server_precedence)
    options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  // libvirt never resumes sessions: tickets would only cost a round of writes.
  options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(raw, options);
  if (server)
    SSL_CTX_set_num_tickets(raw, 0);
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A server asks for (but does not demand) a client certificate; both sides
  // check the peer after the handshake.
  SSL_CTX_set_verify(raw, server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, accept_during_handshake);
  return ctx;
}

peer_check context::check_peer(SSL* ssl, const std::optional<std::string>& hostname) const {
  peer_check out;
  // The role the peer plays.
  const role peer = opts_.role == role::server ? role::client : role::server;
  const std::string peer_name{to_string(peer)};
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) {
    out.failure = "Unable to verify TLS peer: No certificate was found.";
    return out;
  }
  out.dn = subject_dn(cert);
  auto errors = verify_chain(SSL_CTX_get_cert_store(ctx_), cert, SSL_get_peer_cert_chain(ssl));
  if (auto reason = chain_reason(errors); !reason.empty()) {
    out.failure = "Certificate failed validation: " + reason;
    return out;
  }
  for (auto& [err, depth] : errors.list) {
    auto who = depth == 0 ? "The " + peer_name + " certificate" : std::string{"The CA certificate"};
    if (err == X509_V_ERR_CERT_HAS_EXPIRED) {
      out.failure = who + " has expired";
      return out;
    }
    if (err == X509_V_ERR_CERT_NOT_YET_VALID) {
      out.failure = who + " is not yet active";
      return out;
    }
  }
  if (opts_.allowed_dns && !dn_allowed(*opts_.allowed_dns, out.dn)) {
    out.failure =
        "Client's Distinguished Name is not on the list of allowed clients (tls_allowed_dn_list)";
    return out;
  }
  if (hostname) {
    bool match = is_ip_literal(*hostname)
                     ? X509_check_ip_asc(cert, hostname->c_str(), 0) == 1
                     : X509_check_host(cert, hostname->data(), hostname->size(),
                                       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    if (!match) {
      out.failure = "Certificate owner does not match the hostname " + *hostname;
      return out;
    }
  }
  if (basic_constraints(cert) == 1) {
    out.failure = "The certificate basic constraints show a CA, but we need one for a " + peer_name;
    return out;
  }
  auto ku = X509_get_key_usage(cert);
  if (ku != UINT32_MAX && extension_critical(cert, NID_key_usage)) {
    if (!(ku & KU_DIGITAL_SIGNATURE)) {
      out.failure = "Certificate usage does not permit digital signature";
      return out;
    }
    if (!(ku & KU_KEY_ENCIPHERMENT) && needs_key_encipherment(cert)) {
      out.failure = "Certificate usage does not permit key encipherment";
      return out;
    }
  }
  bool critical = false;
  if (!purpose_allows(cert, peer, critical) && critical)
    out.failure = "Certificate purpose does not allow use with a TLS " + peer_name;
  return out;
}

// --- DN text as GnuTLS prints it -----------------------------------------------------

namespace {

struct attribute_name {
  int nid;
  const char* name;
};

// GnuTLS's names for the attributes it knows.
constexpr std::array<attribute_name, 25> attribute_names{{
    {NID_countryName, "C"},
    {NID_stateOrProvinceName, "ST"},
    {NID_localityName, "L"},
    {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"},
    {NID_commonName, "CN"},
    {NID_domainComponent, "DC"},
    {NID_userId, "UID"},
    {NID_pkcs9_emailAddress, "EMAIL"},
    {NID_serialNumber, "serialNumber"},
    {NID_title, "title"},
    {NID_givenName, "givenName"},
    {NID_surname, "surName"},
    {NID_pseudonym, "pseudonym"},
    {NID_streetAddress, "street"},
    {NID_postalCode, "postalCode"},
    {NID_initials, "initials"},
    {NID_generationQualifier, "generationQualifier"},
    {NID_dnQualifier, "dnQualifier"},
    {NID_name, "name"},
    {NID_businessCategory, "businessCategory"},
    {NID_description, "description"},
    {NID_jurisdictionLocalityName, "jurisdictionOfIncorporationLocalityName"},
    {NID_jurisdictionStateOrProvinceName, "jurisdictionOfIncorporationStateOrProvinceName"},
    {NID_jurisdictionCountryName, "jurisdictionOfIncorporationCountryName"},
}};

void append_escaped(std::string& out, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    char c = static_cast<char>(p[i]);
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || (i == 0 && (c == '#' || c == ' ')) || (i + 1 == n && c == ' ');
    if (special)
      out += '\\';
    out += c;
  }
}

void append_hex_der(std::string& out, const ASN1_STRING* value) {
  ASN1_TYPE* t = ASN1_TYPE_new();
  unsigned char* der = nullptr;
  int len = -1;
  if (t && ASN1_TYPE_set1(t, ASN1_STRING_type(value), value) == 1)
    len = i2d_ASN1_TYPE(t, &der);
  static const char digits[] = "0123456789abcdef";
  out += '#';
  for (int i = 0; i < len; ++i) {
    out += digits[der[i] >> 4];
    out += digits[der[i] & 0xF];
  }
  OPENSSL_free(der);
  ASN1_TYPE_free(t);
}

} // namespace

std::string format_dn(const X509_NAME* name) {
  std::string out;
  if (!name)
    return out;
  int previous_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(e);
    if (i > 0)
      out += set == previous_set ? '+' : ',';
    previous_set = set;
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(e);
    int nid = OBJ_obj2nid(obj);
    const char* known = nullptr;
    for (auto& a : attribute_names)
      if (a.nid == nid)
        known = a.name;
    if (!known) {
      char oid[128];
      OBJ_obj2txt(oid, sizeof oid, obj, 1);
      out += oid;
      out += '=';
      append_hex_der(out, value);
      continue;
    }
    out += known;
    out += '=';
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) {
      append_hex_der(out, value);
      continue;
    }
    append_escaped(out, utf8, static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

std::string subject_dn(const X509* cert) {
  return cert ? format_dn(X509_get_subject_name(cert)) : std::string{};
}

} // namespace virtactor::tls
