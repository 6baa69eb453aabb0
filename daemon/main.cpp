// virtactord: libvirt's remote protocol served by actors.
//
// Start-up: read the config, open the sockets (unix rw and ro always, tcp
// and tls with --listen), start the actor system, the driver registry (local
// drivers only: the daemon is where remote URIs end) and one listener per socket,
// write the pid file (locked at start-up), tell systemd. Then wait for signals: SIGTERM/SIGINT stop,
// SIGHUP reloads what can change at run time.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/fd.hpp"
#include "actors/user_dirs.hpp"
#include "daemon/config.hpp"
#include "daemon/listener.hpp"
#include "daemon/logging.hpp"
#include "daemon/security.hpp"
#include "daemon/systemd.hpp"
#include "daemon/tls_listener.hpp"
#include "drivers/qemu/dac.hpp"
#include "drivers/qemu/qemu_driver.hpp"
#include "drivers/registry.hpp"

namespace {

using namespace virtactor;

/// Where the daemon looks without -f and unix_sock_dir: a root daemon
/// serves the system (/etc, /run/libvirt); any other user's serves that
/// user's session ($XDG_CONFIG_HOME/virtactor, $XDG_RUNTIME_DIR/libvirt,
/// where libvirt's client looks for a session daemon and spawns one).
struct default_paths {
  std::string config;
  std::string sock_dir;

