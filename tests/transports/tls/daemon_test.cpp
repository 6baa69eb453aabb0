// virtactord's tls listener against real clients: our own remote driver, the
// real virsh (GnuTLS: wire compatibility), python3-libvirt as the reference
// for errors and the virtactor shell; every refusal with its reason on the
// side that checks; no descriptor leaks on either side.
#define BOOST_TEST_MODULE tls_daemon
#include <boost/test/unit_test.hpp>

#include <optional>
#include <regex>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "actors/fd.hpp"
#include "client/blocking.hpp"
#include "tests/transports/tls/tls_peers.hpp"

using namespace virtactor;
using namespace virtactor::tls_test;
using namespace std::chrono_literals;
using client::blocking_connection;
using protocol::proc;

namespace {

bool have(const char* path) {
  return ::access(path, X_OK) == 0;
}

std::string error_of(const result<std::vector<std::string>>& r) {
  return r.ok() ? std::string{"(succeeded)"} : r.error().message;
}

/// virsh's (or the shell's) output with the wall-clock CPU time masked.
interop::process_result run(const std::string& binary, const std::string& uri,
                            std::vector<std::string> args) {
  args.insert(args.begin(), {binary, "-c", uri});
  auto r = interop::run_process(args, {}, 60s);
  static const std::regex cpu_time{"CPU time: +[0-9.]+s"};
  r.out = std::regex_replace(r.out, cpu_time, "CPU time: N");
  return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(our_client_works_over_tls_and_the_connection_is_secure) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server)};
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  auto c = blocking_connection::open(uri);
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message) + "\n" + daemon.log());
  auto& conn = **c;
  auto all = conn.call<proc::connect_list_all_domains>({1, 0});
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE_EQUAL(all->domains.size(), 1u);
  BOOST_TEST(all->domains[0].name == "test");
  auto secure = conn.call<proc::connect_is_secure>();
  BOOST_REQUIRE(secure.ok());
  BOOST_TEST(secure->secure == 1);
  auto missing = conn.call<proc::domain_lookup_by_name>({"nope"});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == error_code::no_domain);
  // Messages the daemon starts (events) come through the TLS stream as well.
  auto id = conn.register_domain_event(0, std::nullopt);
  BOOST_REQUIRE(id.ok());
  auto dom = conn.call<proc::domain_lookup_by_name>({"test"});
  BOOST_REQUIRE(dom.ok());
  BOOST_REQUIRE(conn.call<proc::domain_suspend>({dom->dom}).ok());
  BOOST_REQUIRE(conn.call<proc::domain_resume>({dom->dom}).ok());
  for (auto event : {3, 4}) {
    auto ev = conn.next_event(10s);
    BOOST_REQUIRE(ev.has_value());
    BOOST_TEST(ev->event == event);
  }
  // Messages of many TLS records (16 KiB each) arrive whole, both ways.
  std::string text(200000, 'x');
  auto big = conn.call<proc::domain_define_xml>(
      {"<domain type='test'><name>big</name><memory>8192</memory><os><type>hvm</type></os>"
       "<description>" +
       text + "</description></domain>"});
  BOOST_REQUIRE_MESSAGE(big.ok(), (big.ok() ? "" : big.error().message));
  auto xml = conn.call<proc::domain_get_xml_desc>({big->dom, 0});
  BOOST_REQUIRE(xml.ok());
  BOOST_TEST(contains(xml->xml, "<description>" + text + "</description>"));
  BOOST_TEST(conn.close().ok());
}

