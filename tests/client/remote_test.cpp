// The remote driver against real daemons: the real libvirtd (interop), and
// virtactord for what libvirt lacks (clean failure when the daemon goes away,
// the opt-in reconnect policy that re-registers event subscriptions).
#define BOOST_TEST_MODULE client_remote
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/fd.hpp"
#include "client/async.hpp"
#include "client/blocking.hpp"
#include "client/runtime.hpp"

using namespace virtactor;
using client::blocking_connection;
using protocol::proc;
using namespace std::chrono_literals;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  auto v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string source_dir() {
  return env_or("VA_SOURCE_DIR", ".");
}

std::string binary_dir() {
  return env_or("VA_BINARY_DIR", ".");
}

std::string make_temp_dir() {
  char tmpl[] = "/tmp/va-remote-XXXXXX";
  auto p = ::mkdtemp(tmpl);
  BOOST_REQUIRE(p != nullptr);
  return p;
}

/// A free loopback port (bound, read back, released).
uint16_t free_port() {
  uint16_t port = 0;
  auto fd = listen_tcp("127.0.0.1", 0, port);
  BOOST_REQUIRE(fd.ok());
  return port;
}

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

/// A virtactord of our own on a temp socket directory, stopped by PID.
class virtactord {
public:
  explicit virtactord(std::string dir) : dir_(std::move(dir)) {
    std::ofstream conf(dir_ + "/virtactord.conf");
    conf << "unix_sock_dir = \"" << dir_ << "\"\n"
         << "unix_sock_rw_perms = \"0700\"\n";
  }
  ~virtactord() { stop(); }

  std::string socket() const { return dir_ + "/libvirt-sock"; }
  std::string uri() const { return "test+unix:///default?socket=" + socket(); }

  void start() {
    auto bin = binary_dir() + "/daemon/virtactord";
    pid_ = ::fork();
    BOOST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      auto log = dir_ + "/virtactord.log";
      freopen(log.c_str(), "a", stderr);
      execl(bin.c_str(), bin.c_str(), "-f", (dir_ + "/virtactord.conf").c_str(), nullptr);
      _exit(127);
    }
    BOOST_REQUIRE_MESSAGE(wait_for([this] { return connect_unix(socket(), 200).ok(); }, 20s),
                          "virtactord did not come up");
  }

  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

private:
  std::string dir_;
  pid_t pid_ = -1;
};

/// A real libvirtd on a temp socket directory and a loopback port, through
/// the interop scripts.
class libvirtd {
public:
  libvirtd() : dir_(make_temp_dir()), port_(free_port()) {
    auto cmd = "sh " + source_dir() + "/tests/interop/start-libvirtd.sh " + dir_ + " " +
               std::to_string(port_);
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~libvirtd() {
    auto cmd = "sh " + source_dir() + "/tests/interop/stop-libvirtd.sh " + dir_ + " >/dev/null";
    (void) std::system(cmd.c_str());
  }
  bool ok() const { return ok_; }
  std::string unix_uri() const { return "test+unix:///default?socket=" + dir_ + "/libvirt-sock"; }
  std::string tcp_uri() const {
    return "test+tcp://127.0.0.1:" + std::to_string(port_) + "/default";
  }

private:
  std::string dir_;
  uint16_t port_;
  bool ok_ = false;
};

bool have_libvirtd() {
  return ::access("/usr/sbin/libvirtd", X_OK) == 0;
}

void exercise(blocking_connection& c) {
  auto all = c.call<proc::connect_list_all_domains>({1, 3});
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE_EQUAL(all->domains.size(), 1u);
  BOOST_TEST(all->domains[0].name == "test");
  auto type = c.call<proc::connect_get_type>();
  BOOST_REQUIRE(type.ok());
  BOOST_TEST(type->type == "TEST");
  auto missing = c.call<proc::domain_lookup_by_name>({"nope"});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == error_code::no_domain);
  BOOST_TEST(missing.error().domain == error_domain::test);
  auto id = c.register_domain_event(0, std::nullopt);
  BOOST_REQUIRE(id.ok());
  auto dom = c.call<proc::domain_lookup_by_name>({"test"});
  BOOST_REQUIRE(dom.ok());
  BOOST_REQUIRE(c.call<proc::domain_suspend>({dom->dom}).ok());
  BOOST_REQUIRE(c.call<proc::domain_resume>({dom->dom}).ok());
  for (auto event : {3, 4}) {
    auto ev = c.next_event(10s);
    BOOST_REQUIRE(ev.has_value());
    BOOST_TEST(ev->callback_id == *id);
    BOOST_TEST(ev->event == event);
    BOOST_TEST(ev->dom.name == "test");
  }
  BOOST_REQUIRE(c.deregister_domain_event(*id).ok());
}

} // namespace

BOOST_AUTO_TEST_CASE(our_client_works_against_the_real_libvirtd_over_unix_and_tcp) {
  if (!have_libvirtd()) {
    BOOST_TEST_MESSAGE("libvirtd not installed: skipped (CI installs libvirt-daemon)");
    return;
  }
  libvirtd peer;
  BOOST_REQUIRE_MESSAGE(peer.ok(), "could not start libvirtd");
  for (auto uri : {peer.unix_uri(), peer.tcp_uri()}) {
    BOOST_TEST_MESSAGE("uri " << uri);
    auto c = blocking_connection::open(uri);
    BOOST_REQUIRE_MESSAGE(c.ok(), uri << ": " << (c.ok() ? "" : c.error().message));
    exercise(**c);
    BOOST_TEST((*c)->close().ok());
  }
}

