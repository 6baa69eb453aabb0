// The tls transport's building blocks, in one process: libvirt's credential
// locations, DN wildcards, priority strings, DN text, contexts with libvirt's
// sanity checks, and whole openings (handshake, certificate checks,
// confirmation byte) over socketpairs, with every refusal on the side that
// checks.
#define BOOST_TEST_MODULE tls
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <thread>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/tls_context.hpp"
#include "actors/tls_pki.hpp"
#include "actors/tls_session.hpp"
#include "tests/interop/harness.hpp"
#include "tests/transports/tls/test_pki.hpp"
#include "tests/transports/tls/tls_peers.hpp"

namespace virtactor::tls {

std::ostream& operator<<(std::ostream& out, const pki_files& f) {
  return out << "{" << f.ca_cert << ", " << f.ca_crl << ", " << f.cert << ", " << f.key << "}";
}

std::ostream& operator<<(std::ostream& out, const priority_settings& p) {
  return out << "{min " << p.min_version << ", max " << p.max_version << ", ciphers '"
             << p.cipher_list << "', suites '" << p.ciphersuites << "'}";
}

} // namespace virtactor::tls

using namespace virtactor;
using namespace std::chrono_literals;
using interop::temp_dir;
using test_pki::authority;
using test_pki::cert_spec;
using test_pki::issued;

namespace {

const std::string client_dn = "C=GB,ST=London,L=London,O=Red Hat,CN=client";
const std::string refused = tls_test::peer_refused + ": ";

using tls_test::contains;
using tls_test::starts_with;
using tls_test::verification_failed;

using pki = tls_test::pki_set;

tls::context_options options(tls::role r, const std::string& dir) {
  tls::context_options o;
  o.role = r;
  o.files = tls::locate_pki_files(r, dir, false, "");
  return o;
}

std::shared_ptr<tls::context> make(const tls::context_options& o) {
  auto ctx = tls::context::make(o);
  BOOST_REQUIRE_MESSAGE(ctx.ok(), (ctx.ok() ? std::string{} : ctx.error().message));
  return *ctx;
}

/// Both ends of one opening, run against each other over a socketpair.
struct opening {
  result<std::shared_ptr<tls::session>> client{virt_error{}};
  result<std::shared_ptr<tls::session>> server{virt_error{}};
};

opening open_pair(std::shared_ptr<tls::context> client_ctx,
                  std::shared_ptr<tls::context> server_ctx,
                  const std::string& hostname = "localhost") {
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  opening out;
  auto deadline = tls::clock::now() + 10s;
  std::thread server([&] { out.server = tls::accept(server_ctx, unique_fd{sv[1]}, deadline); });
  out.client = tls::connect(client_ctx, unique_fd{sv[0]}, hostname, deadline);
  server.join();
  return out;
}

std::string message(const result<std::shared_ptr<tls::session>>& r) {
  return r.ok() ? std::string{"(succeeded)"} : r.error().message;
}

} // namespace

// --- where the credentials are -------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_explicit_pkipath_names_all_four_files_whether_they_exist_or_not) {
  auto never = [](const std::string&) { return false; };
  auto f = tls::locate_pki_files(tls::role::client, std::string{"/p"}, true, "/home/u", never);
  BOOST_TEST(f == (tls::pki_files{"/p/cacert.pem", "/p/cacrl.pem", "/p/clientcert.pem",
                                  "/p/clientkey.pem"}));
  auto s = tls::locate_pki_files(tls::role::server, std::string{"/p"}, false, "", never);
  BOOST_TEST(s.cert == "/p/servercert.pem");
  BOOST_TEST(s.key == "/p/serverkey.pem");
}

BOOST_AUTO_TEST_CASE(root_uses_the_system_files_under_etc_pki) {
  auto always = [](const std::string&) { return true; };
  auto f = tls::locate_pki_files(tls::role::client, std::nullopt, false, "/root", always);
  BOOST_TEST(f == (tls::pki_files{"/etc/pki/CA/cacert.pem", "/etc/pki/CA/cacrl.pem",
                                  "/etc/pki/libvirt/clientcert.pem",
                                  "/etc/pki/libvirt/private/clientkey.pem"}));
  auto s = tls::locate_pki_files(tls::role::server, std::nullopt, false, "/root", always);
  BOOST_TEST(s.cert == "/etc/pki/libvirt/servercert.pem");
  BOOST_TEST(s.key == "/etc/pki/libvirt/private/serverkey.pem");
}

