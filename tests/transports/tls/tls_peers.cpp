#include "tests/transports/tls/tls_peers.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include "client/blocking.hpp"

namespace virtactor::tls_test {

using namespace std::chrono_literals;

namespace {

std::string source_dir() {
  auto v = std::getenv("VA_SOURCE_DIR");
  return v && *v ? v : ".";
}

} // namespace

std::string pki_set::client_dir(const std::string& name, const test_pki::issued& cert,
                                const std::string& crl, const std::string& ca_pem) {
  auto d = dir.file(name);
  test_pki::write_pki_dir(d, "client", ca_pem.empty() ? ca.cert_pem() : ca_pem, cert, crl);
  return d;
}

std::string pki_set::server_dir(const std::string& name, const test_pki::issued& cert,
                                const std::string& crl, const std::string& ca_pem) {
  auto d = dir.file(name);
  test_pki::write_pki_dir(d, "server", ca_pem.empty() ? ca.cert_pem() : ca_pem, cert, crl);
  return d;
}

std::string tls_uri(const std::string& host, uint16_t port, const std::string& pki_dir,
                    const std::string& extra) {
  return "test+tls://" + host + ":" + std::to_string(port) + "/default?pkipath=" + pki_dir + extra;
}

// --- virtactord ----------------------------------------------------------------------

std::string tls_config(uint16_t port, const std::string& server_dir) {
  std::ostringstream conf;
  conf << "listen_tcp = 0\n"
       << "listen_tls = 1\n"
       << "listen_addr = \"127.0.0.1\"\n"
       << "tls_port = \"" << port << "\"\n"
       << "ca_file = \"" << server_dir << "/cacert.pem\"\n"
       << "cert_file = \"" << server_dir << "/servercert.pem\"\n"
       << "key_file = \"" << server_dir << "/serverkey.pem\"\n";
  if (interop::exists(server_dir + "/cacrl.pem"))
    conf << "crl_file = \"" << server_dir << "/cacrl.pem\"\n";
  return conf.str();
}

tls_virtactord::tls_virtactord(const std::string& server_dir, const std::string& config,
                               std::vector<std::string> env) {
  for (int attempt = 0;; ++attempt) {
    port_ = interop::free_tcp_port();
    interop::daemon_settings s;
    s.tcp = false; // our own listener lines below
    s.args = {"--listen"};
    s.config = tls_config(port_, server_dir) + config;
    s.env = env;
    try {
      proc_ = std::make_unique<interop::daemon_process>(s);
    } catch (const std::runtime_error& e) {
      // Someone took the port meanwhile: try another.
      if (attempt < 4 && contains(e.what(), "in use"))
        continue;
      throw;
    }
    if (!interop::wait_until([this] { return interop::tcp_accepts(port_); }, 20s))
      throw std::runtime_error("virtactord does not accept on its TLS port; log:\n" + log());
    return;
  }
}

// --- libvirtd --------------------------------------------------------------------------

tls_libvirtd::tls_libvirtd(const std::string& server_dir, const std::string& extra_config)
    : dir_(server_dir) {
  if (::access("/usr/sbin/libvirtd", X_OK) != 0) {
    why_ = "/usr/sbin/libvirtd is missing (Debian: libvirt-daemon)";
    return;
  }
  if (!extra_config.empty())
    test_pki::write_text(dir_ + "/extra.conf", extra_config);
  auto script = source_dir() + "/tests/transports/tls/start-libvirtd-tls.sh";
  for (int attempt = 0; attempt < 5 && !ok_; ++attempt) {
    port_ = interop::free_tcp_port();
    auto r = interop::run_process({"/bin/sh", script, dir_, std::to_string(port_)}, {}, 60s);
    ok_ = r.exit_code == 0 &&
          interop::wait_until([this] { return interop::tcp_accepts(port_); }, 10s);
    why_ = r.err;
  }
}

tls_libvirtd::~tls_libvirtd() {
  if (!dir_.empty())
    interop::run_process({"/bin/sh", source_dir() + "/tests/interop/stop-libvirtd.sh", dir_});
}

// --- libvirt's own client -----------------------------------------------------------------

bool have_python_libvirt() {
  return interop::run_process({interop::system_python, "-c", "import libvirt"}).exit_code == 0;
}

std::optional<virt_error> libvirt_open_error(const std::string& uri) {
  static const char* script = R"(import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
try:
    libvirt.open(sys.argv[1]).close()
    print("OK")
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message(), sep="\n")
)";
  auto r = interop::run_process({interop::system_python, "-c", script, uri}, {}, 120s);
  std::istringstream in(r.out);
  std::string code, domain, message;
  std::getline(in, code);
  if (code == "OK")
    return std::nullopt;
  std::getline(in, domain);
  std::getline(in, message);
  if (code.empty() || domain.empty())
    throw std::runtime_error("python3-libvirt failed: " + r.err);
  return make_virt_error(static_cast<error_code>(std::stoi(code)),
                         static_cast<error_domain>(std::stoi(domain)), message);
}

result<std::vector<std::string>> list_domains(const std::string& uri) {
  auto c = client::blocking_connection::open(uri);
  if (!c)
    return c.error();
  auto all = (*c)->call<protocol::proc::connect_list_all_domains>({1, 0});
  if (!all)
    return all.error();
  std::vector<std::string> names;
  for (auto& d : all->domains)
    names.push_back(d.name);
  return names;
}

size_t open_fds(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

} // namespace virtactor::tls_test
