// virtactord as a process: command line, configuration errors, signals,
// systemd notification and a second daemon on the same sockets. Each case
// starts its own daemon on a temp directory (tests/interop/harness.hpp).
#define BOOST_TEST_MODULE daemon_lifecycle
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/fd.hpp"
#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A client that has opened test:///default and got an answer.
raw_client open_client(const std::string& socket) {
  auto c = raw_client::unix_socket(socket);
  c.open();
  auto type = c.call<proc::connect_get_type>();
  BOOST_TEST_REQUIRE(type.ok());
  BOOST_TEST(type->type == "TEST");
  return c;
}

/// SIGTERM (again, if sent already): exit status 0, sockets and pid file gone.
void check_clean_stop(daemon_process& daemon) {
  BOOST_TEST(daemon.stop(30s) == 0, daemon.log());
  BOOST_TEST(!exists(daemon.rw_socket()));
  BOOST_TEST(!exists(daemon.ro_socket()));
  BOOST_TEST(!exists(daemon.pid_file()));
}

/// A datagram socket bound to `path`: systemd's side of NOTIFY_SOCKET.
class notify_socket {
public:
  explicit notify_socket(std::string path) : path_(std::move(path)) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path_.data(), path_.size());
    if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw std::runtime_error("cannot bind " + path_ + ": " + std::strerror(errno));
  }

  /// The next datagram, or nullopt when none comes within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
      return std::nullopt;
    char buf[4096];
    auto n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0)
      return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

  const std::string& path() const { return path_; }

private:
  std::string path_;
  unique_fd fd_;
};

} // namespace

BOOST_AUTO_TEST_CASE(help_and_version_print_and_exit_zero) {
  for (std::string flag : {"--help", "-h"}) {
    auto r = run_process({virtactord_path(), flag}, {}, 30s);
    BOOST_TEST(r.exit_code == 0, flag << ": " << r.err);
    BOOST_TEST(contains(r.out, "Usage:"), flag << " printed: " << r.out);
    BOOST_TEST(contains(r.out, "--config"), flag << " printed: " << r.out);
  }
  for (std::string flag : {"--version", "-V"}) {
    auto r = run_process({virtactord_path(), flag}, {}, 30s);
    BOOST_TEST(r.exit_code == 0, flag << ": " << r.err);
    BOOST_TEST(r.out.rfind("virtactord ", 0) == 0, flag << " printed: " << r.out);
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_refused_by_name) {
  auto r = run_process({virtactord_path(), "--no-such-option"}, {}, 30s);
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(contains(r.err, "unrecognized option '--no-such-option'"), r.err);
}

BOOST_AUTO_TEST_CASE(a_malformed_config_value_stops_start_up_naming_its_line) {
  temp_dir dir;
  auto conf = dir.file("virtactord.conf");
  write_file(conf, "# line 1\n"
                   "unix_sock_dir = \"" + dir.path() + "\"\n"
                   "max_clients = \"many\"\n");
  auto r = run_process({virtactord_path(), "-f", conf, "--pid-file", dir.file("pid")}, {}, 30s);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "line 3"), r.err);
  BOOST_TEST(contains(r.err, "max_clients"), r.err);
  BOOST_TEST(contains(r.err, conf), r.err);
  BOOST_TEST(!exists(dir.file("libvirt-sock")), "a refused start left a socket");
  BOOST_TEST(!exists(dir.file("pid")), "a refused start left a pid file");
}

BOOST_AUTO_TEST_CASE(a_missing_config_file_stops_start_up_clearly) {
  temp_dir dir;
  auto r = run_process({virtactord_path(), "-f", dir.file("absent.conf")}, {}, 30s);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "Failed to open file '" + dir.file("absent.conf") + "'"), r.err);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_warns_with_its_line_and_the_daemon_serves) {
  daemon_settings settings;
  settings.tcp = false;
  settings.config = "no_such_key = 1\n";
  daemon_process daemon{settings};
  // The harness writes two lines before the caller's config.
  BOOST_TEST(contains(daemon.log(), "line 3: unknown key 'no_such_key'"), daemon.log());
  open_client(daemon.rw_socket());
}

BOOST_AUTO_TEST_CASE(sigterm_removes_the_sockets_and_pid_file_and_exits_zero) {
  daemon_process daemon;
  BOOST_TEST_REQUIRE(exists(daemon.rw_socket()));
  BOOST_TEST_REQUIRE(exists(daemon.ro_socket()));
  BOOST_TEST_REQUIRE(exists(daemon.pid_file()));
  check_clean_stop(daemon);
}

BOOST_AUTO_TEST_CASE(sigterm_with_clients_connected_ends_them_and_exits_zero) {
  daemon_process daemon;
  auto unix_client = open_client(daemon.rw_socket());
  auto tcp_client = raw_client::tcp(daemon.tcp_port());
  tcp_client.open();
  daemon.signal(SIGTERM);
  // The daemon must not wait for its clients to leave.
  BOOST_TEST(unix_client.closed_within(30s), "the unix client was never disconnected");
  BOOST_TEST(tcp_client.closed_within(30s), "the tcp client was never disconnected");
  check_clean_stop(daemon);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_and_the_daemon_keeps_serving) {
  daemon_settings settings;
  settings.tcp = false;
  settings.args = {"--verbose"};
  daemon_process daemon{settings};
  auto before = open_client(daemon.rw_socket());
  daemon.signal(SIGHUP);
  BOOST_TEST(wait_until([&] { return contains(daemon.log(), "configuration reloaded"); }, 30s),
             "no reload was logged: " << daemon.log());
  BOOST_TEST_REQUIRE(daemon.running(), daemon.log());
  auto type = before.call<proc::connect_get_type>();
  BOOST_TEST(type.ok(), "a client of before the reload lost its connection");
  open_client(daemon.rw_socket());
  BOOST_TEST(daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(with_notify_socket_set_the_daemon_tells_systemd_ready_and_stopping) {
  temp_dir dir;
  notify_socket systemd{dir.file("notify")};
  daemon_settings settings;
  settings.tcp = false;
  settings.env = {"NOTIFY_SOCKET=" + systemd.path()};
  daemon_process daemon{settings};
  auto ready = systemd.receive(30s);
  BOOST_TEST_REQUIRE(ready.has_value(), "no notification came");
  BOOST_TEST(contains(*ready, "READY=1"), *ready);
  BOOST_TEST(contains(*ready, "MAINPID=" + std::to_string(daemon.pid())), *ready);
  daemon.signal(SIGTERM);
  auto stopping = systemd.receive(30s);
  BOOST_TEST_REQUIRE(stopping.has_value(), "no notification on SIGTERM");
  BOOST_TEST(contains(*stopping, "STOPPING=1"), *stopping);
  BOOST_TEST(daemon.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_socket_dir_refuses_to_start) {
  daemon_settings settings;
  settings.tcp = false;
  daemon_process first{settings};
  temp_dir other;
  auto r = run_process({virtactord_path(), "-f", first.config_path(), "--pid-file",
                        other.file("second.pid")},
                       {}, 30s);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "already"), r.err);
  BOOST_TEST(contains(r.err, first.rw_socket()), r.err);
  BOOST_TEST(!exists(other.file("second.pid")));
  // The first one is untouched: its sockets are still there and answer.
  BOOST_TEST_REQUIRE(first.running());
  BOOST_TEST(exists(first.rw_socket()));
  BOOST_TEST(exists(first.ro_socket()));
  open_client(first.rw_socket());
  open_client(first.ro_socket());
}
