#include "drivers/qemu/pid_watcher.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace virtactor::qemu {

namespace {

using clock = std::chrono::steady_clock;

// glibc 2.36's <sys/pidfd.h> declares these without C linkage (fixed in
// 2.37), so C++ cannot link them; call the kernel directly.
int pidfd_open(pid_t pid, unsigned flags) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

virt_error sys_error(const std::string& what, int err) {
  return make_system_error(error_domain::qemu, what, err);
}

/// The epoll key of the wake-up eventfd (no process has pid 0).
constexpr uint64_t wake_key = 0;

/// Fields of /proc/PID/stat after the command name (which may hold spaces
/// and parentheses, hence the last ')'), numbered from 3 as in proc(5).
std::optional<std::string> stat_field(pid_t pid, int field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line))
    return std::nullopt;
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string value;
  for (int i = 3; i <= field; ++i)
    if (!(rest >> value))
      return std::nullopt;
  return value;
}

} // namespace

struct pid_watcher::impl {
  struct entry {
    unique_fd pidfd;
    bool child = false;
    callback on_exit;
    std::optional<clock::time_point> kill_at;
  };

  unique_fd epoll;
  unique_fd wake;
  mutable std::mutex mtx;
  std::map<pid_t, entry> entries;
  bool stopping = false;
  std::thread thread;

  void poke() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake.get(), &one, sizeof one);
  }

  /// Milliseconds until the earliest SIGKILL is due (-1: none).
  int next_timeout() {
    std::lock_guard<std::mutex> guard{mtx};
    std::optional<clock::time_point> first;
    for (auto& [pid, e] : entries)
      if (e.kill_at && (!first || *e.kill_at < *first))
        first = e.kill_at;
    if (!first)
      return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*first - clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
  }

  void kill_due() {
    std::lock_guard<std::mutex> guard{mtx};
    auto now = clock::now();
    for (auto& [pid, e] : entries)
      if (e.kill_at && *e.kill_at <= now) {
        e.kill_at.reset();
        pidfd_send_signal(e.pidfd.get(), SIGKILL);
      }
  }

  void exited(pid_t pid) {
    entry e;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto i = entries.find(pid);
      if (i == entries.end())
        return;
      e = std::move(i->second);
      entries.erase(i);
      ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, e.pidfd.get(), nullptr);
    }
    process_exited out;
    out.pid = pid;
    if (e.child) {
      siginfo_t info{};
      int rc;
      do
        rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(e.pidfd.get()), &info,
                      WEXITED | WNOHANG);
      while (rc != 0 && errno == EINTR);
      if (rc == 0 && info.si_pid == pid) {
        out.status_known = true;
        out.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
        out.code = info.si_status;
      }
    }
    e.pidfd.reset();
    if (e.on_exit)
      e.on_exit(out);
  }

  void run() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epoll.get(), events, 64, next_timeout());
      if (n < 0 && errno != EINTR)
        return; // cannot happen with valid descriptors
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == wake_key) {
          uint64_t count;
          [[maybe_unused]] auto r = ::read(wake.get(), &count, sizeof count);
          std::lock_guard<std::mutex> guard{mtx};
          if (stopping)
            return;
          continue;
        }
        exited(static_cast<pid_t>(events[i].data.u64));
      }
      kill_due();
    }
  }
};

pid_watcher::pid_watcher(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

result<std::shared_ptr<pid_watcher>> pid_watcher::start() {
  auto p = std::make_unique<impl>();
  p->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!p->epoll)
    return sys_error("cannot create epoll instance", errno);
  p->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!p->wake)
    return sys_error("cannot create eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_key;
  if (::epoll_ctl(p->epoll.get(), EPOLL_CTL_ADD, p->wake.get(), &ev) != 0)
    return sys_error("cannot watch eventfd", errno);
  auto* raw = p.get();
  p->thread = std::thread{[raw] { raw->run(); }};
  return std::shared_ptr<pid_watcher>{new pid_watcher(std::move(p))};
}