BOOST_AUTO_TEST_CASE(a_users_own_files_come_first_each_ca_file_falling_back_alone) {
  auto has = [](const std::string& p) {
    return p == "/home/u/.pki/libvirt/cacert.pem" || p == "/home/u/.pki/libvirt/clientcert.pem" ||
           p == "/home/u/.pki/libvirt/clientkey.pem";
  };
  auto f = tls::locate_pki_files(tls::role::client, std::nullopt, true, "/home/u", has);
  BOOST_TEST(f == (tls::pki_files{"/home/u/.pki/libvirt/cacert.pem", "/etc/pki/CA/cacrl.pem",
                                  "/home/u/.pki/libvirt/clientcert.pem",
                                  "/home/u/.pki/libvirt/clientkey.pem"}));
}

BOOST_AUTO_TEST_CASE(a_user_certificate_without_its_key_falls_back_to_the_system_pair) {
  auto has = [](const std::string& p) { return p == "/home/u/.pki/libvirt/clientcert.pem"; };
  auto f = tls::locate_pki_files(tls::role::client, std::nullopt, true, "/home/u", has);
  BOOST_TEST(f.ca_cert == "/etc/pki/CA/cacert.pem");
  BOOST_TEST(f.cert == "/etc/pki/libvirt/clientcert.pem");
  BOOST_TEST(f.key == "/etc/pki/libvirt/private/clientkey.pem");
}

// --- DN wildcards ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_dn_pattern_matches_with_star_and_question_mark_as_glib_does) {
  using tls::dn_pattern_matches;
  BOOST_TEST(dn_pattern_matches(client_dn, client_dn));
  BOOST_TEST(dn_pattern_matches("C=GB,ST=London,L=London,O=Red Hat,CN=*", client_dn));
  BOOST_TEST(dn_pattern_matches("*CN=client", client_dn));
  BOOST_TEST(dn_pattern_matches("C=GB,*,CN=cli?nt", client_dn));
  BOOST_TEST(dn_pattern_matches("*", client_dn));
  BOOST_TEST(dn_pattern_matches("*", ""));
  BOOST_TEST(dn_pattern_matches("CN=J?rg", "CN=J\xc3\xb6rg")); // '?' is one UTF-8 character
  BOOST_TEST(!dn_pattern_matches("CN=J?rg", "CN=J\xc3\xb6\xc3\xb6rg"));
  BOOST_TEST(!dn_pattern_matches("C=GB,ST=London,L=London,O=Red Hat,CN=other", client_dn));
  BOOST_TEST(!dn_pattern_matches("c=gb*", client_dn)); // case matters
  BOOST_TEST(!dn_pattern_matches("C=GB", client_dn));  // no implicit suffix
  BOOST_TEST(!dn_pattern_matches("", client_dn));
  BOOST_TEST(dn_pattern_matches("a*b*c", "aXbYbZc"));
  BOOST_TEST(!dn_pattern_matches("a*b*c", "aXbYbZ"));
}

BOOST_AUTO_TEST_CASE(an_empty_allow_list_lets_no_one_in) {
  BOOST_TEST(!tls::dn_allowed({}, client_dn));
  BOOST_TEST(tls::dn_allowed({"CN=nobody", "*,CN=client"}, client_dn));
}

// --- priority strings --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(normal_keeps_openssl_ciphers_with_tls_1_2_as_the_oldest_version) {
  auto p = tls::parse_priority("NORMAL");
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(*p == tls::default_priority());
  BOOST_TEST(p->min_version == TLS1_2_VERSION);
  BOOST_TEST(p->max_version == 0);
  BOOST_TEST(p->cipher_list.empty());
}

