#include "tests/transports/tls/test_pki.hpp"

#include <ctime>
#include <fstream>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace virtactor::test_pki {

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"test PKI: "} + what + " failed");
}

struct key_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;

struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

key_ptr new_key() {
  key_ptr k{EVP_EC_gen("P-256")};
  check(k != nullptr, "EC key generation");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// What `write` puts into a memory BIO.
template <class Write> std::string pem_text(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string to_pem(X509* x) {
  return pem_text([x](BIO* bio) { PEM_write_bio_X509(bio, x); });
}

std::string to_pem(EVP_PKEY* k) {
  return pem_text(
      [k](BIO* bio) { PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr); });
}

/// A certificate for `spec` with key `key`, signed by `issuer` (itself when null).
x509_ptr make_cert(const cert_spec& spec, uint64_t serial, EVP_PKEY* key, X509* issuer,
                   EVP_PKEY* issuer_key) {
  x509_ptr x{X509_new()};
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), spec.not_before_days * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), spec.not_after_days * 86400L);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  for (auto& [field, value] : spec.subject) {
    bool join = !field.empty() && field[0] == '+';
    auto f = join ? field.substr(1) : field;
    check(X509_NAME_add_entry_by_txt(name, f.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                     join ? -1 : 0) == 1,
          "subject entry");
  }
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : x.get();
  add_ext(x.get(), signer, NID_subject_key_identifier, "hash");
  if (spec.ca) {
    add_ext(x.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x.get(), signer, NID_authority_key_identifier, "keyid");
    add_ext(x.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (!spec.purpose.empty())
      add_ext(x.get(), signer, NID_ext_key_usage, spec.purpose);
  }
  std::string san;
  for (auto& d : spec.dns_names)
    san += (san.empty() ? "" : ",") + std::string{"DNS:"} + d;
  for (auto& ip : spec.ip_addresses)
    san += (san.empty() ? "" : ",") + std::string{"IP:"} + ip;
  if (!san.empty())
    add_ext(x.get(), signer, NID_subject_alt_name, san);
  check(X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "signing");
  return x;
}

} // namespace

struct authority::impl {
  key_ptr key;
  x509_ptr cert;
};

authority::authority(const std::string& cn, long not_before_days, long not_after_days)
    : impl_(std::make_unique<impl>()) {
  cert_spec spec;
  spec.subject = {{"CN", cn}};
  spec.not_before_days = not_before_days;
  spec.not_after_days = not_after_days;
  spec.ca = true;
  impl_->key = new_key();
  impl_->cert = make_cert(spec, 1, impl_->key.get(), nullptr, nullptr);
  cert_pem_ = to_pem(impl_->cert.get());
}

authority::~authority() = default;

issued authority::issue(const cert_spec& spec) {
  auto key = new_key();
  auto serial = next_serial_++;
  auto cert = make_cert(spec, serial, key.get(), impl_->cert.get(), impl_->key.get());
  return {to_pem(cert.get()), to_pem(key.get()), serial};
}

std::string authority::crl_pem(const std::vector<uint64_t>& serials) const {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(impl_->cert.get()));
  ASN1_TIME* last = X509_gmtime_adj(nullptr, -86400L);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, 30 * 86400L);
  X509_CRL_set1_lastUpdate(crl, last);
  X509_CRL_set1_nextUpdate(crl, next);
  for (auto s : serials) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    ASN1_INTEGER_set_uint64(n, s);
    X509_REVOKED_set_serialNumber(r, n);
    X509_REVOKED_set_revocationDate(r, last);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(n);
  }
  X509_CRL_sort(crl);
  check(X509_CRL_sign(crl, impl_->key.get(), EVP_sha256()) > 0, "signing the CRL");
  auto out = pem_text([crl](BIO* bio) { PEM_write_bio_X509_CRL(bio, crl); });
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  return out;
}

cert_spec server_spec(const std::string& cn) {
  cert_spec s;
  s.subject = {{"C", "GB"}, {"ST", "London"}, {"L", "London"}, {"O", "Red Hat"}, {"CN", cn}};
  s.dns_names = {cn};
  if (cn == "localhost")
    s.ip_addresses = {"127.0.0.1"};
  s.purpose = "serverAuth";
  return s;
}

cert_spec client_spec(const std::string& cn) {
  cert_spec s;
  s.subject = {{"C", "GB"}, {"ST", "London"}, {"L", "London"}, {"O", "Red Hat"}, {"CN", cn}};
  s.purpose = "clientAuth";
  return s;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  check(static_cast<bool>(out.flush()), ("writing " + path).c_str());
}

void write_pki_dir(const std::string& dir, const std::string& role, const std::string& ca_pem,
                   const issued& cert, const std::string& crl) {
  ::mkdir(dir.c_str(), 0700);
  write_text(dir + "/cacert.pem", ca_pem);
  write_text(dir + "/" + role + "cert.pem", cert.cert_pem);
  write_text(dir + "/" + role + "key.pem", cert.key_pem);
  if (!crl.empty())
    write_text(dir + "/cacrl.pem", crl);
}

} // namespace virtactor::test_pki
