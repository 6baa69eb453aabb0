// SASL as libvirt does it, with a test sasldb (saslpasswd2 -f) and its own
// mech_list (SCRAM-SHA-256 and DIGEST-MD5) found through SASL_CONF_PATH:
// the real virsh and python3-libvirt against virtactord; our client against
// a real libvirtd and against virtactord; right and wrong passwords, a user
// outside sasl_allowed_username_list, credentials asked through the auth
// callbacks; on plain TCP only a mechanism with a security layer, and the
// stream encoded by it.
#define BOOST_TEST_MODULE daemon_sasl
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/sasl.hpp"
#include "client/blocking.hpp"
#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"
#include "tests/transports/tls/tls_peers.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;
using tls_test::contains;

namespace {

/// The message of a failed result, "" for a success (Boost builds assertion
/// messages even when the assertion holds).
template <class T>
std::string why(const result<T>& r) {
  return r.ok() ? std::string{} : r.error().message;
}

std::string source_dir() {
  return VA_SASL_TEST_SOURCE_ROOT;
}

/// A sasldb with alice (secret) and bob (other), a libvirt.conf naming it,
/// and auth.conf files for virsh: right, wrong and bob.
struct sasl_setup {
  temp_dir dir;
  sasl_setup() {
    for (auto [user, password] : {std::pair{"alice", "secret"}, std::pair{"bob", "other"}}) {
      auto r = run_process({"/bin/sh", "-c",
                            std::string{"printf %s "} + password + " | /usr/sbin/saslpasswd2 -f " +
                              dir.file("passwd.db") + " -a libvirt -p -c " + user},
                           {}, 60s);
      BOOST_TEST_REQUIRE(r.exit_code == 0, "saslpasswd2 (sasl2-bin) failed: " << r.err);
    }
    write_file(dir.file("libvirt.conf"),
               "mech_list: digest-md5 scram-sha-256\nsasldb_path: " + dir.file("passwd.db") + "\n");
    for (auto [name, user, password] :
         {std::tuple{"right", "alice", "secret"}, std::tuple{"wrong", "alice", "guess"},
          std::tuple{"bob", "bob", "other"}})
      write_file(dir.file(std::string{name} + ".conf"),
                 std::string{"[credentials-x]\nauthname="} + user + "\npassword=" + password +
                   "\n[auth-libvirt-localhost]\ncredentials=x\n[auth-libvirt-127.0.0.1]\n"
                   "credentials=x\n");
  }
  std::string env() const { return "SASL_CONF_PATH=" + dir.path(); }
  /// An auth.conf that answers nothing: no file of the machine may answer
  /// in the callbacks' place (a missing file is an error to libvirt).
  std::string no_auth_file() const {
    write_file(dir.file("none.conf"), "");
    return dir.file("none.conf");
  }
  std::string auth_file(const std::string& name) const { return dir.file(name + ".conf"); }
};

daemon_process sasl_daemon(const sasl_setup& sasl) {
  daemon_settings s;
  s.config = "auth_unix_rw = \"sasl\"\nauth_tcp = \"sasl\"\n"
             "sasl_allowed_username_list = [\"alice\"]\n";
  s.env = {sasl.env()};
  return daemon_process{s};
}

process_result virsh(const sasl_setup& sasl, const std::string& auth, const std::string& uri,
                     const std::string& command) {
  return run_process({"/usr/bin/virsh", "-c", uri, command}, {"LIBVIRT_AUTH_FILE=" + sasl.auth_file(auth)},
                     120s);
}

/// Credentials for our client's auth callbacks; counts what was asked.
struct answers {
  std::string user, password;
  std::shared_ptr<std::set<int>> asked = std::make_shared<std::set<int>>();
  std::shared_ptr<const connect_auth> auth() const {
    auto a = std::make_shared<connect_auth>();
    a->types = {credential_type::authname, credential_type::passphrase};
    a->callback = [u = user, p = password, asked = asked](std::vector<credential>& creds) {
      for (auto& c : creds) {
        asked->insert(static_cast<int>(c.type));
        if (c.type == credential_type::authname)
          c.result = u;
        else if (c.type == credential_type::passphrase)
          c.result = p;
      }
      return true;
    };
    return a;
  }
};

/// Our client's open of `uri` with `who`'s credentials: the domain names, or the error.
result<std::vector<std::string>> our_client(const sasl_setup& sasl, const std::string& uri,
                                            const answers& who) {
  ::setenv("LIBVIRT_AUTH_FILE", sasl.no_auth_file().c_str(), 1);
  open_options opts;
  opts.auth = who.auth();
  auto c = client::blocking_connection::open(uri, 0, opts);
  if (!c)
    return c.error();
  auto doms = (*c)->call<proc::connect_list_all_domains>({1, 0});
  if (!doms)
    return doms.error();
  std::vector<std::string> names;
  for (auto& d : doms->domains)
    names.push_back(d.name);
  return names;
}

void check_our_client(const sasl_setup& sasl, const std::string& unix_uri,
                      const std::string& tcp_uri) {
  for (auto& uri : {unix_uri, tcp_uri}) {
    BOOST_TEST_CONTEXT(uri) {
      answers alice{"alice", "secret"};
      auto ok = our_client(sasl, uri, alice);
      BOOST_TEST_REQUIRE(ok.ok(), why(ok));
      BOOST_TEST((*ok == std::vector<std::string>{"test"}));
      BOOST_TEST(alice.asked->count(static_cast<int>(credential_type::authname)) == 1u);
      BOOST_TEST(alice.asked->count(static_cast<int>(credential_type::passphrase)) == 1u);
      for (auto who : {answers{"alice", "guess"}, answers{"bob", "other"}}) {
        auto refused = our_client(sasl, uri, who);
        BOOST_TEST_REQUIRE(!refused.ok());
        BOOST_TEST(refused.error().message == "authentication failed: authentication failed");
      }
    }
  }
}

/// Reads from `fd` what arrives within `timeout` (at least `want` bytes, if
/// they come).
std::string read_bytes(int fd, size_t want, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = clock_type::now() + timeout;
  while (out.size() < want && clock_type::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1)
      continue;
    char buf[65536];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

/// SASL with `user`/`password` over a raw connection, as libvirt's client
/// makes it; returns the exchange (for its layer) once both sides are done.
std::unique_ptr<sasl::client> log_in(raw_client& c, const stream_peer& peer, answers who,
                                     std::string& mechlist) {
  auto cli = sasl::client::make("localhost", peer,
                                sasl::security::for_channel(peer.secure, 0), who.auth());
  BOOST_TEST_REQUIRE(cli.ok(), why(cli));
  auto init = c.call<proc::auth_sasl_init>();
  BOOST_TEST_REQUIRE(init.ok(), why(init));
  mechlist = init->mechlist;
  std::string mech;
  auto first = (*cli)->start(mechlist, mech);
  BOOST_TEST_REQUIRE(first.ok(), why(first));
  protocol::auth_sasl_start_args a;
  a.mech = mech;
  protocol::set_sasl_data(a.nil, a.data, first->data);
  auto r = c.call<proc::auth_sasl_start>(a);
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  bool server_done = r->complete != 0;
  auto in = protocol::from_sasl_data(r->nil, r->data);
  for (int round = 0; round < 10; ++round) {
    auto mine = (*cli)->step(in);
    BOOST_TEST_REQUIRE(mine.ok(), why(mine));
    if (server_done && mine->complete)
      return std::move(*cli);
    protocol::auth_sasl_step_args s;
    protocol::set_sasl_data(s.nil, s.data, mine->data);
    auto sr = c.call<proc::auth_sasl_step>(s);
    BOOST_TEST_REQUIRE(sr.ok(), why(sr));
    if (sr->complete && mine->complete)
      return std::move(*cli);
    server_done = sr->complete != 0;
    in = protocol::from_sasl_data(sr->nil, sr->data);
  }
  BOOST_FAIL("SASL did not finish");
  return nullptr;
}

} // namespace

BOOST_AUTO_TEST_CASE(virsh_logs_in_with_the_right_password_only_and_as_an_allowed_user_only) {
  sasl_setup sasl;
  auto d = sasl_daemon(sasl);
  for (auto& uri : {d.unix_uri(), d.tcp_uri()}) {
    BOOST_TEST_CONTEXT(uri) {
      auto ok = virsh(sasl, "right", uri, "list --all --name");
      BOOST_TEST(ok.exit_code == 0, ok.err);
      BOOST_TEST(contains(ok.out, "test"), ok.out);
      for (auto who : {"wrong", "bob"}) {
        auto refused = virsh(sasl, who, uri, "list --all --name");
        BOOST_TEST(refused.exit_code == 1);
        BOOST_TEST(contains(refused.err, "error: authentication failed: authentication failed"),
                   refused.err);
      }
    }
  }
  BOOST_TEST(contains(d.log(), "SASL client identity 'bob' not allowed by sasl_allowed_username_list"),
             d.log());
}

BOOST_AUTO_TEST_CASE(python3_libvirt_logs_in_through_its_auth_callback) {
  sasl_setup sasl;
  auto d = sasl_daemon(sasl);
  auto script = R"(
import libvirt, sys
asked = []
def cb(creds, data):
    for c in creds:
        asked.append(c[0])
        if c[0] == libvirt.VIR_CRED_AUTHNAME: c[4] = sys.argv[2]
        elif c[0] == libvirt.VIR_CRED_PASSPHRASE: c[4] = sys.argv[3]
    return 0
try:
    c = libvirt.openAuth(sys.argv[1], [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], cb, None], 0)
    print('domains', [x.name() for x in c.listAllDomains()], 'secure', c.isSecure(), 'asked', sorted(set(asked)))
except libvirt.libvirtError as e:
    print('error', e)
)";
  write_file(sasl.dir.file("client.py"), script);
  for (auto& uri : {d.unix_uri(), d.tcp_uri()}) {
    BOOST_TEST_CONTEXT(uri) {
      auto run = [&](const char* user, const char* password) {
        return run_process(
          {system_python, sasl.dir.file("client.py"), uri, user, password},
          {"LIBVIRT_AUTH_FILE=" + sasl.no_auth_file()}, 120s);
      };
      auto ok = run("alice", "secret");
      BOOST_TEST(contains(ok.out, "domains ['test'] secure 1 asked [2, 5]"), ok.out << ok.err);
      auto wrong = run("alice", "guess");
      BOOST_TEST(contains(wrong.out, "error authentication failed: authentication failed"),
                 wrong.out << wrong.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(before_login_only_authentication_is_answered) {
  sasl_setup sasl;
  auto d = sasl_daemon(sasl);
  auto c = raw_client::unix_socket(d.rw_socket());
  auto list = c.call<proc::auth_list>();
  BOOST_TEST_REQUIRE(list.ok());
  BOOST_TEST((list->types.size() == 1 && list->types[0] == protocol::auth_type::sasl));
  for (auto p : {proc::connect_get_version, proc::connect_open, proc::connect_supports_feature}) {
    auto reply = c.call(static_cast<int32_t>(p),
                        p == proc::connect_open
                          ? xdr::encode(protocol::connect_open_args{"test:///default", 0})
                          : p == proc::connect_supports_feature
                              ? xdr::encode(protocol::connect_supports_feature_args{10})
                              : xdr::buffer{});
    BOOST_TEST_REQUIRE(reply.is_error());
    BOOST_TEST(reply.error().message.value_or("") == "authentication required");
    BOOST_TEST(reply.error().code == static_cast<int32_t>(error_code::rpc));
  }
  // The read-only socket has no authentication here (auth_unix_ro = none).
  auto ro = raw_client::unix_socket(d.ro_socket());
  auto none = ro.call<proc::auth_list>();
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST((none->types.size() == 1 && none->types[0] == protocol::auth_type::none));
  ro.open();
}

BOOST_AUTO_TEST_CASE(plain_tcp_offers_only_a_security_layer_and_the_stream_is_encoded) {
  sasl_setup sasl;
  auto d = sasl_daemon(sasl);
  std::string unix_mechs, tcp_mechs;
  {
    auto u = raw_client::unix_socket(d.rw_socket());
    auto cli = log_in(u, describe_socket(u.fd()), answers{"alice", "secret"}, unix_mechs);
    BOOST_TEST(cli->ssf() == 0); // a unix socket needs no layer: SCRAM is fine there
    u.open(); // in clear
  }
  BOOST_TEST(contains(unix_mechs, "SCRAM-SHA-256"), unix_mechs);
  BOOST_TEST(contains(unix_mechs, "DIGEST-MD5"), unix_mechs);

  {
    // A client that asks for SCRAM on tcp anyway is refused: no layer.
    auto forced = raw_client::tcp(d.tcp_port());
    BOOST_TEST_REQUIRE(forced.call<proc::auth_sasl_init>().ok());
    protocol::auth_sasl_start_args a;
    a.mech = "SCRAM-SHA-256";
    a.nil = 1;
    auto r = forced.call<proc::auth_sasl_start>(a);
    BOOST_TEST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().message == "authentication failed: authentication failed");
  }
  auto t = raw_client::tcp(d.tcp_port());
  auto peer = describe_socket(t.fd());
  peer.secure = false;
  auto cli = log_in(t, peer, answers{"alice", "secret"}, tcp_mechs);
  BOOST_TEST(tcp_mechs == "DIGEST-MD5");
  BOOST_TEST(cli->ssf() >= 56);
  auto layer = cli->layer();
  BOOST_TEST_REQUIRE(layer != nullptr);
  // From now on both directions are encoded: a call through the layer...
  protocol::header h;
  h.proc = static_cast<int32_t>(proc::connect_open);
  h.serial = 1000;
  auto call = raw_client::frame(h, xdr::encode(protocol::connect_open_args{"test:///default", 0}));
  xdr::buffer wire;
  BOOST_TEST_REQUIRE(layer->encode(call.data(), call.size(), wire).ok());
  BOOST_TEST(!contains(std::string(wire.begin(), wire.end()), "test:///default"));
  BOOST_TEST_REQUIRE(t.send_bytes(wire));
  // ...gets an encoded reply, which decodes to the OK of that serial.
  xdr::buffer plain;
  auto raw = read_bytes(t.fd(), 1, 30s);
  for (int i = 0; i < 50 && plain.size() < protocol::length_min; ++i) {
    BOOST_TEST_REQUIRE(layer->decode(raw.data(), raw.size(), plain).ok());
    raw = plain.size() < protocol::length_min ? read_bytes(t.fd(), 1, 1s) : "";
  }
  BOOST_TEST_REQUIRE(plain.size() >= protocol::length_min);
  protocol::header reply;
  BOOST_TEST_REQUIRE(protocol::decode_header(plain.data() + 4, plain.size() - 4, reply).empty());
  BOOST_TEST(reply.serial == 1000u);
  BOOST_TEST((reply.status == protocol::msg_status::ok));
  // Messages sent in clear now are noise to the daemon (the first word
  // reads as the length of an encoded packet): it drops us.
  t.send_call(static_cast<int32_t>(proc::connect_get_type));
  t.send_call(static_cast<int32_t>(proc::connect_get_type));
  BOOST_TEST(t.closed_within(30s));
}

BOOST_AUTO_TEST_CASE(our_client_logs_in_to_virtactord) {
  sasl_setup sasl;
  auto d = sasl_daemon(sasl);
  check_our_client(sasl, d.unix_uri(), d.tcp_uri());
}

BOOST_AUTO_TEST_CASE(our_client_logs_in_to_a_real_libvirtd_configured_for_sasl) {
  if (::access("/usr/sbin/libvirtd", X_OK) != 0) {
    BOOST_TEST_MESSAGE("libvirtd not installed: skipped (CI installs libvirt-daemon)");
    return;
  }
  sasl_setup sasl;
  temp_dir dir;
  auto port = free_tcp_port();
  auto started = run_process(
    {"/bin/sh", source_dir() + "/tests/interop/start-libvirtd.sh", dir.path(), std::to_string(port)},
    {sasl.env(), "VA_LIBVIRTD_AUTH=sasl",
     "VA_LIBVIRTD_EXTRA_CONFIG=sasl_allowed_username_list = [\"alice\"]"},
    120s);
  BOOST_TEST_REQUIRE(started.exit_code == 0, started.err);
  struct stopper {
    std::string dir;
    ~stopper() {
      run_process({"/bin/sh", source_dir() + "/tests/interop/stop-libvirtd.sh", dir}, {}, 60s);
    }
  } stop{dir.path()};
  check_our_client(sasl, "test+unix:///default?socket=" + dir.file("libvirt-sock"),
                   "test+tcp://127.0.0.1:" + std::to_string(port) + "/default");
}

BOOST_AUTO_TEST_CASE(sasl_over_tls_logs_in_our_client_and_virsh) {
  sasl_setup sasl;
  tls_test::pki_set pki;
  tls_test::tls_virtactord d{pki.server_dir("server", pki.server),
                             "auth_tls = \"sasl\"\nsasl_allowed_username_list = [\"alice\"]\n",
                             {sasl.env()}};
  auto uri = d.uri(pki.client_dir("client", pki.client));
  answers alice{"alice", "secret"};
  auto ok = our_client(sasl, uri, alice);
  BOOST_TEST_REQUIRE(ok.ok(), why(ok) << "\n" << d.log());
  BOOST_TEST((*ok == std::vector<std::string>{"test"}));
  BOOST_TEST(alice.asked->count(static_cast<int>(credential_type::passphrase)) == 1u);
  auto wrong = our_client(sasl, uri, answers{"alice", "guess"});
  BOOST_TEST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().message == "authentication failed: authentication failed");
  auto listed = virsh(sasl, "right", uri, "list --all --name");
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(contains(listed.out, "test"), listed.out);
  auto refused = virsh(sasl, "bob", uri, "list --all --name");
  BOOST_TEST(contains(refused.err, "error: authentication failed: authentication failed"), refused.err);
}
