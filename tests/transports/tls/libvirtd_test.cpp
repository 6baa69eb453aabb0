// Our tls client against the real libvirtd (GnuTLS) with certificates the test
// makes: it connects, it refuses what libvirt's client refuses (and says why),
// and when libvirtd refuses it, it fails as libvirt's own client does.
#define BOOST_TEST_MODULE tls_libvirtd
#include <boost/test/unit_test.hpp>

#include "client/blocking.hpp"
#include "tests/transports/tls/tls_peers.hpp"

using namespace virtactor;
using namespace virtactor::tls_test;
using namespace std::chrono_literals;
using client::blocking_connection;
using protocol::proc;

namespace {

std::optional<virt_error> try_list(const std::string& uri) {
  auto r = list_domains(uri);
  return r.ok() ? std::nullopt : std::optional<virt_error>{r.error()};
}

} // namespace

BOOST_AUTO_TEST_CASE(our_client_works_with_libvirtd_over_tls) {
  pki_set pki;
  // The server certificate names localhost only, not 127.0.0.1.
  auto spec = test_pki::server_spec();
  spec.ip_addresses.clear();
  auto server = pki.ca.issue(spec);
  tls_libvirtd daemon{pki.server_dir("server", server)};
  if (!daemon.ok()) {
    BOOST_TEST_MESSAGE("skipped: libvirtd does not run here: " << daemon.why());
    return;
  }
  auto client_dir = pki.client_dir("client", pki.client);
  auto c = blocking_connection::open(daemon.uri(client_dir));
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  auto all = (*c)->call<proc::connect_list_all_domains>({1, 0});
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE_EQUAL(all->domains.size(), 1u);
  BOOST_TEST(all->domains[0].name == "test");
  auto secure = (*c)->call<proc::connect_is_secure>();
  BOOST_REQUIRE(secure.ok());
  BOOST_TEST(secure->secure == 1);
  auto xml = (*c)->call<proc::connect_get_capabilities>();
  BOOST_REQUIRE(xml.ok());
  BOOST_TEST(contains(xml->capabilities, "</capabilities>"));
  BOOST_TEST((*c)->close().ok());

  // Refused by us: a certificate for another name, from a CA we do not
  // trust, revoked by our CRL. Each time libvirt's own client refuses too.
  struct refusal {
    std::string name;
    std::string uri;
    std::string reason;
  };
  std::vector<refusal> cases{
      {"another address", daemon.uri(client_dir, "127.0.0.1"),
       "Certificate owner does not match the hostname 127.0.0.1"},
      {"another CA",
       daemon.uri(pki.client_dir("other-ca", pki.client, {}, pki.other_ca.cert_pem()), "localhost",
                  "&no_sanity=1"),
       "Certificate failed validation: The certificate hasn't got a known issuer."},
      {"revoked",
       daemon.uri(pki.client_dir("revoked", pki.client, pki.ca.crl_pem({server.serial}))),
       "Certificate failed validation: The certificate has been revoked."},
  };
  for (auto& r : cases) {
    BOOST_TEST_CONTEXT(r.name) {
      auto ours = try_list(r.uri);
      BOOST_REQUIRE(ours.has_value());
      BOOST_TEST(ours->code == error_code::auth_failed);
      BOOST_TEST(ours->domain == error_domain::rpc);
      BOOST_TEST(starts_with(ours->message, peer_refused + ": " + r.reason), ours->message);
      if (have_python_libvirt()) {
        auto theirs = libvirt_open_error(r.uri);
        BOOST_REQUIRE(theirs.has_value());
        BOOST_TEST(theirs->code == ours->code);
        BOOST_TEST(theirs->message == peer_refused);
      }
      BOOST_TEST(!try_list(r.uri + "&no_verify=1").has_value());
    }
  }

  // Refused by libvirtd: a client certificate from another CA. The error
  // reads as libvirt's own client's.
  auto rogue = daemon.uri(pki.client_dir("rogue", pki.other_ca.issue(test_pki::client_spec())),
                          "localhost", "&no_sanity=1");
  auto ours = try_list(rogue);
  BOOST_REQUIRE(ours.has_value());
  BOOST_TEST(ours->code == error_code::system_error);
  BOOST_TEST(ours->message == "Unable to read TLS confirmation: Input/output error");
  if (have_python_libvirt()) {
    auto theirs = libvirt_open_error(rogue);
    BOOST_REQUIRE(theirs.has_value());
    BOOST_TEST(theirs->code == ours->code);
    BOOST_TEST(theirs->domain == ours->domain);
    BOOST_TEST(theirs->message == ours->message);
  }
}

BOOST_AUTO_TEST_CASE(our_client_refuses_libvirtd_with_an_expired_certificate) {
  pki_set pki;
  auto spec = test_pki::server_spec();
  spec.not_before_days = -30;
  spec.not_after_days = -1;
  tls_libvirtd daemon{pki.server_dir("server", pki.ca.issue(spec)),
                      "tls_no_sanity_certificate = 1\n"};
  if (!daemon.ok()) {
    BOOST_TEST_MESSAGE("skipped: libvirtd does not run here: " << daemon.why());
    return;
  }
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  auto ours = try_list(uri);
  BOOST_REQUIRE(ours.has_value());
  BOOST_TEST(starts_with(ours->message, peer_refused + ": The server certificate has expired"),
             ours->message);
  BOOST_TEST(!try_list(uri + "&no_verify=1").has_value());
}