BOOST_AUTO_TEST_CASE(virsh_and_the_shell_over_tls_print_what_virsh_prints_for_the_test_driver) {
  if (!have("/usr/bin/virsh")) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/virsh is missing (Debian: libvirt-clients)");
    return;
  }
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server)};
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  for (auto args :
       {std::vector<std::string>{"list", "--all"}, std::vector<std::string>{"dominfo", "test"},
        std::vector<std::string>{"dominfo", "nosuch"}}) {
    BOOST_TEST_CONTEXT(args[0] << " " << args[1]) {
      auto reference = run("/usr/bin/virsh", "test:///default", args);
      BOOST_TEST(reference.exit_code == (args[1] == "nosuch" ? 1 : 0));
      auto virsh = run("/usr/bin/virsh", uri, args);
      BOOST_TEST(virsh.exit_code == reference.exit_code);
      BOOST_TEST(virsh.out == reference.out);
      BOOST_TEST(virsh.err == reference.err);
      auto shell = run(VA_VIRTACTOR_PATH, uri, args);
      BOOST_TEST(shell.exit_code == reference.exit_code);
      BOOST_TEST(shell.out == reference.out);
      BOOST_TEST(shell.err == reference.err);
    }
  }
  BOOST_TEST(run("/usr/bin/virsh", uri, {"list", "--all"}).out.find(" test ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_daemon_refuses_bad_client_certificates_and_logs_the_reason) {
  pki_set pki;
  auto c = test_pki::client_spec();
  auto expired_spec = c;
  expired_spec.not_before_days = -30;
  expired_spec.not_after_days = -1;
  auto future_spec = c;
  future_spec.not_before_days = 2;
  auto revoked = pki.ca.issue(c);
  struct refusal {
    std::string name;
    test_pki::issued cert;
    std::string reason;
  };
  std::vector<refusal> cases{
      {"expired", pki.ca.issue(expired_spec), "The client certificate has expired"},
      {"future", pki.ca.issue(future_spec), "The client certificate is not yet active"},
      {"revoked", revoked, "The certificate has been revoked."},
      {"other-ca", pki.other_ca.issue(c), "The certificate hasn't got a known issuer."},
      {"not-listed", pki.ca.issue(test_pki::client_spec("intruder")),
       "Client's Distinguished Name is not on the list of allowed clients (tls_allowed_dn_list)"},
  };
  tls_virtactord daemon{pki.server_dir("server", pki.server, pki.ca.crl_pem({revoked.serial})),
                        "tls_allowed_dn_list = [\"C=GB,ST=London,L=London,O=Red Hat,CN=client\", "
                        "\"*,CN=admin*\"]\n"};
  BOOST_TEST(list_domains(daemon.uri(pki.client_dir("good", pki.client))).ok());
  for (auto& r : cases) {
    BOOST_TEST_CONTEXT(r.name) {
      // no_sanity=1: the client offers a certificate its own checks would refuse.
      auto uri = daemon.uri(pki.client_dir(r.name, r.cert), "&no_sanity=1");
      auto before = daemon.log();
      auto result = list_domains(uri);
      BOOST_REQUIRE(!result.ok());
      BOOST_TEST(result.error().code == error_code::rpc);
      BOOST_TEST(result.error().domain == error_domain::rpc);
      BOOST_TEST(result.error().message == verification_failed);
      BOOST_TEST(interop::wait_until([&] { return contains(daemon.log(), r.reason); }, 10s),
                 daemon.log());
      BOOST_TEST(contains(daemon.log().substr(before.size()), "refused"));
    }
  }
  if (have("/usr/bin/virsh")) {
    auto virsh =
        run("/usr/bin/virsh", daemon.uri(pki.dir.file("expired"), "&no_sanity=1"), {"list"});
    BOOST_TEST(virsh.exit_code == 1);
    BOOST_TEST(contains(virsh.err, "error: " + verification_failed), virsh.err);
  }
  if (have_python_libvirt()) {
    auto theirs = libvirt_open_error(daemon.uri(pki.dir.file("revoked"), "&no_sanity=1"));
    BOOST_REQUIRE(theirs.has_value());
    BOOST_TEST(theirs->code == error_code::rpc);
    BOOST_TEST(theirs->message == verification_failed);
  }
}

BOOST_AUTO_TEST_CASE(our_client_and_virsh_refuse_a_daemon_certificate_for_another_host) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.ca.issue(test_pki::server_spec("otherhost")))};
  auto dir = pki.client_dir("client", pki.client);
  auto ours = list_domains(daemon.uri(dir));
  BOOST_REQUIRE(!ours.ok());
  BOOST_TEST(ours.error().code == error_code::auth_failed);
  BOOST_TEST(ours.error().message ==
             peer_refused + ": Certificate owner does not match the hostname localhost "
                            "(certificate DN 'C=GB,ST=London,L=London,O=Red Hat,CN=otherhost')");
  BOOST_TEST(list_domains(daemon.uri(dir, "&no_verify=1")).ok());
  if (have("/usr/bin/virsh")) {
    auto virsh = run("/usr/bin/virsh", daemon.uri(dir), {"list"});
    BOOST_TEST(contains(virsh.err, "error: " + peer_refused), virsh.err);
    BOOST_TEST(run("/usr/bin/virsh", daemon.uri(dir, "&no_verify=1"), {"list"}).exit_code == 0);
  }
}