  static default_paths of_this_user() {
    if (::geteuid() == 0)
      return {"/etc/virtactor/virtactord.conf", "/run/libvirt"};
    auto env = user_env::from_process();
    return {user_config_dir(env) + "/virtactor/virtactord.conf",
            user_runtime_dir(env) + "/libvirt"};
  }
};

#ifndef VA_VERSION
#define VA_VERSION "0.0.0"
#endif

void usage(std::ostream& out, const char* argv0) {
  out << "\nUsage:\n  " << argv0 << " [options]\n\n"
      << "Options:\n"
      << "  -h | --help            Display program help\n"
      << "  -v | --verbose         Verbose messages\n"
      << "  -d | --daemon          Run as a daemon & write PID file\n"
      << "  -l | --listen          Listen for TCP/IP connections\n"
      << "  -t | --timeout <secs>  Exit after timeout period\n"
      << "  -f | --config <file>   Configuration file\n"
      << "  -V | --version         Display version information\n"
      << "  -p | --pid-file <file> Change name of PID file\n\n"
      << "virtactor daemon: libvirt's remote protocol (virsh, the language bindings\n"
      << "and virtactor connect to it).\n\n"
      << "  Default paths:\n\n"
      << "    Configuration file (unless overridden by -f):\n"
      << "      " << default_paths::of_this_user().config << "\n\n"
      << "    Sockets (unix_sock_dir):\n"
      << "      " << default_paths::of_this_user().sock_dir << "/libvirt-sock\n"
      << "      " << default_paths::of_this_user().sock_dir << "/libvirt-sock-ro\n\n"
      << "    PID file: none unless -p is given\n\n";
}

struct cli {
  std::string config_path;
  std::string pid_file;
  bool listen = false;
  bool daemonize = false;
  bool verbose = false;
  int timeout = 0;
};

/// Parses the command line as libvirtd does (getopt_long: "-lv",
/// "-fFILE", "--config=FILE", options after operands); returns an exit code
/// to stop with, or -1 to go on.
int parse_cli(int argc, char** argv, cli& out, daemon::logger& log) {
  static const option long_options[] = {
    {"verbose", no_argument, nullptr, 'v'},  {"daemon", no_argument, nullptr, 'd'},
    {"listen", no_argument, nullptr, 'l'},   {"config", required_argument, nullptr, 'f'},
    {"timeout", required_argument, nullptr, 't'}, {"pid-file", required_argument, nullptr, 'p'},
    {"version", no_argument, nullptr, 'V'},  {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
  };
  int c = 0;
  // getopt prints its own messages ("invalid option -- 'Z'") with argv[0].
  while ((c = getopt_long(argc, argv, "hvdlt:f:p:V", long_options, nullptr)) != -1) {
    switch (c) {
      case 'v':
        out.verbose = true;
        break;
      case 'd':
        out.daemonize = true;
        break;
      case 'l':
        out.listen = true;
        break;
      case 't': {
        // As libvirtd (virStrToLong_i with an end pointer): a number must
        // start the argument, what follows it is ignored; no negatives.
        char* end = nullptr;
        errno = 0;
        long t = std::strtol(optarg, &end, 10);
        if (errno != 0 || end == optarg || t < 0 || t > 1000000) {
          log.error("daemon", "Invalid value for timeout");
          return 1;
        }
        out.timeout = static_cast<int>(t);
        break;
      }
      case 'f':
        out.config_path = optarg;
        break;
      case 'p':
        out.pid_file = optarg;
        break;
      case 'V':
        std::cout << "virtactord (virtactor) " VA_VERSION " (libvirt protocol 9.0)\n";
        return 0;
      case 'h':
        usage(std::cout, argv[0]);
        return 0;
      default:
        usage(std::cerr, argv[0]);
        return 1;
    }
  }
  if (optind != argc) {
    std::cerr << argv[0] << ": unexpected, non-option, command line arguments\n";
    return 1;
  }
  return -1;
}

/// libvirtd's logging set-up: the configuration's log_level, log_filters
/// and log_outputs, then LIBVIRT_DEBUG, LIBVIRT_LOG_FILTERS and
/// LIBVIRT_LOG_OUTPUTS over them; `-v` lowers the level to info; without
/// outputs, libvirtd's default ones.
result<daemon::log_settings> log_settings_from(const daemon::daemon_config& cfg, bool verbose,
                                               bool daemonized) {
  daemon::log_settings s;
  s.level = static_cast<daemon::log_priority>(std::clamp<uint32_t>(cfg.log_level, 1, 4));
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
      return std::nullopt;
    return std::string{v};
  };
  if (auto d = env("LIBVIRT_DEBUG")) {
    auto p = daemon::parse_log_priority(*d);
    if (!p)
      return p.error();
    s.level = *p;
  }
  if (verbose && s.level > daemon::log_priority::info)
    s.level = daemon::log_priority::info;
  if (auto f = env("LIBVIRT_LOG_FILTERS") ? env("LIBVIRT_LOG_FILTERS") : cfg.log_filters) {
    auto filters = daemon::parse_log_filters(*f);
    if (!filters)
      return filters.error();
    s.filters = std::move(*filters);
  }
  if (auto o = env("LIBVIRT_LOG_OUTPUTS") ? env("LIBVIRT_LOG_OUTPUTS") : cfg.log_outputs) {
    auto outputs = daemon::parse_log_outputs(*o);
    if (!outputs)
      return outputs.error();
    s.outputs = std::move(*outputs);
  }
  if (s.outputs.empty())
    s.outputs = daemon::default_log_outputs(s.level, daemonized);
  return s;
}

/// `-d`: leaves the caller's session and standard streams at once, as
/// libvirtd does (so `$(virtactord -d)` returns), but lets the caller know
/// whether start-up succeeded: the calling process waits until the daemon
/// reports through a pipe that it serves, and exits 0, or 1 if it failed.
/// Returns the write end of that pipe in the daemon; never returns in the
/// calling process.
unique_fd fork_into_background(const char* argv0) {
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    std::cerr << "virtactord: cannot create a pipe: " << std::strerror(errno) << "\n";
    std::exit(1);
  }
  pid_t first = ::fork();
  if (first < 0) {
    std::cerr << "virtactord: fork failed: " << std::strerror(errno) << "\n";
    std::exit(1);
  }
  if (first > 0) {
    ::close(status[1]);
    char ok = 1;
    ssize_t n = 0;
    do
      n = ::read(status[0], &ok, 1);
    while (n < 0 && errno == EINTR);
    int ignored = 0;
    ::waitpid(first, &ignored, 0);
    if (n == 1 && ok == 0)
      std::_Exit(0);
    std::cerr << argv0 << ": error: the daemon did not start. Check its log, or run without "
                          "--daemon for more info.\n";
    std::_Exit(1);
  }
  ::close(status[0]);
  ::setsid();
  pid_t second = ::fork(); // not a session leader: never gets a controlling tty
  if (second < 0)
    std::_Exit(1);
  if (second > 0)
    std::_Exit(0);
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO)
      ::close(null);
  }
  return unique_fd{status[1]};
}