BOOST_AUTO_TEST_CASE(a_read_only_open_on_the_real_libvirtd_is_refused_writes) {
  if (!have_libvirtd())
    return;
  libvirtd peer;
  BOOST_REQUIRE(peer.ok());
  auto c = blocking_connection::open(peer.unix_uri(), client::connect_ro);
  BOOST_REQUIRE(c.ok());
  auto dom = (*c)->call<proc::domain_lookup_by_name>({"test"});
  BOOST_REQUIRE(dom.ok());
  auto r = (*c)->call<proc::domain_suspend>({dom->dom});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::operation_denied);
}

BOOST_AUTO_TEST_CASE(a_missing_daemon_socket_gives_libvirts_connect_error) {
  auto dir = make_temp_dir();
  auto c = blocking_connection::open("test+unix:///default?socket=" + dir + "/none");
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == error_code::system_error);
  BOOST_TEST(c.error().message.find("Failed to connect socket to '" + dir + "/none'") == 0);
}

BOOST_AUTO_TEST_CASE(a_tls_uri_without_certificates_names_the_missing_file) {
  auto dir = make_temp_dir();
  auto c = blocking_connection::open("test+tls://127.0.0.1/default?pkipath=" + dir);
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().message == "Cannot read CA certificate '" + dir +
                                      "/cacert.pem': No such file or directory");
}

BOOST_AUTO_TEST_CASE(calls_fail_cleanly_when_the_daemon_goes_away) {
  virtactord daemon{make_temp_dir()};
  daemon.start();
  auto c = blocking_connection::open(daemon.uri());
  BOOST_REQUIRE(c.ok());
  BOOST_REQUIRE((*c)->call<proc::connect_get_type>().ok());
  daemon.stop();
  BOOST_TEST(wait_for([&] { return (*c)->closed(); }, 20s));
  auto r = (*c)->call<proc::connect_get_type>({}, 2s);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code != error_code::ok);
}

namespace {

/// Collects what a watcher and an event subscriber receive.
struct inbox {
  std::mutex mtx;
  std::vector<std::string> log;
  void add(std::string s) {
    std::lock_guard<std::mutex> guard{mtx};
    log.push_back(std::move(s));
  }
  bool has(const std::string& s) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(log.begin(), log.end(), s) != log.end();
  }
};

caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<inbox> box) {
  return {
    [box](const domain_event& ev) {
      box->add("event " + ev.dom.name + " " + std::to_string(ev.event));
    },
    [box](const connection_closed& cc) { box->add("closed " + std::to_string(cc.reason)); },
    [box](const connection_resumed&) { box->add("resumed"); },
  };
}

} // namespace

BOOST_AUTO_TEST_CASE(with_a_reconnect_policy_subscriptions_survive_a_daemon_restart) {
  virtactord daemon{make_temp_dir()};
  daemon.start();
  auto& sys = client::process_system();
  caf::scoped_actor self{sys};
  auto box = std::make_shared<inbox>();
  auto sink = sys.spawn(recorder, box);
  open_options opts;
  opts.reconnect_attempts = 50;
  opts.reconnect_backoff_ms = 50;
  connection_actor conn;
  self->request(client::driver_registry(sys), 30s, open_atom::value, daemon.uri(), uint32_t{0}, opts)
    .receive([&](const connection_actor& c) { conn = c; },
             [&](caf::error& e) { BOOST_FAIL("open: " << caf::to_string(e)); });
  bool watching = false;
  self->request(conn, 10s, watch_atom::value, sink).receive([&](bool b) { watching = b; },
                                                               [](caf::error&) {});
  BOOST_REQUIRE(watching);
  int32_t cb = -1;
  self->request(conn, 10s, subscribe_atom::value, int32_t{0}, domain_filter{}, sink)
    .receive([&](int32_t id) { cb = id; }, [](caf::error&) {});
  BOOST_REQUIRE(cb >= 0);

  daemon.stop();
  auto lost = wait_for([&] { return box->has("closed 1"); }, 20s);
  if (!lost) {
    std::lock_guard<std::mutex> guard{box->mtx};
    for (auto& l : box->log)
      BOOST_TEST_MESSAGE("got: " << l);
  }
  BOOST_REQUIRE(lost);
  daemon.start();
  BOOST_REQUIRE_MESSAGE(wait_for([&] { return box->has("resumed"); }, 30s),
                        "the connection did not come back");

  // The daemon is new (fresh test state); events flow to the same subscription.
  auto call = [&](proc p, const xdr::buffer& args) {
    std::optional<virt_error> err;
    xdr::buffer out;
    self->request(conn, 10s, call_atom::value, static_cast<int32_t>(p), args)
      .receive([&](xdr::buffer& b) { out = std::move(b); },
               [&](caf::error& e) { err = from_caf_error(e); });
    BOOST_REQUIRE_MESSAGE(!err, "call failed: " << (err ? err->message : ""));
    return out;
  };
  protocol::dom_only dom;
  auto raw = call(proc::domain_lookup_by_name, xdr::encode(protocol::name_args{"test"}));
  BOOST_REQUIRE(xdr::decode(raw, dom).empty());
  call(proc::domain_suspend, xdr::encode(dom));
  BOOST_TEST(wait_for([&] { return box->has("event test 3"); }, 10s));
  self->request(conn, 10s, close_atom::value).receive([](bool) {}, [](caf::error&) {});
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}