BOOST_AUTO_TEST_CASE(our_client_refuses_an_expired_daemon_certificate) {
  pki_set pki;
  auto spec = test_pki::server_spec();
  spec.not_before_days = -30;
  spec.not_after_days = -1;
  tls_virtactord daemon{pki.server_dir("server", pki.ca.issue(spec)),
                        "tls_no_sanity_certificate = 1\n"};
  auto ours = list_domains(daemon.uri(pki.client_dir("client", pki.client)));
  BOOST_REQUIRE(!ours.ok());
  BOOST_TEST(ours.error().message.rfind(peer_refused + ": The server certificate has expired", 0) ==
             0);
}

BOOST_AUTO_TEST_CASE(our_errors_are_libvirts_errors) {
  if (!have_python_libvirt()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 has no libvirt module (python3-libvirt)");
    return;
  }
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server)};
  auto no_cert = pki.dir.file("ca-only");
  ::mkdir(no_cert.c_str(), 0700);
  test_pki::write_text(no_cert + "/cacert.pem", pki.ca.cert_pem());
  std::vector<std::string> uris{
      daemon.uri(pki.dir.file("nothing-here")),                // no CA certificate
      tls_uri("localhost", interop::free_tcp_port(), no_cert), // nobody listens
      daemon.uri(no_cert),                                     // no client certificate
      daemon.uri(no_cert, "&tls_priority=BOGUS"),              // a priority string
  };
  for (auto& uri : uris) {
    BOOST_TEST_CONTEXT(uri) {
      auto ours = list_domains(uri);
      auto theirs = libvirt_open_error(uri);
      BOOST_REQUIRE(theirs.has_value());
      BOOST_REQUIRE(!ours.ok());
      BOOST_TEST(ours.error().code == theirs->code);
      BOOST_TEST(ours.error().domain == theirs->domain);
      // The priority text after the string names OpenSSL's reason, not GnuTLS's.
      if (contains(uri, "tls_priority"))
        BOOST_TEST(ours.error().message.rfind("Failed to set TLS session priority to BOGUS: ", 0) ==
                   0);
      else
        BOOST_TEST(ours.error().message == theirs->message);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_client_stuck_in_its_handshake_holds_up_no_one) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server), "max_anonymous_clients = 3\n"};
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  // Two clients that connect and say nothing, one that speaks no TLS.
  auto silent1 = connect_tcp("127.0.0.1", daemon.port(), 5000);
  auto silent2 = connect_tcp("127.0.0.1", daemon.port(), 5000);
  auto garbage = connect_tcp("127.0.0.1", daemon.port(), 5000);
  BOOST_REQUIRE(silent1.ok() && silent2.ok() && garbage.ok());
  const char junk[] = "GET / HTTP/1.0\r\n\r\n";
  BOOST_REQUIRE(::write(garbage->get(), junk, sizeof junk - 1) > 0);
  auto names = list_domains(uri);
  BOOST_REQUIRE_MESSAGE(names.ok(), error_of(names));
  BOOST_TEST(names->at(0) == "test");
  BOOST_TEST(
      interop::wait_until([&] { return contains(daemon.log(), "TLS handshake failed"); }, 10s),
      daemon.log());
}