BOOST_AUTO_TEST_CASE(version_modifiers_become_a_lowest_and_highest_version) {
  auto only12 = tls::parse_priority("NORMAL:-VERS-ALL:+VERS-TLS1.2");
  BOOST_REQUIRE(only12.ok());
  BOOST_TEST(only12->min_version == TLS1_2_VERSION);
  BOOST_TEST(only12->max_version == TLS1_2_VERSION);
  auto only13 = tls::parse_priority("SECURE256:-VERS-TLS1.2:%SERVER_PRECEDENCE:%PROFILE_HIGH");
  BOOST_REQUIRE(only13.ok());
  BOOST_TEST(only13->min_version == TLS1_3_VERSION);
  BOOST_TEST(only13->server_precedence);
  BOOST_TEST(only13->security_level == 3);
  auto with11 = tls::parse_priority("NORMAL:+VERS-TLS1.1:-VERS-SSL3.0:+VERS-DTLS1.2");
  BOOST_REQUIRE(with11.ok());
  BOOST_TEST(with11->min_version == TLS1_1_VERSION);
  BOOST_TEST(with11->max_version == TLS1_3_VERSION);
}

BOOST_AUTO_TEST_CASE(every_accepted_priority_builds_a_context) {
  pki p;
  auto dir = p.client_dir("client", p.client);
  for (const char* prio :
       {"NORMAL", "PERFORMANCE", "PFS", "SECURE128", "SECURE192", "SECURE256", "SUITEB128",
        "SUITEB192", "@SYSTEM", "@LIBVIRT,SYSTEM",
        "NORMAL:%SERVER_PRECEDENCE:%NO_TICKETS:%COMPAT:%PROFILE_MEDIUM", "normal:-vers-tls1.3"}) {
    BOOST_TEST_CONTEXT(prio) {
      auto o = options(tls::role::client, dir);
      o.priority = prio;
      auto ctx = tls::context::make(o);
      BOOST_TEST(ctx.ok(), (ctx.ok() ? "" : ctx.error().message));
    }
  }
}

BOOST_AUTO_TEST_CASE(priority_strings_without_an_openssl_meaning_are_refused_as_libvirt_refuses) {
  for (const char* prio :
       {"BOGUS", "", "NONE:+VERS-TLS1.2", "NORMAL:+AES-128-CBC", "NORMAL:-VERS-ALL",
        "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.3", "NORMAL:+VERS-SSL3.0", "@LIBVIRT",
        "NORMAL:%UNSAFE_RENEGOTIATION", "NORMAL:+VERS-TLS9"}) {
    BOOST_TEST_CONTEXT(prio) {
      auto p = tls::parse_priority(prio);
      BOOST_REQUIRE(!p.ok());
      BOOST_TEST(p.error().code == error_code::system_error);
      BOOST_TEST(p.error().domain == error_domain::rpc);
      BOOST_TEST(starts_with(p.error().message,
                             "Failed to set TLS session priority to " + std::string{prio} + ": "));
    }
  }
}

// --- DN text -------------------------------------------------------------------------------

namespace {

/// The subject DN of a certificate issued for `subject`, read back from PEM.
std::string dn_of(authority& ca, std::vector<std::pair<std::string, std::string>> subject,
                  std::string* pem = nullptr) {
  cert_spec spec;
  spec.subject = std::move(subject);
  auto cert = ca.issue(spec);
  if (pem)
    *pem = cert.cert_pem;
  BIO* bio = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  auto dn = tls::subject_dn(x);
  X509_free(x);
  return dn;
}

} // namespace

BOOST_AUTO_TEST_CASE(dns_are_printed_as_gnutls_prints_them) {
  authority ca{"DN CA"};
  BOOST_TEST(dn_of(ca, test_pki::client_spec().subject) == client_dn);
  BOOST_TEST(dn_of(ca, {{"O", "A, B;C"}, {"CN", "c\"q<>\\ #x "}}) ==
             "O=A\\, B\\;C,CN=c\\\"q\\<\\>\\\\ #x\\ ");
  BOOST_TEST(dn_of(ca, {{"CN", "#lead"}, {"OU", " sp"}, {"L", "a=b"}}) ==
             "CN=\\#lead,OU=\\ sp,L=a=b");
  BOOST_TEST(dn_of(ca, {{"DC", "org"},
                        {"UID", "u1"},
                        {"emailAddress", "a@b"},
                        {"GN", "g"},
                        {"SN", "s"},
                        {"serialNumber", "42"}}) ==
             "DC=org,UID=u1,EMAIL=a@b,givenName=g,surName=s,serialNumber=42");
  BOOST_TEST(dn_of(ca, {{"O", "Gr\xc3\xbc\xc3\x9f"
                              "e"},
                        {"1.2.3.4", "xyz"}}) == "O=Gr\xc3\xbc\xc3\x9f"
                                                "e,1.2.3.4=#0c0378797a");
}

