#include "drivers/qemu/process.hpp"

#include "drivers/conf/actors.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor.hpp>
#include <caf/send.hpp>

#include "drivers/qemu/monitor.hpp"

#ifndef VA_VERSION
#define VA_VERSION "0.0.0"
#endif

namespace virtactor::qemu {

namespace {

virt_error sys_error(const std::string& what, int err) {
  return make_system_error(error_domain::qemu, what, err);
}

virt_error failed(const std::string& what) {
  return make_virt_error(error_code::operation_failed, error_domain::qemu,
                         "operation failed: " + what);
}

/// Creates `dir` and its parents; the last one gets `mode`.
result<void> make_dir(const std::string& dir, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return sys_error("cannot create directory '" + dir + "'", ec.value());
  if (::chmod(dir.c_str(), mode) != 0)
    return sys_error("cannot set permissions of '" + dir + "'", errno);
  return {};
}

/// A shell-readable word for the log.
std::string quoted(const std::string& s) {
  bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "0123456789-_=+,./:@%")
                               == std::string::npos;
  if (plain)
    return s;
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

/// The header libvirt writes before each start, then the environment and
/// the command line, one option (with its value) per line.
std::string log_preamble(const launch_spec& spec, const std::vector<std::string>& env) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &t);
  char ms[16];
  std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(ts.tv_nsec / 1'000'000));
  utsname u{};
  ::uname(&u);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string out = std::string{when} + ms + "+0000: starting up virtactor version: " VA_VERSION;
  if (!spec.qemu_version.empty())
    out += ", qemu version: " + spec.qemu_version;
  out += ", kernel: " + std::string{u.release} + ", hostname: " + host + "\n";
  for (auto& e : env)
    out += quoted(e) + " \\\n";
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    out += quoted(spec.argv[i]);
    bool takes_value = i > 0 && spec.argv[i].starts_with("-") && i + 1 < spec.argv.size()
                       && !spec.argv[i + 1].starts_with("-");
    if (takes_value)
      out += " " + quoted(spec.argv[++i]);
    out += i + 1 < spec.argv.size() ? " \\\n" : "\n";
  }
  return out;
}

bool write_all(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    auto n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

/// "PID\n" into `path`, replaced atomically (a reader never sees half a pid).
result<void> write_pid_file(const std::string& path, pid_t pid) {
  auto temp = path + ".new";
  unique_fd fd{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (!fd)
    return sys_error("Failed to open pid file '" + temp + "'", errno);
  if (!write_all(fd.get(), std::to_string(pid) + "\n"))
    return sys_error("Failed to write pid file '" + temp + "'", errno);
  fd.reset();
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return sys_error("Failed to write pid file '" + path + "'", errno);
  return {};
}

/// A copy of `fd` numbered `floor` or higher, close-on-exec, so that the
/// child's dup2 onto its low numbers can never overwrite a source before it
/// is used.
result<unique_fd> high_copy(int fd, int floor = 10) {
  unique_fd out{::fcntl(fd, F_DUPFD_CLOEXEC, floor)};
  if (!out)
    return sys_error("Failed to duplicate descriptor", errno);
  return out;
}

/// `v` as the NULL-terminated array exec wants (pointing into `v`).
std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& a : v)
    out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

/// Starts `argv` in a new session: stdin /dev/null, stdout and stderr
/// `log_fd`, `monitor_fd` as descriptor 3, each of `more` (number in the
/// child, source) at its number, nothing else inherited, default signal
/// dispositions and an empty signal mask, working directory "/". Every
/// source is numbered above every target.
result<pid_t> spawn_qemu(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         int log_fd, int monitor_fd,
                         const std::vector<std::pair<int, int>>& more) {
  auto args = c_strings(argv);
  auto envp = c_strings(env);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
  posix_spawn_file_actions_adddup2(&fa, monitor_fd, monitor_fd_in_child);
  int last = monitor_fd_in_child;
  for (auto [target, source] : more) {
    posix_spawn_file_actions_adddup2(&fa, source, target);
    last = std::max(last, target);
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, last + 1);
  posix_spawn_file_actions_addchdir_np(&fa, "/");
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                    | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return sys_error("cannot execute binary " + argv[0], rc);
  return pid;
}

/// The child's credential switch: supplementary groups, then group, then
/// user (initgroups, setgid, setuid). Raw system calls: they change this
/// one task only, which is all a child of fork has, and are
/// async-signal-safe (glibc's wrappers would signal every thread the parent
/// had). 0 or the errno.
int switch_ids(uint32_t uid, uint32_t gid, const gid_t* groups, size_t count) {
  if (::syscall(SYS_setgroups, count, groups) != 0)
    return errno;
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0)
    return errno;
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0)
    return errno;
  return 0;
}

