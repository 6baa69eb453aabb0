// The floor of a connection in CAF 0.17 (issue 10): what a server made of
// CAF brokers pays per idle connection before any protocol code runs.
//
//   va_bench_conn_floor [N]   (default 3000 connections, after 200 warm-up)
//
// For each shape the program forks a CAF server on 127.0.0.1, opens N plain
// TCP connections to it from the parent (raw sockets, no CAF), waits until
// the server holds them all, and reads the server's VmRSS before and after:
//   acceptor   - one broker accepts and keeps every connection (no actor
//                per connection; nothing read)
//   broker     - a broker forked per connection (CAF's usual shape), idle
//   reading 4 B - the same, reading a length word (receive_policy exactly 4)
//   reading    - the same, reading up to 4 KiB at a time (at_most 4096)
//   broker+actor - reading broker plus one event-based actor per connection
//                (virtactord's frame broker + session before CONNECT_OPEN)
// It prints KiB per connection for each. virtactord's own figure comes from
// bench/run.sh (docs/benchmarks.md).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>

namespace {

enum class shape { acceptor, broker, reading4, reading, broker_actor };

const char* name_of(shape s) {
  switch (s) {
    case shape::acceptor:
      return "acceptor";
    case shape::broker:
      return "broker";
    case shape::reading4:
      return "reading 4 B";
    case shape::reading:
      return "reading";
    default:
      return "broker+actor";
  }
}

caf::behavior idle_peer(caf::event_based_actor*) {
  return {[](int) {}};
}

caf::behavior per_connection(caf::io::broker* self, caf::io::connection_handle hdl, shape s) {
  caf::actor peer;
  if (s == shape::reading4)
    self->configure_read(hdl, caf::io::receive_policy::exactly(4));
  else if (s != shape::broker)
    self->configure_read(hdl, caf::io::receive_policy::at_most(4096));
  if (s == shape::broker_actor)
    peer = self->spawn(idle_peer);
  return {
    [](const caf::io::new_data_msg&) {},
    [self, peer](const caf::io::connection_closed_msg&) {
      if (peer)
        self->send_exit(peer, caf::exit_reason::user_shutdown);
      self->quit();
    },
  };
}

caf::behavior acceptor(caf::io::broker* self, shape s) {
  return {
    [self, s](const caf::io::new_connection_msg& msg) {
      if (s != shape::acceptor)
        self->fork(per_connection, msg.handle, s);
    },
    [](const caf::io::new_data_msg&) {},
    [](const caf::io::connection_closed_msg&) {},
  };
}

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/// The server: prints its port on `out`, then serves until killed.
[[noreturn]] void serve(shape s, int out) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  uint16_t port = 0;
  auto srv = sys.middleman().spawn_server(acceptor, port, s);
  if (!srv) {
    std::fprintf(stderr, "spawn_server: %s\n", sys.render(srv.error()).c_str());
    std::_Exit(1);
  }
  (void) !::write(out, &port, sizeof port);
  ::close(out);
  for (;;)
    ::pause();
}

long field_of(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0)
      return std::atol(line.c_str() + std::strlen(key));
  return -1;
}

long open_fds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  long n = 0;
  for (int fd = 0; fd < 65536; ++fd)
    n += ::access((dir + "/" + std::to_string(fd)).c_str(), F_OK) == 0;
  return n;
}

std::vector<int> connect_n(uint16_t port, int n) {
  std::vector<int> fds;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    fds.push_back(fd);
  }
  return fds;
}

/// Waits until the server holds at least `want` descriptors (every
/// connection accepted).
void wait_fds(pid_t pid, long want) {
  for (int i = 0; i < 600 && open_fds(pid) < want; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
}

double measure(shape s, int n) {
  int p[2];
  if (::pipe(p) != 0)
    std::exit(1);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    serve(s, p[1]);
  }
  ::close(p[1]);
  uint16_t port = 0;
  if (::read(p[0], &port, sizeof port) != sizeof port)
    std::exit(1);
  ::close(p[0]);
  constexpr int warm = 200;
  auto warmup = connect_n(port, warm);
  long base_fds = open_fds(pid);
  wait_fds(pid, base_fds); // settle
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  base_fds = open_fds(pid);
  long before = field_of(pid, "VmRSS:");
  auto conns = connect_n(port, n);
  wait_fds(pid, base_fds + n);
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  long after = field_of(pid, "VmRSS:");
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  for (int fd : conns)
    ::close(fd);
  for (int fd : warmup)
    ::close(fd);
  return static_cast<double>(after - before) / n;
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 3000;
  if (n <= 0 || n > 9000) {
    std::fprintf(stderr, "usage: %s [N, 1..9000]\n", argv[0]);
    return 2;
  }
  raise_fd_limit();
  std::printf("CAF 0.17 floor, %d idle TCP connections (after 200 warm-up): server KiB per connection\n", n);
  for (auto s : {shape::acceptor, shape::broker, shape::reading4, shape::reading,
                 shape::broker_actor})
    std::printf("%-13s %6.2f\n", name_of(s), measure(s, n));
  return 0;
}
