#include "actors/process.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace virtactor {

namespace {

using clock_type = std::chrono::steady_clock;

/// How much of a child's stderr is kept (libvirt reads 1 KiB when a stream
/// fails; a little more keeps multi-line ssh diagnostics whole).
constexpr size_t stderr_limit = 4096;

/// How long a released child may take to end after SIGTERM before SIGKILL.
constexpr auto kill_grace = std::chrono::seconds{2};

/// One child the monitor looks after.
struct child_record {
  pid_t pid = -1;
  std::mutex mtx;
  unique_fd err; // read end of the child's stderr, non-blocking
  std::string text;
  bool released = false;
  bool killed = false;
  clock_type::time_point kill_at;

  /// Reads what stderr has now (caller holds `mtx`); closes it at EOF.
  void drain() {
    char buf[1024];
    while (err) {
      auto n = ::read(err.get(), buf, sizeof buf);
      if (n > 0) {
        auto room = stderr_limit - std::min(stderr_limit, text.size());
        text.append(buf, std::min(room, static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      err.reset(); // EOF or error: nothing more to come
    }
  }

  std::string trimmed() {
    std::lock_guard<std::mutex> guard{mtx};
    drain();
    auto end = text.find_last_not_of(" \t\r\n\v\f");
    return end == std::string::npos ? std::string{} : text.substr(0, end + 1);
  }
};

using record_ptr = std::shared_ptr<child_record>;

/// The one thread that collects stderr of every stream child (so a chatty
/// child never blocks on a full pipe) and stops and reaps released ones.
class process_monitor {
public:
  static process_monitor& instance() {
    // Never destroyed: children may outlive static destruction.
    static process_monitor* self = [] {
      auto m = new process_monitor;
      std::thread{[m] { m->run(); }}.detach();
      return m;
    }();
    return *self;
  }

  void add(const record_ptr& rec) {
    std::lock_guard<std::mutex> guard{mtx_};
    records_.push_back(rec);
    wake();
  }

  void release(const record_ptr& rec) {
    {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->released = true;
      rec->kill_at = clock_type::now() + kill_grace;
    }
    ::kill(rec->pid, SIGTERM);
    std::lock_guard<std::mutex> guard{mtx_};
    wake();
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx_};
    return records_.size();
  }

private:
  process_monitor() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
      wake_rd_.reset(p[0]);
      wake_wr_.reset(p[1]);
    }
  }

  void wake() {
    char c = 0;
    [[maybe_unused]] auto n = ::write(wake_wr_.get(), &c, 1);
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<record_ptr> polled;
    for (;;) {
      fds.clear();
      polled.clear();
      fds.push_back({wake_rd_.get(), POLLIN, 0});
      bool dying = false;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        for (auto& rec : records_) {
          std::lock_guard<std::mutex> rg{rec->mtx};
          dying = dying || rec->released;
          if (rec->err) {
            fds.push_back({rec->err.get(), POLLIN, 0});
            polled.push_back(rec);
          }
        }
      }
      // Released children are polled for their exit every 20 ms.
      int n = ::poll(fds.data(), fds.size(), dying ? 20 : -1);
      if (n < 0 && errno != EINTR)
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      if (fds[0].revents) {
        char buf[64];
        while (::read(wake_rd_.get(), buf, sizeof buf) > 0) {
          // nop: drained
        }
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents) {
          std::lock_guard<std::mutex> rg{polled[i - 1]->mtx};
          polled[i - 1]->drain();
        }
      }
      reap();
    }
  }

  /// Reaps released children that ended; SIGKILLs those past their grace.
  void reap() {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = clock_type::now();
    for (auto i = records_.begin(); i != records_.end();) {
      auto& rec = **i;
      std::lock_guard<std::mutex> rg{rec.mtx};
      if (!rec.released) {
        ++i;
        continue;
      }
      int status = 0;
      auto r = ::waitpid(rec.pid, &status, WNOHANG);
      if (r == rec.pid || (r < 0 && errno == ECHILD)) {
        rec.drain();
        rec.err.reset(); // a grandchild may hold stderr open forever
        i = records_.erase(i);
        continue;
      }
      if (!rec.killed && now >= rec.kill_at) {
        ::kill(rec.pid, SIGKILL);
        rec.killed = true;
      }
      ++i;
    }
  }

  std::mutex mtx_;
  std::list<record_ptr> records_;
  unique_fd wake_rd_;
  unique_fd wake_wr_;
};