BOOST_AUTO_TEST_CASE(dn_text_agrees_with_virt_pki_query_dn) {
  if (::access("/usr/bin/virt-pki-query-dn", X_OK) != 0) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/virt-pki-query-dn is missing (libvirt-clients)");
    return;
  }
  authority ca{"DN CA"};
  temp_dir dir;
  std::vector<std::vector<std::pair<std::string, std::string>>> subjects{
      test_pki::client_spec().subject,
      {{"C", "GB"}, {"O", "A, B;C"}, {"+OU", "unit"}, {"CN", "c\"q<>\\ #x "}},
      {{"DC", "org"}, {"DC", "example"}, {"UID", "u1"}, {"emailAddress", "a@b"}, {"CN", "#x"}},
      {{"title", "T"},
       {"pseudonym", "p"},
       {"street", "st"},
       {"postalCode", "pc"},
       {"businessCategory", "bc"},
       {"jurisdictionC", "DE"},
       {"description", "d"}},
  };
  for (auto& subject : subjects) {
    std::string pem;
    auto ours = dn_of(ca, subject, &pem);
    test_pki::write_text(dir.file("cert.pem"), pem);
    auto theirs = interop::run_process({"/usr/bin/virt-pki-query-dn", dir.file("cert.pem")});
    BOOST_REQUIRE_EQUAL(theirs.exit_code, 0);
    auto expected = theirs.out.substr(0, theirs.out.find('\n'));
    BOOST_TEST(ours == expected);
  }
}

// --- contexts and libvirt's sanity checks ----------------------------------------------