/// Why a child of `fork_qemu` did not reach QEMU: sent over a close-on-exec
/// pipe, which reads end of file once exec has succeeded.
struct child_failure {
  enum stage_t : int { descriptors = 1, ids, exec } stage;
  int err;
};

void reap(pid_t pid) {
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // nop
  }
}

/// What `spawn_qemu` does, and the switch to `who`'s ids before exec:
/// posix_spawn cannot change ids, so this is fork and, in the child, only
/// async-signal-safe calls (the daemon has many threads). The pid returned
/// is QEMU's own from the start (no wrapper process). `floor`: every source
/// descriptor is numbered at or above it, and so is the failure pipe.
result<pid_t> fork_qemu(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        int log_fd, int monitor_fd, const std::vector<std::pair<int, int>>& more,
                        const run_as& who, int floor) {
  auto args = c_strings(argv);
  auto envp = c_strings(env);
  std::vector<gid_t> groups(who.groups.begin(), who.groups.end());
  int last = monitor_fd_in_child;
  for (auto& m : more)
    last = std::max(last, m.first);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    return sys_error("cannot create pipe", errno);
  unique_fd reader{ends[0]};
  unique_fd low_writer{ends[1]};
  auto writer = high_copy(low_writer.get(), std::max(floor, last + 1));
  if (!writer)
    return writer.error();
  low_writer.reset();
  int wfd = writer->get();
  sigset_t all, old, none;
  sigfillset(&all);
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only from here to exec.
    auto fail = [wfd](child_failure::stage_t stage, int err) {
      child_failure f{stage, err};
      (void) !::write(wfd, &f, sizeof f);
      ::_exit(127);
    };
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction sa {};
      sa.sa_handler = SIG_DFL;
      (void) ::sigaction(sig, &sa, nullptr); // EINVAL for KILL, STOP, glibc's own: fine
    }
    if (::setsid() < 0)
      fail(child_failure::descriptors, errno);
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, 0) < 0)
      fail(child_failure::descriptors, errno);
    if (null != 0)
      ::close(null);
    if (::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0
        || ::dup2(monitor_fd, monitor_fd_in_child) < 0)
      fail(child_failure::descriptors, errno);
    for (auto& m : more)
      if (::dup2(m.second, m.first) < 0)
        fail(child_failure::descriptors, errno);
    // Everything else goes; the failure pipe closes itself at exec.
    if (wfd > last + 1)
      (void) ::syscall(SYS_close_range, last + 1, wfd - 1, 0);
    (void) ::syscall(SYS_close_range, wfd + 1, ~0U, 0);
    if (::chdir("/") != 0)
      fail(child_failure::descriptors, errno);
    if (int err = switch_ids(who.uid, who.gid, groups.data(), groups.size()); err != 0)
      fail(child_failure::ids, err);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    fail(child_failure::exec, errno);
  }
  int fork_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  writer->reset();
  if (pid < 0)
    return sys_error("cannot fork child process", fork_err);
  child_failure f{};
  ssize_t n;
  while ((n = ::read(reader.get(), &f, sizeof f)) < 0 && errno == EINTR) {
    // nop
  }
  if (n == 0)
    return pid; // exec succeeded
  reap(pid);
  if (n != static_cast<ssize_t>(sizeof f))
    return sys_error("cannot read child process status", n < 0 ? errno : EIO);
  auto ids = "+" + std::to_string(who.uid) + ":+" + std::to_string(who.gid);
  switch (f.stage) {
    case child_failure::ids:
      return sys_error("cannot run QEMU as " + ids, f.err);
    case child_failure::exec:
      return sys_error("cannot execute binary " + argv[0], f.err);
    default:
      return sys_error("cannot set up QEMU's descriptors", f.err);
  }
}