BOOST_AUTO_TEST_CASE(a_client_beyond_max_anonymous_clients_waits_for_a_free_slot) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server), "max_anonymous_clients = 1\n"};
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  auto silent = connect_tcp("127.0.0.1", daemon.port(), 5000);
  BOOST_REQUIRE(silent.ok());
  std::optional<result<std::vector<std::string>>> names;
  std::thread client{[&] { names = list_domains(uri); }};
  // The silent client gives its slot up by leaving.
  silent->reset();
  client.join();
  BOOST_REQUIRE(names.has_value());
  BOOST_REQUIRE_MESSAGE(names->ok(), error_of(*names));
  BOOST_TEST(names->value().at(0) == "test");
}

BOOST_AUTO_TEST_CASE(many_opens_and_closes_leak_no_descriptors_on_either_side) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server)};
  auto uri = daemon.uri(pki.client_dir("client", pki.client));
  BOOST_REQUIRE(list_domains(uri).ok()); // warm-up: threads and lazily made state
  auto ours = open_fds(::getpid());
  auto theirs = open_fds(daemon.pid());
  for (int i = 0; i < 30; ++i) {
    auto names = list_domains(uri);
    BOOST_REQUIRE_MESSAGE(names.ok(), error_of(names));
  }
  // A refused client leaves nothing behind either.
  auto refused = daemon.uri(pki.client_dir("bad", pki.other_ca.issue(test_pki::client_spec())),
                            "&no_sanity=1");
  for (int i = 0; i < 5; ++i)
    BOOST_REQUIRE(!list_domains(refused).ok());
  // A transient descriptor may inflate a baseline, never a leak of one per open.
  BOOST_TEST(interop::wait_until([&] { return open_fds(::getpid()) <= ours; }, 10s),
             "ours: " << ours << " -> " << open_fds(::getpid()));
  BOOST_TEST(interop::wait_until([&] { return open_fds(daemon.pid()) <= theirs; }, 10s),
             "daemon: " << theirs << " -> " << open_fds(daemon.pid()));
}

BOOST_AUTO_TEST_CASE(the_daemon_does_not_start_without_usable_credentials_or_priority) {
  pki_set pki;
  auto dir = pki.server_dir("server", pki.server);
  struct bad {
    std::string config;
    std::string message;
  };
  for (auto& b : std::vector<bad>{
           {"ca_file = \"/nonexistent/cacert.pem\"\n",
            "virtactord: Cannot read CA certificate '/nonexistent/cacert.pem': No such file or "
            "directory"},
           {"tls_priority = \"NONE:+AES-128-CBC\"\n",
            "virtactord: Failed to set TLS session priority to NONE:+AES-128-CBC: "}}) {
    BOOST_TEST_CONTEXT(b.config) {
      interop::daemon_settings s;
      s.tcp = false;
      s.args = {"--listen"};
      // The first setting of a key wins: ours come before the listener's.
      s.config = b.config + tls_config(interop::free_tcp_port(), dir);
      std::string error;
      try {
        interop::daemon_process d{s};
      } catch (const std::runtime_error& e) {
        error = e.what();
      }
      BOOST_TEST(contains(error, b.message), error);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_stopping_daemon_abandons_the_handshakes_in_progress) {
  pki_set pki;
  tls_virtactord daemon{pki.server_dir("server", pki.server)};
  auto silent = connect_tcp("127.0.0.1", daemon.port(), 5000);
  BOOST_REQUIRE(silent.ok());
  // The handshake worker has the client once the daemon counts it.
  BOOST_REQUIRE(list_domains(daemon.uri(pki.client_dir("client", pki.client))).ok());
  BOOST_TEST(daemon.stop() == 0);
  BOOST_TEST(contains(daemon.log(), "abandoned: the server is stopping"), daemon.log());
}