/// Makes `dir` and its parents; a session daemon's are its user's alone.
bool make_dirs(const std::string& dir) {
  mode_t mode = ::geteuid() == 0 ? 0755 : 0700;
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      cur = dir.substr(0, i);
      if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
        return false;
    }
  }
  return true;
}

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

/// The qemu driver's settings from the config (virtactor's own directories
/// by default).
drivers::qemu::driver_config qemu_settings(const daemon::daemon_config& cfg,
                                           drivers::qemu::qemu_account account) {
  auto q = drivers::qemu::driver_config::defaults(::geteuid() == 0);
  q.account = std::move(account);
  q.dynamic_ownership = cfg.qemu_dynamic_ownership;
  if (cfg.qemu_config_dir)
    q.config_dir = *cfg.qemu_config_dir;
  if (cfg.qemu_run_dir)
    q.run_dir = *cfg.qemu_run_dir;
  if (cfg.qemu_lib_dir)
    q.lib_dir = *cfg.qemu_lib_dir;
  if (cfg.qemu_log_dir)
    q.log_dir = *cfg.qemu_log_dir;
  if (cfg.qemu_emulator)
    q.emulator = *cfg.qemu_emulator;
  q.monitor_timeout = std::chrono::milliseconds{cfg.qemu_monitor_timeout_ms};
  q.stats_timeout = std::chrono::milliseconds{cfg.qemu_stats_timeout_ms};
  q.destroy_grace = std::chrono::milliseconds{cfg.qemu_destroy_grace_ms};
  q.autostart = cfg.qemu_autostart;
  return q;
}

/// Runs driver-wide hook `Atom` on every driver and waits for it; the error
/// text, or empty on success.
template <class Atom>
std::string run_driver_hook(caf::actor_system& sys, const registry_actor& registry) {
  caf::scoped_actor self{sys};
  std::string failure;
  self->request(registry, drivers::hook_timeout, Atom::value)
    .receive([](bool) {},
             [&](const caf::error& err) { failure = from_caf_error(err).message; });
  return failure;
}

} // namespace

