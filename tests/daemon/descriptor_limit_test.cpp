// virtactord at its descriptor limit (actors/flow_stream.cpp's doorman, used
// by daemon/listener.cpp and daemon/tls_listener.cpp): started under a hard
// limit of 64 descriptors (prlimit), flooded with more connections than
// that. It must say so once in its log, refuse the extra connections
// instead of spinning on the readable listening socket, keep serving the
// clients it has, and accept again once connections close.
#define BOOST_TEST_MODULE daemon_descriptor_limit
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

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

constexpr int limit = 64;
const std::string refusal = "cannot accept a connection on unix socket ";

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1))
    ++n;
  return n;
}

/// utime + stime of `pid` in clock ticks.
long cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  long utime = 0, stime = 0;
  // Fields 3.. after the name: state is field 3, utime 14, stime 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14)
      utime = std::stol(f);
    if (i == 15)
      stime = std::stol(f);
  }
  return utime + stime;
}

/// A connected unix socket that says nothing (the daemon's backlog holds it
/// until it is accepted or refused).
unique_fd connect_silent(const std::string& path) {
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return {};
  return fd;
}

/// True when the daemon closed `fd` (refused it).
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1)
    return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0 || (p.revents & (POLLHUP | POLLERR));
}

raw_client open_client(const std::string& socket) {
  auto c = raw_client::unix_socket(socket);
  c.open();
  return c;
}

} // namespace

BOOST_AUTO_TEST_CASE(out_of_descriptors_refuses_logs_once_does_not_spin_and_recovers) {
  daemon_settings settings;
  settings.tcp = false;
  settings.config = "log_level = 2\nmax_clients = 10000\n";
  settings.launcher = {"/usr/bin/prlimit", "--nofile=" + std::to_string(limit) + ":" +
                                             std::to_string(limit)};
  if (!exists(settings.launcher[0])) {
    BOOST_TEST_MESSAGE("no prlimit: skipped");
    return;
  }
  daemon_process daemon{settings};
  BOOST_TEST(daemon.log().find("descriptor limit " + std::to_string(limit)) != std::string::npos,
             daemon.log());

  // A client from before the flood, to show the daemon keeps serving.
  auto before = open_client(daemon.rw_socket());
  BOOST_TEST_REQUIRE(before.call<proc::connect_get_type>().ok());

  // Twice the limit in silent connections: the daemon runs out on the way.
  std::vector<unique_fd> flood;
  for (int i = 0; i < 2 * limit; ++i) {
    auto fd = connect_silent(daemon.rw_socket());
    BOOST_TEST_REQUIRE(bool(fd), "connect " << i << ": " << std::strerror(errno));
    flood.push_back(std::move(fd));
  }
  BOOST_TEST_REQUIRE(wait_until([&] { return daemon.log().find(refusal) != std::string::npos; },
                                30s),
                     daemon.log());
  auto line_start = daemon.log().find(refusal);
  auto line = daemon.log().substr(line_start, daemon.log().find('\n', line_start) - line_start);
  BOOST_TEST(line.find("out of file descriptors (limit " + std::to_string(limit) + ")") !=
               std::string::npos,
             line);
  BOOST_TEST(line.find("refusing connections until some close") != std::string::npos, line);

  // Every connection past the limit is refused (closed), none left hanging
  // in the backlog: the ones the daemon did not accept see their end.
  BOOST_TEST(wait_until(
               [&] {
                 int refused = 0;
                 for (auto& fd : flood)
                   refused += closed_by_peer(fd.get());
                 return refused >= limit / 2;
               },
               30s),
             "the daemon refused too few of " << flood.size() << " connections");

  // No busy loop while it stays out of descriptors: over a second and more
  // of being at the limit, the daemon uses a small part of one CPU (CAF's
  // own acceptor spins at a whole core here).
  auto ticks0 = cpu_ticks(daemon.pid());
  auto t0 = clock_type::now();
  for (int i = 0; i < 20; ++i) {
    // New connections keep arriving: each is refused with one accept.
    auto fd = connect_silent(daemon.rw_socket());
    ::usleep(75000);
    BOOST_TEST(wait_until([&] { return !fd || closed_by_peer(fd.get()); }, 10s));
  }
  auto ticks1 = cpu_ticks(daemon.pid());
  double wall = std::chrono::duration<double>(clock_type::now() - t0).count();
  double cpu = static_cast<double>(ticks1 - ticks0) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  BOOST_TEST(cpu < 0.25 * wall, "daemon CPU " << cpu << " s over " << wall << " s at the limit");

  // Still serving the client it had.
  BOOST_TEST(before.call<proc::connect_get_type>().ok());

  // Logged once (or, on a very slow machine, once more after 10 s).
  auto refusals = count(daemon.log(), refusal);
  BOOST_TEST(refusals >= 1u);
  BOOST_TEST(refusals <= 2u, daemon.log());

  // Descriptors come back: new clients get in.
  flood.clear();
  std::optional<raw_client> after;
  BOOST_TEST(wait_until(
               [&] {
                 try {
                   after.emplace(open_client(daemon.rw_socket()));
                   return after->call<proc::connect_get_type>().ok();
                 } catch (const std::exception&) {
                   return false;
                 }
               },
               30s, 100ms),
             daemon.log());
  BOOST_TEST(daemon.log().find("accepting connections on unix socket " + daemon.rw_socket() +
                               " again") != std::string::npos,
             daemon.log());
  after.reset();
  BOOST_TEST(daemon.stop(30s) == 0, daemon.log());
}