BOOST_AUTO_TEST_CASE(a_missing_ca_certificate_is_reported_as_libvirt_reports_it) {
  temp_dir dir;
  auto ctx = tls::context::make(options(tls::role::client, dir.path()));
  BOOST_REQUIRE(!ctx.ok());
  BOOST_TEST(ctx.error().code == error_code::system_error);
  BOOST_TEST(ctx.error().domain == error_domain::rpc);
  BOOST_TEST(ctx.error().message == "Cannot read CA certificate '" + dir.path() +
                                        "/cacert.pem': No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_client_without_a_certificate_builds_a_context_and_a_server_does_not) {
  pki p;
  auto d = p.dir.file("ca-only");
  ::mkdir(d.c_str(), 0700);
  test_pki::write_text(d + "/cacert.pem", p.ca.cert_pem());
  BOOST_TEST(tls::context::make(options(tls::role::client, d)).ok());
  auto server = tls::context::make(options(tls::role::server, d));
  BOOST_REQUIRE(!server.ok());
  BOOST_TEST(server.error().message ==
             "Cannot read certificate '" + d + "/servercert.pem': No such file or directory");
}

BOOST_AUTO_TEST_CASE(sanity_checks_refuse_our_own_certificate_out_of_its_validity) {
  pki p;
  auto expired_spec = test_pki::client_spec();
  expired_spec.not_before_days = -30;
  expired_spec.not_after_days = -1;
  auto expired = p.client_dir("expired", p.ca.issue(expired_spec));
  auto e = tls::context::make(options(tls::role::client, expired));
  BOOST_REQUIRE(!e.ok());
  BOOST_TEST(e.error().message ==
             "The client certificate " + expired + "/clientcert.pem has expired");
  auto future_spec = test_pki::server_spec();
  future_spec.not_before_days = 1;
  auto future = p.server_dir("future", p.ca.issue(future_spec));
  auto f = tls::context::make(options(tls::role::server, future));
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST(f.error().message ==
             "The server certificate " + future + "/servercert.pem is not yet active");
  // no_sanity=1 skips these checks.
  auto o = options(tls::role::client, expired);
  o.sanity_check = false;
  BOOST_TEST(tls::context::make(o).ok());
}

BOOST_AUTO_TEST_CASE(sanity_checks_refuse_our_own_certificate_from_another_ca) {
  pki p;
  auto d = p.client_dir("mixed", p.client, {}, p.other_ca.cert_pem());
  auto ctx = tls::context::make(options(tls::role::client, d));
  BOOST_REQUIRE(!ctx.ok());
  BOOST_TEST(ctx.error().message == "Our own certificate " + d + "/clientcert.pem failed " +
                                        "validation against " + d +
                                        "/cacert.pem: The certificate hasn't got a known issuer.");
}

BOOST_AUTO_TEST_CASE(sanity_checks_refuse_a_ca_file_that_holds_no_ca) {
  pki p;
  auto d = p.client_dir("leaf-as-ca", p.client, {}, p.server.cert_pem);
  auto ctx = tls::context::make(options(tls::role::client, d));
  BOOST_REQUIRE(!ctx.ok());
  BOOST_TEST(ctx.error().message ==
             "The certificate " + d + "/cacert.pem basic constraints do not show a CA");
}

BOOST_AUTO_TEST_CASE(sanity_checks_refuse_a_client_certificate_made_for_servers_only) {
  pki p;
  auto spec = test_pki::client_spec();
  spec.purpose = "critical,serverAuth";
  auto d = p.client_dir("server-purpose", p.ca.issue(spec));
  auto ctx = tls::context::make(options(tls::role::client, d));
  BOOST_REQUIRE(!ctx.ok());
  BOOST_TEST(ctx.error().message == "Certificate " + d +
                                        "/clientcert.pem purpose does not allow use for with a "
                                        "TLS client");
}

BOOST_AUTO_TEST_CASE(a_key_that_does_not_match_the_certificate_is_refused) {
  pki p;
  issued mixed = p.client;
  mixed.key_pem = p.server.key_pem;
  auto d = p.client_dir("wrong-key", mixed);
  auto ctx = tls::context::make(options(tls::role::client, d));
  BOOST_REQUIRE(!ctx.ok());
  BOOST_TEST(starts_with(ctx.error().message, "Unable to set x509 key and certificate: " + d +
                                                  "/clientkey.pem, " + d + "/clientcert.pem: "));
}

// --- whole openings ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(valid_certificates_complete_libvirts_opening_on_both_ends) {
  pki p;
  auto client = make(options(tls::role::client, p.client_dir("c", p.client)));
  auto server = make(options(tls::role::server, p.server_dir("s", p.server)));
  auto o = open_pair(client, server);
  BOOST_REQUIRE_MESSAGE(o.client.ok(), message(o.client));
  BOOST_REQUIRE_MESSAGE(o.server.ok(), message(o.server));
  BOOST_TEST((*o.server)->peer_dn() == client_dn);
  BOOST_TEST((*o.client)->peer_dn() == "C=GB,ST=London,L=London,O=Red Hat,CN=localhost");
  BOOST_TEST((*o.client)->peer_failure().empty());
  // The stream flows both ways after the confirmation byte.
  auto c = (*o.client)->native();
  auto s = (*o.server)->native();
  BOOST_REQUIRE_EQUAL(SSL_write(c, "ping", 4), 4);
  char buf[8] = {};
  int n = -1;
  for (int i = 0; i < 200 && n <= 0; ++i) {
    n = SSL_read(s, buf, sizeof buf);
    if (n <= 0)
      std::this_thread::sleep_for(5ms);
  }
  BOOST_TEST(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "ping");
  // An IP address is checked against the certificate's IP names.
  BOOST_TEST(open_pair(client, server, "127.0.0.1").client.ok());
}