/// Releases its child to the monitor when the stream ends.
struct child_owner {
  record_ptr rec;
  explicit child_owner(record_ptr r) : rec(std::move(r)) {}
  ~child_owner() { process_monitor::instance().release(rec); }
  child_owner(const child_owner&) = delete;
  child_owner& operator=(const child_owner&) = delete;
};

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// `name` itself when it has a '/', else its first executable match in PATH.
result<std::string> find_program(const std::string& name) {
  if (name.empty())
    return make_virt_error(error_code::system_error, error_domain::none,
                           "Cannot find '' in path: No such file or directory");
  if (name.find('/') != std::string::npos)
    return name;
  auto path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/bin:/bin";
  size_t start = 0;
  for (;;) {
    auto colon = dirs.find(':', start);
    auto dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    auto candidate = (dir.empty() ? std::string{"."} : dir) + "/" + name;
    if (is_executable_file(candidate))
      return candidate;
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  return make_virt_error(error_code::system_error, error_domain::none,
                         "Cannot find '" + name + "' in path: No such file or directory");
}

/// Everything the child needs, prepared before fork (after it only
/// async-signal-safe calls are allowed).
struct exec_image {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;

  void seal() {
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

[[noreturn]] void exec_child(const exec_image& img, int stream_fd, int err_fd, int report_fd,
                             int max_fd) {
  // Signals the parent ignores (SIGPIPE, often) stay ignored across exec.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP)
      ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(stream_fd, STDIN_FILENO) < 0 || ::dup2(stream_fd, STDOUT_FILENO) < 0 ||
      ::dup2(err_fd, STDERR_FILENO) < 0) {
    int e = errno;
    [[maybe_unused]] auto n = ::write(report_fd, &e, sizeof e);
    ::_exit(127);
  }
  // Descriptors some library opened without O_CLOEXEC must not leak in;
  // `report_fd` (close-on-exec) stays until exec.
  if (::close_range(3, report_fd - 1, 0) != 0 || ::close_range(report_fd + 1, ~0U, 0) != 0) {
    for (int fd = 3; fd < max_fd; ++fd) {
      if (fd != report_fd)
        ::close(fd);
    }
  }
  ::execve(img.path.c_str(), img.argv.data(), img.envp.data());
  int e = errno;
  [[maybe_unused]] auto n = ::write(report_fd, &e, sizeof e);
  ::_exit(127);
}

/// Moves `fd` above the standard streams, so the child's dup2 onto 0-2
/// cannot clobber it (a process may run with stdin or stdout closed).
void lift(unique_fd& fd) {
  if (fd && fd.get() < 3) {
    int high = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (high >= 0)
      fd.reset(high);
  }
}

int open_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return 65536;
  return static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 20));
}

} // namespace

std::vector<std::string> command_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env{"LC_ALL=C"};
  auto pass = [&env](const std::string& name) {
    if (auto v = std::getenv(name.c_str()))
      env.push_back(name + "=" + v);
  };
  for (auto name : {"LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR"})
    pass(name);
  for (const auto& name : extra)
    pass(name);
  return env;
}

result<process_stream> spawn_stream_process(const process_spec& spec) {
  if (spec.argv.empty())
    return make_virt_error(error_code::internal_error, error_domain::rpc,
                           "internal error: no command to run");
  auto path = find_program(spec.argv.front());
  if (!path)
    return path.error();
  exec_image img{*path, spec.argv, spec.env, {}, {}};
  img.seal();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return make_system_error(error_domain::rpc, "unable to create socket pair", errno);
  unique_fd ours{sv[0]}, theirs{sv[1]};
  int ep[2], rp[2];
  if (::pipe2(ep, O_CLOEXEC) != 0)
    return make_system_error(error_domain::rpc, "Unable to create pipe", errno);
  unique_fd err_rd{ep[0]}, err_wr{ep[1]};
  if (::pipe2(rp, O_CLOEXEC) != 0)
    return make_system_error(error_domain::rpc, "Unable to create pipe", errno);
  unique_fd report_rd{rp[0]}, report_wr{rp[1]};
  lift(theirs);
  lift(err_wr);
  lift(report_wr);
  int max_fd = open_fd_limit();
  // No signal handler of ours may run in the child between fork and exec.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0)
    exec_child(img, theirs.get(), err_wr.get(), report_wr.get(), max_fd);
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0)
    return make_system_error(error_domain::rpc, "cannot fork child process", fork_errno);
  theirs.reset();
  err_wr.reset();
  report_wr.reset();
  // The report pipe closes on a successful exec, or carries exec's errno.
  int exec_errno = 0;
  ssize_t got;
  do
    got = ::read(report_rd.get(), &exec_errno, sizeof exec_errno);
  while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return make_system_error(error_domain::rpc, "cannot execute binary " + img.path, exec_errno);
  }
  ::fcntl(err_rd.get(), F_SETFL, ::fcntl(err_rd.get(), F_GETFL) | O_NONBLOCK);
  auto rec = std::make_shared<child_record>();
  rec->pid = pid;
  rec->err = std::move(err_rd);
  process_monitor::instance().add(rec);
  process_stream out;
  out.fd = std::move(ours);
  out.owner = std::make_shared<child_owner>(rec);
  out.stderr_text = [rec] { return rec->trimmed(); };
  out.pid = pid;
  return out;
}

stream_endpoint process_endpoint(process_stream p, std::string description) {
  stream_endpoint s;
  s.fd = std::move(p.fd);
  s.owner = std::move(p.owner);
  s.description = std::move(description);
  s.explain_end = [text = std::move(p.stderr_text)]() -> std::optional<virt_error> {
    auto said = text();
    if (said.empty())
      return std::nullopt;
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "End of file while reading data: " + said + ": Input/output error");
  };
  return s;
}

size_t unreaped_stream_processes() {
  return process_monitor::instance().size();
}

} // namespace virtactor
