/// What the tls tests against real peers share: a PKI on disk in libvirt's
/// layout, virtactord and libvirtd serving TLS on loopback ports, and
/// libvirt's own client (python3-libvirt) as the reference for errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "protocol/error.hpp"
#include "tests/interop/harness.hpp"
#include "tests/transports/tls/test_pki.hpp"

namespace virtactor::tls_test {

/// A CA (and a second, unrelated one) with a valid server and client
/// certificate, and a temp directory for pkipath directories.
struct pki_set {
  interop::temp_dir dir;
  test_pki::authority ca{"Test CA"};
  test_pki::authority other_ca{"Other CA"};
  test_pki::issued server = ca.issue(test_pki::server_spec());
  test_pki::issued client = ca.issue(test_pki::client_spec());

  /// DIR/`name` with `cert` as the client's (server's) certificate, our CA
  /// (or `ca_pem`) and, when given, a CRL.
  std::string client_dir(const std::string& name, const test_pki::issued& cert,
                         const std::string& crl = {}, const std::string& ca_pem = {});
  std::string server_dir(const std::string& name, const test_pki::issued& cert,
                         const std::string& crl = {}, const std::string& ca_pem = {});
};

/// `test+tls://HOST:PORT/default?pkipath=DIR` plus `extra` ("&no_verify=1").
std::string tls_uri(const std::string& host, uint16_t port, const std::string& pki_dir,
                    const std::string& extra = {});

/// A virtactord serving TLS on a free loopback port (and its unix sockets in
/// a temp directory), with the credentials of the server pkipath directory
/// `server_dir` (its cacrl.pem too, when present) and `config` appended;
/// `env` is added to its environment ("NAME=value").
class tls_virtactord {
public:
  explicit tls_virtactord(const std::string& server_dir, const std::string& config = {},
                          std::vector<std::string> env = {});

  uint16_t port() const { return port_; }
  pid_t pid() const { return proc_->pid(); }
  std::string uri(const std::string& pki_dir, const std::string& extra = {}) const {
    return tls_uri("localhost", port_, pki_dir, extra);
  }
  /// What the daemon logged so far.
  std::string log() const { return proc_->log(); }
  /// SIGTERM and wait; the exit status.
  int stop() { return proc_->stop(); }

private:
  uint16_t port_ = 0;
  std::unique_ptr<interop::daemon_process> proc_;
};

/// The virtactord config lines of a TLS listener on 127.0.0.1:`port` with the
/// credentials of `server_dir`.
std::string tls_config(uint16_t port, const std::string& server_dir);

/// A real libvirtd serving TLS (tests/transports/tls/start-libvirtd-tls.sh)
/// with the credentials of `server_dir` (cacert.pem, servercert.pem,
/// serverkey.pem, optional cacrl.pem) and `extra_config` lines. `ok()` is
/// false (and `why()` says why) when it could not start.
class tls_libvirtd {
public:
  explicit tls_libvirtd(const std::string& server_dir, const std::string& extra_config = {});
  ~tls_libvirtd();

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  uint16_t port() const { return port_; }
  std::string uri(const std::string& pki_dir, const std::string& host = "localhost",
                  const std::string& extra = {}) const {
    return tls_uri(host, port_, pki_dir, extra);
  }

private:
  std::string dir_;
  uint16_t port_ = 0;
  bool ok_ = false;
  std::string why_;
};

/// How libvirt's own client (python3-libvirt) fails to open `uri`; nullopt
/// when it succeeds. Requires /usr/bin/python3 with the libvirt module.
std::optional<virt_error> libvirt_open_error(const std::string& uri);

/// True when python3-libvirt can be used.
bool have_python_libvirt();

/// The number of open descriptors of process `pid`.
size_t open_fds(pid_t pid);

/// True when `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

/// libvirt's client error when it refuses the server's certificate (ours
/// adds ": <reason>").
inline const std::string peer_refused =
    "authentication failed: Failed to verify peer's certificate";

/// libvirt's client error when the server closes instead of confirming.
inline const std::string verification_failed =
    "server verification (of our certificate or IP address) failed";

/// Opens `uri` with our client and lists the domains: their names, or the
/// error of the open or the call.
result<std::vector<std::string>> list_domains(const std::string& uri);

} // namespace virtactor::tls_test