/// Kills and reaps a child we could not finish setting up.
void abandon(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // nop
  }
}

pid_watcher::callback tell(caf::actor owner) {
  return [owner = std::move(owner)](const process_exited& e) {
    caf::anon_send(owner, drivers::conf::backend_atom::value, caf::make_message(e));
  };
}

class real_launcher final : public process_launcher {
public:
  explicit real_launcher(std::shared_ptr<pid_watcher> w) : watcher_(std::move(w)) {}

  result<started_qemu> start(const launch_spec& spec, caf::actor owner) override {
    if (spec.argv.empty() || !spec.argv[0].starts_with("/"))
      return make_virt_error(error_code::internal_error, error_domain::qemu,
                             "internal error: the emulator must be an absolute path");
    if (auto made = make_dir(spec.domain_dir, 0700); !made)
      return made.error();
    // QEMU's HOME belongs to QEMU's account (libvirt chowns its domain dirs).
    if (spec.user && ::chown(spec.domain_dir.c_str(), spec.user->uid, spec.user->gid) != 0)
      return sys_error("cannot set ownership of '" + spec.domain_dir + "'", errno);
    auto log_dir = std::filesystem::path{spec.log_path}.parent_path().string();
    if (!log_dir.empty())
      if (auto made = make_dir(log_dir, 0700); !made)
        return made.error();
    started_qemu out;
    out.id.monitor_path = spec.domain_dir + "/monitor.sock";
    auto listener = listen_monitor(out.id.monitor_path);
    if (!listener)
      return listener.error();
    unique_fd log{::open(spec.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)};
    if (!log)
      return sys_error("failed to create logfile " + spec.log_path, errno);
    auto env = qemu_environment(spec.domain_dir, spec.env);
    if (!write_all(log.get(), log_preamble(spec, env)))
      return sys_error("Unable to write to file " + spec.log_path, errno);
    // Connected before QEMU exists: the kernel queues the connection on the
    // listening socket QEMU inherits, and QEMU accepts it when it is ready.
    // Should QEMU die first, the monitor simply reads end of file.
    auto mon = connect_monitor(out.id.monitor_path);
    if (!mon)
      return mon.error();
    out.monitor = std::move(*mon);
    int floor = 10;
    for (auto& [target, source] : spec.inherited) {
      if (target <= monitor_fd_in_child || source < 0)
        return make_virt_error(error_code::internal_error, error_domain::qemu,
                               "internal error: descriptor " + std::to_string(target) +
                                 " cannot be passed to QEMU");
      floor = std::max(floor, target + 1);
    }
    auto log_hi = high_copy(log.get(), floor);
    auto mon_hi = high_copy(listener->get(), floor);
    if (!log_hi || !mon_hi)
      return log_hi ? mon_hi.error() : log_hi.error();
    std::vector<unique_fd> more_hi;
    std::vector<std::pair<int, int>> more;
    for (auto& [target, source] : spec.inherited) {
      auto hi = high_copy(source, floor);
      if (!hi)
        return hi.error();
      more.emplace_back(target, hi->get());
      more_hi.push_back(std::move(*hi));
    }
    auto pid = spec.user ? fork_qemu(spec.argv, env, log_hi->get(), mon_hi->get(), more,
                                     *spec.user, floor)
                         : spawn_qemu(spec.argv, env, log_hi->get(), mon_hi->get(), more);
    if (!pid)
      return pid.error();
    // QEMU holds the listening socket now; ours can go.
    mon_hi->reset();
    listener->reset();
    auto pidfd = open_pidfd(*pid);
    if (!pidfd) {
      abandon(*pid);
      return pidfd.error();
    }
    out.id.pid = *pid;
    out.id.start_time = process_start_time(*pid).value_or(0);
    if (!spec.pid_path.empty())
      if (auto w = write_pid_file(spec.pid_path, *pid); !w) {
        abandon(*pid);
        return w.error();
      }
    if (auto w = watcher_->watch(std::move(*pidfd), *pid, true, tell(std::move(owner))); !w) {
      abandon(*pid);
      return w.error();
    }
    return out;
  }

