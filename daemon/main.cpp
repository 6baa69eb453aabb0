// virtactord: libvirt's remote protocol served by actors.
//
// Start-up: read the config, open the sockets (unix rw and ro always, tcp
// and tls with --listen), start the actor system, the driver registry (local
// drivers only: the daemon is where remote URIs end) and one listener per socket,
// write the pid file, tell systemd. Then wait for signals: SIGTERM/SIGINT stop,
// SIGHUP reloads what can change at run time.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "actors/fd.hpp"
#include "client/registry.hpp"
#include "daemon/config.hpp"
#include "daemon/listener.hpp"
#include "daemon/security.hpp"
#include "daemon/tls_listener.hpp"
#include "drivers/test/test_driver_actor.hpp"

namespace {

using namespace virtactor;

constexpr const char* default_config_path = "/etc/virtactor/virtactord.conf";

void usage(std::ostream& out, const char* argv0) {
  out << "Usage:\n  " << argv0 << " [options]\n\n"
      << "Options:\n"
      << "  -h | --help            Display program help\n"
      << "  -v | --verbose         Verbose messages\n"
      << "  -d | --daemon          Run as a daemon & write PID file\n"
      << "  -l | --listen          Listen for TCP/IP connections (tcp and tls)\n"
      << "  -t | --timeout <secs>  Exit after timeout period (no clients connected)\n"
      << "  -f | --config <file>   Configuration file\n"
      << "  -V | --version         Display version information\n"
      << "  -p | --pid-file <file> Change name of PID file\n\n"
      << "virtactord serves libvirt's remote protocol (virsh, the language bindings\n"
      << "and virtactor connect to it). Default configuration file: "
      << default_config_path << "\n";
}

struct cli {
  std::string config_path;
  std::string pid_file;
  bool listen = false;
  bool daemonize = false;
  bool verbose = false;
  int timeout = 0;
};

/// Parses the command line; returns an exit code to stop with, or -1 to go on.
int parse_cli(int argc, char** argv, cli& out) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    auto a = args[i];
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto need = [&](const char* name) -> bool {
      if (has_value)
        return true;
      if (i + 1 >= args.size()) {
        std::cerr << argv[0] << ": option '" << name << "' requires an argument\n";
        return false;
      }
      value = args[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      usage(std::cout, argv[0]);
      return 0;
    } else if (a == "-V" || a == "--version") {
      std::cout << "virtactord (virtactor) 0.1.0 (libvirt protocol 9.0)\n";
      return 0;
    } else if (a == "-v" || a == "--verbose") {
      out.verbose = true;
    } else if (a == "-d" || a == "--daemon") {
      out.daemonize = true;
    } else if (a == "-l" || a == "--listen") {
      out.listen = true;
    } else if (a == "-f" || a == "--config") {
      if (!need("--config"))
        return 2;
      out.config_path = value;
    } else if (a == "-p" || a == "--pid-file") {
      if (!need("--pid-file"))
        return 2;
      out.pid_file = value;
    } else if (a == "-t" || a == "--timeout") {
      if (!need("--timeout"))
        return 2;
      char* end = nullptr;
      long t = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || t < 0 || t > 1000000) {
        std::cerr << argv[0] << ": invalid timeout '" << value << "'\n";
        return 2;
      }
      out.timeout = static_cast<int>(t);
    } else {
      std::cerr << argv[0] << ": unrecognized option '" << a << "'\n";
      usage(std::cerr, argv[0]);
      return 2;
    }
  }
  return -1;
}

/// Tells systemd we are ready (sd_notify without libsystemd).
void notify_systemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path)
    return;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::string p = path;
  if (p.size() >= sizeof sa.sun_path)
    return;
  std::memcpy(sa.sun_path, p.data(), p.size());
  socklen_t len = offsetof(sockaddr_un, sun_path) + p.size();
  if (p[0] == '@')
    sa.sun_path[0] = '\0'; // abstract namespace
  unique_fd fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return;
  ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa),
           len);
}

bool make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      cur = dir.substr(0, i);
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return false;
    }
  }
  return true;
}

struct logger {
  int level = 3; // 1 debug, 2 info, 3 warning, 4 error
  void log(int lvl, const std::string& msg) const {
    static const char* names[] = {"", "debug", "info", "warning", "error"};
    if (lvl >= level)
      std::cerr << "virtactord: " << names[lvl] << ": " << msg << "\n";
  }
};

std::shared_ptr<daemon::session_options> make_session_options(const daemon::daemon_config& cfg,
                                                               registry_actor registry) {
  auto opts = std::make_shared<daemon::session_options>();
  opts->keepalive_interval = cfg.keepalive_interval > 0 ? cfg.keepalive_interval : 0;
  opts->keepalive_count = static_cast<int>(cfg.keepalive_count);
  opts->max_client_requests =
    cfg.max_client_requests > 0 ? static_cast<int>(cfg.max_client_requests) : 5;
  opts->registry = std::move(registry);
  return opts;
}

} // namespace