namespace {

struct refusal {
  std::string name;
  cert_spec spec;
  bool other_ca = false;
  bool revoked = false;
  std::string reason;
};

cert_spec valid_for(long from, long to, cert_spec spec) {
  spec.not_before_days = from;
  spec.not_after_days = to;
  return spec;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_server_refuses_bad_client_certificates_and_names_the_reason) {
  pki p;
  auto c = test_pki::client_spec();
  std::vector<refusal> cases{
      {"expired", valid_for(-30, -1, c), false, false, "The client certificate has expired"},
      {"not yet valid", valid_for(1, 30, c), false, false,
       "The client certificate is not yet active"},
      {"revoked", c, false, true,
       "Certificate failed validation: The certificate has been revoked."},
      {"another CA", c, true, false,
       "Certificate failed validation: The certificate hasn't got a known issuer."},
  };
  for (auto& r : cases) {
    BOOST_TEST_CONTEXT(r.name) {
      auto cert = (r.other_ca ? p.other_ca : p.ca).issue(r.spec);
      auto crl = r.revoked ? p.ca.crl_pem({cert.serial}) : std::string{};
      auto co = options(tls::role::client, p.client_dir("client-" + r.name, cert));
      co.sanity_check = false; // the client must be able to offer it
      auto server =
          make(options(tls::role::server, p.server_dir("server-" + r.name, p.server, crl)));
      auto o = open_pair(make(co), server);
      BOOST_REQUIRE(!o.server.ok());
      BOOST_TEST(o.server.error().code == error_code::auth_failed);
      BOOST_TEST(starts_with(o.server.error().message, refused + r.reason),
                 o.server.error().message);
      BOOST_TEST(contains(o.server.error().message, client_dn));
      BOOST_REQUIRE(!o.client.ok());
      BOOST_TEST(o.client.error().code == error_code::rpc);
      BOOST_TEST(o.client.error().message == verification_failed);
    }
  }
  // A client without a certificate.
  auto d = p.dir.file("no-cert");
  ::mkdir(d.c_str(), 0700);
  test_pki::write_text(d + "/cacert.pem", p.ca.cert_pem());
  auto o = open_pair(make(options(tls::role::client, d)),
                     make(options(tls::role::server, p.server_dir("s", p.server))));
  BOOST_REQUIRE(!o.server.ok());
  BOOST_TEST(o.server.error().message ==
             refused + "Unable to verify TLS peer: No certificate was found.");
  BOOST_TEST(message(o.client) == verification_failed);
}

BOOST_AUTO_TEST_CASE(the_server_checks_the_client_dn_against_the_allow_list) {
  pki p;
  auto client = make(options(tls::role::client, p.client_dir("c", p.client)));
  auto sdir = p.server_dir("s", p.server);
  auto with_list = [&](std::vector<std::string> list) {
    auto o = options(tls::role::server, sdir);
    o.allowed_dns = std::move(list);
    return open_pair(client, make(o));
  };
  BOOST_TEST(with_list({"C=GB,ST=London,L=London,O=Red Hat,CN=*"}).server.ok());
  BOOST_TEST(with_list({"CN=other", "*,O=Red Hat,CN=cli?nt"}).server.ok());
  for (auto list : {std::vector<std::string>{"C=GB,ST=London,L=London,O=Red Hat,CN=admin"},
                    std::vector<std::string>{}}) {
    auto o = with_list(list);
    BOOST_REQUIRE(!o.server.ok());
    BOOST_TEST(o.server.error().message ==
               refused +
                   "Client's Distinguished Name is not on the list of allowed clients "
                   "(tls_allowed_dn_list) (certificate DN '" +
                   client_dn + "')");
    BOOST_TEST(message(o.client) == verification_failed);
  }
}

BOOST_AUTO_TEST_CASE(tls_no_verify_certificate_lets_a_bad_client_in_and_keeps_the_reason) {
  pki p;
  auto co =
      options(tls::role::client, p.client_dir("c", p.other_ca.issue(test_pki::client_spec())));
  co.sanity_check = false;
  auto so = options(tls::role::server, p.server_dir("s", p.server));
  so.require_valid_peer = false;
  so.allowed_dns = std::vector<std::string>{}; // ignored with the check off, as in libvirt
  auto o = open_pair(make(co), make(so));
  BOOST_REQUIRE_MESSAGE(o.server.ok(), message(o.server));
  BOOST_REQUIRE_MESSAGE(o.client.ok(), message(o.client));
  BOOST_TEST(contains((*o.server)->peer_failure(), "hasn't got a known issuer"));
}

BOOST_AUTO_TEST_CASE(the_client_refuses_bad_server_certificates_and_names_the_reason) {
  pki p;
  auto s = test_pki::server_spec();
  std::vector<refusal> cases{
      {"expired", valid_for(-30, -1, s), false, false, "The server certificate has expired"},
      {"not yet valid", valid_for(1, 30, s), false, false,
       "The server certificate is not yet active"},
      {"revoked", s, false, true,
       "Certificate failed validation: The certificate has been revoked."},
      {"another CA", s, true, false,
       "Certificate failed validation: The certificate hasn't got a known issuer."},
      {"another host", test_pki::server_spec("otherhost"), false, false,
       "Certificate owner does not match the hostname localhost"},
  };
  for (auto& r : cases) {
    BOOST_TEST_CONTEXT(r.name) {
      auto cert = (r.other_ca ? p.other_ca : p.ca).issue(r.spec);
      auto crl = r.revoked ? p.ca.crl_pem({cert.serial}) : std::string{};
      auto so = options(tls::role::server, p.server_dir("server-" + r.name, cert));
      so.sanity_check = false;
      auto cdir = p.client_dir("client-" + r.name, p.client, crl);
      auto o = open_pair(make(options(tls::role::client, cdir)), make(so));
      BOOST_REQUIRE(!o.client.ok());
      BOOST_TEST(o.client.error().code == error_code::auth_failed);
      BOOST_TEST(o.client.error().domain == error_domain::rpc);
      BOOST_TEST(starts_with(o.client.error().message, refused + r.reason),
                 o.client.error().message);
      // no_verify=1: the same server is accepted.
      auto lax = options(tls::role::client, cdir);
      lax.require_valid_peer = false;
      auto o2 = open_pair(make(lax), make(so));
      BOOST_TEST(o2.client.ok(), message(o2.client));
      if (o2.client.ok())
        BOOST_TEST(starts_with((*o2.client)->peer_failure(), r.reason));
    }
  }
  auto client = make(options(tls::role::client, p.client_dir("c", p.client)));
  auto server = make(options(tls::role::server, p.server_dir("s", p.server)));
  auto o = open_pair(client, server, "127.0.0.2");
  BOOST_TEST(starts_with(message(o.client),
                         refused + "Certificate owner does not match the hostname 127.0.0.2"));
}

BOOST_AUTO_TEST_CASE(an_opening_with_a_silent_peer_ends_at_its_deadline) {
  pki p;
  auto client = make(options(tls::role::client, p.client_dir("c", p.client)));
  auto server = make(options(tls::role::server, p.server_dir("s", p.server)));
  int sv[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd silent{sv[1]};
  auto start = tls::clock::now();
  auto c = tls::connect(client, unique_fd{sv[0]}, "localhost", start + 300ms);
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == error_code::auth_failed);
  BOOST_TEST(c.error().message == "authentication failed: TLS handshake failed " +
                                      std::string{std::strerror(ETIMEDOUT)});
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd silent_client{sv[0]};
  auto s = tls::accept(server, unique_fd{sv[1]}, tls::clock::now() + 300ms);
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(contains(s.error().message, std::strerror(ETIMEDOUT)));
}

BOOST_AUTO_TEST_CASE(writing_to_a_peer_that_has_gone_raises_no_sigpipe) {
  // This process keeps SIGPIPE's default action: a raised SIGPIPE ends it.
  BOOST_REQUIRE(std::signal(SIGPIPE, SIG_DFL) != SIG_ERR);
  pki p;
  auto client = make(options(tls::role::client, p.client_dir("c", p.client)));
  auto server = make(options(tls::role::server, p.server_dir("s", p.server)));
  auto o = open_pair(client, server);
  BOOST_REQUIRE(o.client.ok() && o.server.ok());
  o.server = virt_error{}; // the server's socket closes
  auto ssl = (*o.client)->native();
  std::string chunk(4096, 'x');
  int rc = 1;
  for (int i = 0; i < 1000 && rc > 0; ++i)
    rc = SSL_write(ssl, chunk.data(), static_cast<int>(chunk.size()));
  BOOST_TEST(rc <= 0);
  int err = SSL_get_error(ssl, rc);
  BOOST_TEST((err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL));
}