  result<void> adopt(const qemu_identity& id, const std::string& emulator,
                     caf::actor owner) override {
    auto pid = static_cast<pid_t>(id.pid);
    auto gone = failed("QEMU process " + std::to_string(pid) + " is gone");
    if (pid <= 0)
      return gone;
    auto pidfd = open_pidfd(pid);
    if (!pidfd)
      return gone;
    // A zombie still has a pid and a /proc entry: a readable pidfd means
    // the process has exited.
    pollfd p{pidfd->get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0)
      return gone;
    // Checked after the pidfd exists: the pidfd now pins this very process.
    auto started = process_start_time(pid);
    if (!started)
      return gone;
    if (id.start_time != 0 && *started != id.start_time)
      return failed("process " + std::to_string(pid) + " is not the domain's QEMU (started at "
                    + std::to_string(*started) + ", expected "
                    + std::to_string(id.start_time) + ")");
    if (!emulator.empty()) {
      std::error_code ec;
      auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
      auto text = exe.string();
      if (ec || (text != emulator && text != emulator + " (deleted)"))
        return failed("process " + std::to_string(pid) + " is not the domain's QEMU (runs '"
                      + (ec ? std::string{"?"} : text) + "', expected '" + emulator + "')");
    }
    bool child = process_parent(pid) == ::getpid();
    return watcher_->watch(std::move(*pidfd), pid, child, tell(std::move(owner)));
  }

  result<void> terminate(int32_t pid,
                         std::optional<std::chrono::milliseconds> kill_after) override {
    return watcher_->terminate(pid, kill_after);
  }

  void forget(int32_t pid) override { watcher_->forget(pid); }

private:
  std::shared_ptr<pid_watcher> watcher_;
};

} // namespace

result<std::vector<int>> access_as(const run_as& who, const std::vector<std::string>& paths,
                                   int mode) {
  std::vector<const char*> names;
  for (auto& p : paths)
    names.push_back(p.c_str());
  std::vector<gid_t> groups(who.groups.begin(), who.groups.end());
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    return sys_error("cannot create pipe", errno);
  unique_fd reader{ends[0]};
  unique_fd writer{ends[1]};
  int wfd = writer.get();
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only. It writes the switch's
    // result, then one errno (or 0) per path.
    int err = switch_ids(who.uid, who.gid, groups.data(), groups.size());
    (void) !::write(wfd, &err, sizeof err);
    if (err == 0)
      for (auto* name : names) {
        int r = ::access(name, mode) == 0 ? 0 : errno;
        (void) !::write(wfd, &r, sizeof r);
      }
    ::_exit(0);
  }
  int fork_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  writer.reset();
  if (pid < 0)
    return sys_error("cannot fork child process", fork_err);
  std::vector<int> got;
  for (;;) {
    int r;
    auto n = ::read(reader.get(), &r, sizeof r);
    if (n < 0 && errno == EINTR)
      continue;
    if (n != static_cast<ssize_t>(sizeof r))
      break;
    got.push_back(r);
  }
  reap(pid);
  auto ids = "+" + std::to_string(who.uid) + ":+" + std::to_string(who.gid);
  if (got.empty())
    return sys_error("cannot check file access as " + ids, EIO);
  if (got[0] != 0)
    return sys_error("cannot check file access as " + ids, got[0]);
  got.erase(got.begin());
  if (got.size() != paths.size())
    return sys_error("cannot check file access as " + ids, EIO);
  return got;
}

std::vector<std::string> qemu_environment(const std::string& domain_dir,
                                          const std::vector<std::string>& extra) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{
    "LC_ALL=C",
    std::string{"PATH="} + (path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    "HOME=" + domain_dir,
    "XDG_DATA_HOME=" + domain_dir + "/.local/share",
    "XDG_CACHE_HOME=" + domain_dir + "/.cache",
    "XDG_CONFIG_HOME=" + domain_dir + "/.config",
  };
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

result<std::shared_ptr<process_launcher>> make_process_launcher() {
  auto w = pid_watcher::start();
  if (!w)
    return w.error();
  return std::shared_ptr<process_launcher>{std::make_shared<real_launcher>(std::move(*w))};
}

} // namespace virtactor::qemu