int main(int argc, char** argv) {
  cli args;
  if (int rc = parse_cli(argc, argv, args); rc >= 0)
    return rc;

  // Signals are taken by the main thread with sigwait; block them before any
  // thread starts so that every CAF thread inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGALRM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  logger log;
  std::vector<std::string> warnings;
  daemon::daemon_config cfg;
  std::string config_path = args.config_path;
  if (config_path.empty() && ::access(default_config_path, R_OK) == 0)
    config_path = default_config_path;
  if (!config_path.empty()) {
    auto loaded = daemon::load_config(config_path, warnings);
    if (!loaded) {
      std::cerr << "virtactord: " << loaded.error().message << "\n";
      return 1;
    }
    cfg = std::move(*loaded);
  }
  log.level = static_cast<int>(cfg.log_level);
  if (args.verbose && log.level > 2)
    log.level = 2;
  for (auto& w : warnings)
    log.log(3, w);

  auto group = daemon::socket_group(cfg);
  if (!group) {
    std::cerr << "virtactord: " << group.error().message << "\n";
    return 1;
  }
  if (auto ok = daemon::prepare_authentication(cfg); !ok) {
    std::cerr << "virtactord: " << ok.error().message << "\n";
    return 1;
  }
  // The pid file is locked before anything else is touched, so a second
  // daemon given the same file stops here (libvirtd's order); the pid goes
  // in once the daemon serves. A daemon that forks takes it in the child:
  // locks do not pass through fork.
  daemon::pid_file pid_lock;
  auto take_pid_file = [&]() -> bool {
    if (args.pid_file.empty())
      return true;
    auto taken = daemon::pid_file::acquire(args.pid_file);
    if (!taken) {
      std::cerr << "virtactord: " << taken.error().message << "\n";
      return false;
    }
    pid_lock = std::move(*taken);
    return true;
  };
  if (!args.daemonize && !take_pid_file())
    return 1;

  auto fd_limit = raise_fd_limit();
  log.log(2, "descriptor limit " + std::to_string(fd_limit));

  // Sockets first: a daemon that cannot listen must fail before it says "ready".
  // libvirtd's default directory, so that virsh finds us without socket=.
  std::string sock_dir = cfg.unix_sock_dir.value_or("/run/libvirt");
  if (!make_dirs(sock_dir)) {
    std::cerr << "virtactord: cannot create socket directory '" << sock_dir
              << "': " << std::strerror(errno) << "\n";
    return 1;
  }
  auto rw_path = sock_dir + "/libvirt-sock";
  auto ro_path = sock_dir + "/libvirt-sock-ro";
  auto rw = listen_unix(rw_path, cfg.unix_sock_rw_perms, *group);
  if (!rw) {
    std::cerr << "virtactord: " << rw.error().message << "\n";
    return 1;
  }
  auto ro = listen_unix(ro_path, cfg.unix_sock_ro_perms, *group);
  if (!ro) {
    ::unlink(rw_path.c_str());
    std::cerr << "virtactord: " << ro.error().message << "\n";
    return 1;
  }
  std::optional<unique_fd> tcp;
  uint16_t tcp_port = 0;
  if (args.listen && cfg.listen_tcp) {
    auto t = listen_tcp(cfg.listen_addr.value_or(""), cfg.tcp_port, tcp_port);
    if (!t) {
      ::unlink(rw_path.c_str());
      ::unlink(ro_path.c_str());
      std::cerr << "virtactord: " << t.error().message << "\n";
      return 1;
    }
    tcp = std::move(*t);
    log.log(2, "listening on tcp port " + std::to_string(tcp_port));
  }
  // --- tls (--listen with listen_tls): credentials are checked before the
  // port opens, and a daemon that cannot serve TLS does not start (libvirtd).
  std::shared_ptr<tls::context> tls_ctx;
  std::optional<unique_fd> tls_sock;
  uint16_t tls_port = 0;
  if (args.listen && cfg.listen_tls) {
    const char* home = std::getenv("HOME");
    auto ctx = daemon::make_server_context(cfg, ::geteuid() == 0, home ? home : "");
    auto t = ctx ? listen_tcp(cfg.listen_addr.value_or(""), cfg.tls_port, tls_port)
                 : result<unique_fd>{ctx.error()};
    if (!t) {
      ::unlink(rw_path.c_str());
      ::unlink(ro_path.c_str());
      std::cerr << "virtactord: " << t.error().message << "\n";
      return 1;
    }
    tls_ctx = std::move(*ctx);
    tls_sock = std::move(*t);
    log.log(2, "listening on tls port " + std::to_string(tls_port));
  }

  if (args.daemonize) {
    // Classic double fork is not needed under a supervisor; detach once.
    pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "virtactord: fork failed: " << std::strerror(errno) << "\n";
      return 1;
    }
    if (pid > 0)
      return 0;
    ::setsid();
    if (!take_pid_file()) {
      ::unlink(rw_path.c_str());
      ::unlink(ro_path.c_str());
      return 1;
    }
  }

  int rc = 0;
  {
    caf::actor_system_config sys_cfg;
    sys_cfg.load<caf::io::middleman>();
    // Scheduler threads for the cores CAF's I/O thread leaves, and idle
    // workers that wait instead of sleep-polling every 50 us: on 2 cores this
    // nearly doubled calls per daemon CPU-second (docs/benchmarks.md).
    auto cores = std::max(2u, std::thread::hardware_concurrency());
    sys_cfg.set("scheduler.max-threads", size_t{cores - 1});
    sys_cfg.set("work-stealing.aggressive-poll-attempts", size_t{10});
    sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
    caf::actor_system sys{sys_cfg};

    std::vector<driver_actor> drivers;
    drivers.push_back(drivers::test::spawn_test_driver(sys));
    auto registry = client::spawn_registry(sys, std::move(drivers));

    auto counter = std::make_shared<daemon::client_counter>();
    counter->max_clients = static_cast<int>(cfg.max_clients);
    auto rw_opts = make_session_options(cfg, registry);
    daemon::apply_security(cfg, *rw_opts);
    rw_opts->log = [&log](int level, const std::string& msg) { log.log(level, msg); };
    rw_opts->auth = cfg.auth_unix_rw;
    auto ro_opts = std::make_shared<daemon::session_options>(*rw_opts);
    ro_opts->read_only_socket = true;
    ro_opts->auth = cfg.auth_unix_ro;
    auto tcp_opts = std::make_shared<daemon::session_options>(*rw_opts);
    tcp_opts->unix_socket = false;
    tcp_opts->auth = cfg.auth_tcp;

    std::vector<caf::actor> listeners;
    listeners.push_back(daemon::spawn_listener(sys, rw->release(), counter, rw_opts));
    listeners.push_back(daemon::spawn_listener(sys, ro->release(), counter, ro_opts));
    if (tcp)
      listeners.push_back(daemon::spawn_listener(sys, tcp->release(), counter, tcp_opts));
    if (tls_sock) {
      auto tls_opts = std::make_shared<daemon::session_options>(*tcp_opts);
      tls_opts->tls = true;
      tls_opts->auth = cfg.auth_tls;
      daemon::tls_listener_options lo;
      lo.context = tls_ctx;
      lo.max_pending = static_cast<int>(cfg.max_anonymous_clients);
      lo.log = [&log](int level, const std::string& msg) { log.log(level, msg); };
      listeners.push_back(
        daemon::spawn_tls_listener(sys, tls_sock->release(), counter, tls_opts, std::move(lo)));
    }

    if (auto written = pid_lock.write_pid(); !written) {
      std::cerr << "virtactord: " << written.error().message << "\n";
      rc = 1;
    } else {
      notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()));
      log.log(2, "ready");
      if (args.timeout > 0)
        ::alarm(static_cast<unsigned>(args.timeout));
      for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
          continue;
        if (sig == SIGHUP) {
          if (config_path.empty())
            continue;
          std::vector<std::string> w;
          auto fresh = daemon::load_config(config_path, w);
          if (!fresh) {
            log.log(4, "reload failed, keeping the running configuration: " +
                         fresh.error().message);
            continue;
          }
          for (auto& x : w)
            log.log(3, x);
          // What changes at run time: the client cap and the log level.
          counter->max_clients = static_cast<int>(fresh->max_clients);
          log.level = args.verbose && fresh->log_level > 2 ? 2 : static_cast<int>(fresh->log_level);
          log.log(2, "configuration reloaded");
          continue;
        }
        if (sig == SIGUSR1) {
          // A status line for operators and the leak checks of the tests:
          // clients now, and the heap in use (allocator caches excluded).
          auto heap = ::mallinfo2();
          std::cerr << "virtactord: status: clients " << counter->clients.load() << ", accepted "
                    << counter->accepted.load() << ", heap in use "
                    << heap.uordblks + heap.hblkhd << " bytes" << std::endl;
          continue;
        }
        if (sig == SIGALRM) {
          if (counter->clients.load() > 0) {
            ::alarm(static_cast<unsigned>(args.timeout));
            continue;
          }
          log.log(2, "idle timeout reached");
        }
        log.log(2, "shutting down");
        notify_systemd("STOPPING=1");
        break;
      }
    }
    // Stop accepting, close every client (each listener closes its own),
    // and give the sessions a moment to end before the system goes.
    for (auto& l : listeners)
      caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (counter->clients.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sys.await_actors_before_shutdown(false);
  }
  ::unlink(rw_path.c_str());
  ::unlink(ro_path.c_str());
  return rc; // the pid file goes with pid_lock
}