pid_watcher::~pid_watcher() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->poke();
  impl_->thread.join();
}

result<void> pid_watcher::watch(unique_fd pidfd, pid_t pid, bool child, callback on_exit) {
  if (pid <= 0 || !pidfd)
    return make_virt_error(error_code::internal_error, error_domain::qemu,
                           "internal error: invalid process to watch");
  std::lock_guard<std::mutex> guard{impl_->mtx};
  if (impl_->entries.count(pid))
    return make_virt_error(error_code::internal_error, error_domain::qemu,
                           "internal error: process " + std::to_string(pid)
                             + " is already watched");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(pid);
  if (::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_ADD, pidfd.get(), &ev) != 0)
    return sys_error("cannot watch process " + std::to_string(pid), errno);
  impl_->entries.emplace(pid, impl::entry{std::move(pidfd), child, std::move(on_exit), {}});
  return {};
}

result<void> pid_watcher::terminate(pid_t pid,
                                    std::optional<std::chrono::milliseconds> kill_after) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    auto i = impl_->entries.find(pid);
    if (i == impl_->entries.end())
      return make_virt_error(error_code::operation_invalid, error_domain::qemu,
                             "Requested operation is not valid: process "
                               + std::to_string(pid) + " is not running");
    int fd = i->second.pidfd.get();
    bool now = kill_after && kill_after->count() <= 0;
    // A stopped process (SIGSTOP, a tracer) cannot act on SIGTERM until it
    // is continued, so a grace period would only be waited out: with a kill
    // policy, it gets SIGKILL at once. The pidfd aims the signal; the state
    // read by pid only decides which one.
    if (kill_after && !now)
      if (auto st = stat_field(pid, 3); st && (*st == "T" || *st == "t"))
        now = true;
    // ESRCH: it has just exited; the exit report is on its way.
    if (pidfd_send_signal(fd, now ? SIGKILL : SIGTERM) != 0 && errno != ESRCH)
      return sys_error("Failed to kill process " + std::to_string(pid), errno);
    if (!kill_after || now)
      return {};
    auto at = clock::now() + *kill_after;
    if (!i->second.kill_at || at < *i->second.kill_at)
      i->second.kill_at = at;
  }
  impl_->poke(); // the thread recomputes its timeout
  return {};
}

result<void> pid_watcher::signal(pid_t pid, int sig) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->entries.find(pid);
  if (i == impl_->entries.end())
    return make_virt_error(error_code::operation_invalid, error_domain::qemu,
                           "Requested operation is not valid: process " + std::to_string(pid)
                             + " is not running");
  if (pidfd_send_signal(i->second.pidfd.get(), sig) != 0 && errno != ESRCH)
    return sys_error("Failed to send signal " + std::to_string(sig) + " to process "
                       + std::to_string(pid),
                     errno);
  return {};
}

void pid_watcher::forget(pid_t pid) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto i = impl_->entries.find(pid);
  if (i == impl_->entries.end())
    return;
  ::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_DEL, i->second.pidfd.get(), nullptr);
  impl_->entries.erase(i);
}

size_t pid_watcher::size() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->entries.size();
}

result<unique_fd> open_pidfd(pid_t pid) {
  int fd = pidfd_open(pid, 0);
  if (fd < 0)
    return sys_error("cannot open pidfd of process " + std::to_string(pid), errno);
  // pidfd_open sets close-on-exec itself.
  return unique_fd{fd};
}

std::optional<uint64_t> process_start_time(pid_t pid) {
  auto v = stat_field(pid, 22);
  if (!v)
    return std::nullopt;
  try {
    return std::stoull(*v);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<pid_t> process_parent(pid_t pid) {
  auto v = stat_field(pid, 4);
  if (!v)
    return std::nullopt;
  try {
    return static_cast<pid_t>(std::stol(*v));
  } catch (...) {
    return std::nullopt;
  }
}

} // namespace virtactor::qemu
