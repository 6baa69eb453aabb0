/// Throwaway PKI for the tls tests, made with OpenSSL's API: certificate
/// authorities, server and client certificates with chosen names, validity
/// and usage, revocation lists, and libvirt's directory layout on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace virtactor::test_pki {

/// What a certificate says about itself.
struct cert_spec {
  /// The subject, RDN by RDN in certificate order: {"C", "GB"}, {"CN", "client"}.
  /// A field written "+OU" joins the previous RDN (a multi-valued RDN).
  std::vector<std::pair<std::string, std::string>> subject;
  /// subjectAltName entries.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  /// Validity, in days relative to now.
  long not_before_days = -1;
  long not_after_days = 30;
  /// Extended key usage: "serverAuth", "clientAuth", both ("serverAuth,clientAuth") or "" (none).
  std::string purpose = "serverAuth";
  /// A CA certificate (basicConstraints CA:TRUE, keyCertSign) instead of a leaf.
  bool ca = false;
};

/// A certificate, its private key (PEM) and its serial number.
struct issued {
  std::string cert_pem;
  std::string key_pem;
  uint64_t serial = 0;
};

/// A certificate authority that issues certificates and revocation lists.
class authority {
public:
  /// A self-signed CA named `cn`, valid from `not_before_days` to `not_after_days`.
  explicit authority(const std::string& cn, long not_before_days = -1, long not_after_days = 365);
  ~authority();
  authority(const authority&) = delete;
  authority& operator=(const authority&) = delete;

  /// The CA's own certificate (PEM).
  const std::string& cert_pem() const { return cert_pem_; }

  /// Issues a certificate for `spec`, each with a fresh P-256 key.
  issued issue(const cert_spec& spec);

  /// A CRL (PEM) that revokes `serials`.
  std::string crl_pem(const std::vector<uint64_t>& serials) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string cert_pem_;
  uint64_t next_serial_ = 2;
};

/// The usual subjects and names: a server for localhost/127.0.0.1 and a
/// client with the DN of libvirt's documentation.
cert_spec server_spec(const std::string& cn = "localhost");
cert_spec client_spec(const std::string& cn = "client");

/// Writes `text` to `path` (mode 0600 for keys is not needed in tests).
void write_text(const std::string& path, const std::string& text);

/// Writes a pkipath directory: DIR/cacert.pem, DIR/<role>cert.pem,
/// DIR/<role>key.pem (`role`: "client" or "server"), DIR/cacrl.pem when
/// `crl` is not empty; `dir` is created when missing.
void write_pki_dir(const std::string& dir, const std::string& role, const std::string& ca_pem,
                   const issued& cert, const std::string& crl = {});

} // namespace virtactor::test_pki