int main(int argc, char** argv) {
  // As libvirtd, the log environment is checked first of all, before the
  // command line and the configuration.
  daemon::daemon_config no_config;
  if (auto env = log_settings_from(no_config, false, false); !env) {
    std::cerr << "virtactord: " << env.error().message << "\n";
    return 1;
  }
  daemon::logger log; // standard error at level warning until configured
  cli args;
  if (int rc = parse_cli(argc, argv, args, log); rc >= 0)
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

  std::vector<std::string> warnings;
  daemon::daemon_config cfg;
  std::string config_path = args.config_path;
  auto defaults = default_paths::of_this_user();
  if (config_path.empty() && ::access(defaults.config.c_str(), R_OK) == 0)
    config_path = defaults.config;
  if (!config_path.empty()) {
    auto loaded = daemon::load_config(config_path, warnings);
    if (!loaded) {
      std::cerr << "virtactord: " << loaded.error().message << "\n";
      return 1;
    }
    cfg = std::move(*loaded);
  }
  auto settings = log_settings_from(cfg, args.verbose, args.daemonize);
  if (!settings) {
    std::cerr << "virtactord: " << settings.error().message << "\n";
    return 1;
  }
  if (auto ok = log.configure(std::move(*settings)); !ok) {
    std::cerr << "virtactord: " << ok.error().message << "\n";
    return 1;
  }
  for (auto& w : warnings)
    log.warn("daemon.config", w);

  // The account QEMU runs as: a named one that does not exist stops the
  // daemon here, before it listens.
  std::vector<std::string> account_warnings;
  auto qemu_acct = drivers::qemu::resolve_qemu_account(::geteuid() == 0, cfg.qemu_user,
                                                       cfg.qemu_group, account_warnings);
  if (!qemu_acct) {
    std::cerr << "virtactord: " << qemu_acct.error().message << "\n";
    return 1;
  }
  for (auto& w : account_warnings)
    log.warn("qemu", w);

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
  auto take_pid_file = [&]() -> result<void> {
    if (args.pid_file.empty())
      return {};
    auto taken = daemon::pid_file::acquire(args.pid_file);
    if (!taken)
      return taken.error();
    pid_lock = std::move(*taken);
    return {};
  };
  if (!args.daemonize) {
    if (auto ok = take_pid_file(); !ok) {
      std::cerr << "virtactord: " << ok.error().message << "\n";
      return 1;
    }
  }

  auto fd_limit = raise_fd_limit();
  log.info("daemon", "descriptor limit " + std::to_string(fd_limit) +
                       " (soft limit raised to the hard limit; one per connection)");

  // Sockets first: a daemon that cannot listen must fail before it says "ready".
  // libvirtd's default directory, so that virsh finds us without socket=.
  std::string sock_dir = cfg.unix_sock_dir.value_or(defaults.sock_dir);
  auto rw_path = sock_dir + "/libvirt-sock";
  auto ro_path = sock_dir + "/libvirt-sock-ro";
  // Sockets systemd passed (virtactord.socket, virtactord-ro.socket, ...)
  // are used as they are; the others are made here.
  auto activated = daemon::take_activated_sockets(
    rw_path, ro_path, args.listen && cfg.listen_tcp ? cfg.tcp_port : uint16_t{0},
    args.listen && cfg.listen_tls ? cfg.tls_port : uint16_t{0});
  for (auto& u : activated.unclaimed)
    log.warn("daemon", "socket activation: " + u + " matches no socket of the configuration; closed");
  // Files of sockets made here are removed at exit; systemd's are its own.
  std::vector<std::string> created;
  auto remove_created = [&created] {
    for (auto& path : created)
      ::unlink(path.c_str());
  };
  auto fail = [&](const std::string& message) {
    remove_created();
    std::cerr << "virtactord: " << message << "\n";
    return 1;
  };
  // Sockets systemd passed keep the owner and modes their units gave them.
  auto unix_socket = [&](std::optional<unique_fd>& passed, const std::string& path,
                         uint32_t perms) -> result<unique_fd> {
    if (passed)
      return std::move(*passed);
    if (!make_dirs(sock_dir))
      return make_virt_error(error_code::system_error, error_domain::none,
                             "cannot create socket directory '" + sock_dir +
                               "': " + std::strerror(errno));
    auto fd = listen_unix(path, perms, *group);
    if (fd)
      created.push_back(path);
    return fd;
  };
  auto rw = unix_socket(activated.unix_rw, rw_path, cfg.unix_sock_rw_perms);
  if (!rw)
    return fail(rw.error().message);
  auto ro = unix_socket(activated.unix_ro, ro_path, cfg.unix_sock_ro_perms);
  if (!ro)
    return fail(ro.error().message);
  std::optional<unique_fd> tcp = std::move(activated.tcp);
  uint16_t tcp_port = tcp ? cfg.tcp_port : 0;
  if (!tcp && args.listen && cfg.listen_tcp) {
    auto t = listen_tcp(cfg.listen_addr.value_or(""), cfg.tcp_port, tcp_port);
    if (!t)
      return fail(t.error().message);
    tcp = std::move(*t);
  }
  if (tcp)
    log.info("daemon", "listening on tcp port " + std::to_string(tcp_port));
  // --- tls (--listen with listen_tls): credentials are checked before the
  // port opens, and a daemon that cannot serve TLS does not start (libvirtd).
  std::shared_ptr<tls::context> tls_ctx;
  std::optional<unique_fd> tls_sock = std::move(activated.tls);
  uint16_t tls_port = tls_sock ? cfg.tls_port : 0;
  if (tls_sock || (args.listen && cfg.listen_tls)) {
    const char* home = std::getenv("HOME");
    auto ctx = daemon::make_server_context(cfg, ::geteuid() == 0, home ? home : "");
    if (!ctx)
      return fail(ctx.error().message);
    if (!tls_sock) {
      auto t = listen_tcp(cfg.listen_addr.value_or(""), cfg.tls_port, tls_port);
      if (!t)
        return fail(t.error().message);
      tls_sock = std::move(*t);
    }
    tls_ctx = std::move(*ctx);
    log.info("daemon", "listening on tls port " + std::to_string(tls_port));
  }

  // From here on errors go to the log only (a daemon has no terminal).
  unique_fd started;
  if (args.daemonize) {
    started = fork_into_background(argv[0]);
    if (auto ok = take_pid_file(); !ok) {
      remove_created();
      log.error("daemon", ok.error().message);
      return 1; // the caller learns it from the closed status pipe
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

    auto all_drivers = drivers::local_drivers(sys);
    all_drivers.push_back(drivers::qemu::spawn_qemu_driver(sys, qemu_settings(cfg, *qemu_acct)));
    auto registry = drivers::spawn_registry(sys, std::move(all_drivers));
    // The state drivers load their definitions, reattach to running guests
    // and autostart before any client is accepted (libvirt's order).
    if (auto failure = run_driver_hook<initialize_atom>(sys, registry); !failure.empty())
      log.error("daemon", "driver initialization failed: " + failure);

    auto counter = std::make_shared<daemon::client_counter>();
    counter->max_clients = static_cast<int>(cfg.max_clients);
    auto rw_opts = make_session_options(cfg, registry);
    daemon::apply_security(cfg, *rw_opts);
    rw_opts->log = [&log](int level, const std::string& msg) {
      log.log(static_cast<daemon::log_priority>(std::clamp(level, 1, 4)), "daemon.session", msg);
    };
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
      lo.log = [&log](int level, const std::string& msg) {
        log.log(static_cast<daemon::log_priority>(std::clamp(level, 1, 4)), "daemon.tls", msg);
      };
      listeners.push_back(
        daemon::spawn_tls_listener(sys, tls_sock->release(), counter, tls_opts, std::move(lo)));
    }

    if (auto written = pid_lock.write_pid(); !written) {
      auto& msg = written.error().message;
      if (args.daemonize)
        log.error("daemon", msg);
      else
        std::cerr << "virtactord: " << msg << "\n";
      rc = 1;
    } else {
      daemon::notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()));
      if (started) {
        char ok = 0;
        [[maybe_unused]] auto n = ::write(started.get(), &ok, 1);
        started.reset();
      }
      log.info("daemon", "ready");
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
            log.error("daemon", "reload failed, keeping the running configuration: " +
                                  fresh.error().message);
            continue;
          }
          for (auto& x : w)
            log.warn("daemon.config", x);
          // What changes at run time: the client cap and the logging.
          counter->max_clients = static_cast<int>(fresh->max_clients);
          auto fresh_log = log_settings_from(*fresh, args.verbose, args.daemonize);
          if (!fresh_log) {
            log.error("daemon", "reload failed, keeping the running log settings: " +
                                  fresh_log.error().message);
          } else if (auto ok = log.configure(std::move(*fresh_log)); !ok) {
            log.error("daemon", "reload failed, keeping the running log settings: " +
                                  ok.error().message);
          }
          if (auto failure = run_driver_hook<reload_atom>(sys, registry); !failure.empty())
            log.error("daemon", "driver reload failed: " + failure);
          log.info("daemon", "configuration reloaded");
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
          log.info("daemon", "idle timeout reached");
        }
        log.info("daemon", "shutting down");
        daemon::notify_systemd("STOPPING=1");
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
    if (auto failure = run_driver_hook<shutdown_atom>(sys, registry); !failure.empty())
      log.error("daemon", "driver shutdown failed: " + failure);
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sys.await_actors_before_shutdown(false);
  }
  remove_created();
  return rc; // the pid file goes with pid_lock
}
