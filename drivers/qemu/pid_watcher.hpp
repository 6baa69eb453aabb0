/// Process exit detection by pidfd: one thread waits (epoll) on the pidfds
/// of every watched process and reports each exit the moment it happens,
/// reaping the process when it is our child. It works the same for a process
/// that is not our child (a QEMU adopted after a daemon restart), so no stop
/// ever waits for PID 1 to reap a zombie and nothing polls `kill(pid, 0)`.
/// It also carries the kill policy: SIGTERM now, SIGKILL when a grace period
/// passes. No actors here; the owner of a watch gets a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <sys/types.h>

#include "actors/fd.hpp"
#include "protocol/error.hpp"

namespace virtactor::qemu {

/// A watched process has ended.
struct process_exited {
  int32_t pid = 0;
  /// We reaped it (it was our child), so `signaled` and `code` are real.
  bool status_known = false;
  /// Killed by signal `code`; otherwise it exited with status `code`.
  bool signaled = false;
  int32_t code = 0;
};

/// The watcher thread and its watches. Thread-safe.
class pid_watcher {
public:
  using callback = std::function<void(const process_exited&)>;

  /// Starts the thread.
  static result<std::shared_ptr<pid_watcher>> start();

  /// Stops the thread. Processes keep running; pending callbacks never run.
  ~pid_watcher();

  pid_watcher(const pid_watcher&) = delete;
  pid_watcher& operator=(const pid_watcher&) = delete;

  /// Watches the process `pid` behind `pidfd` (adopted; closed once the
  /// process has exited or is forgotten). `child`: reap it and report its
  /// status. `on_exit` runs once, on the watcher thread, and must not block.
  result<void> watch(unique_fd pidfd, pid_t pid, bool child, callback on_exit);

  /// Kill policy: SIGTERM now; then, unless `kill_after` is empty, SIGKILL
  /// once it has passed and the process still lives (zero: SIGKILL at once,
  /// no SIGTERM; a stopped process, which cannot act on SIGTERM, also gets
  /// SIGKILL at once). The exit is reported by the watch's callback as usual.
  result<void> terminate(pid_t pid, std::optional<std::chrono::milliseconds> kill_after);

  /// Sends `sig` to a watched process (through its pidfd: never to a
  /// process that reused the pid).
  result<void> signal(pid_t pid, int sig);

  /// Stops watching `pid`; the process is left alone. Its callback will not
  /// run, unless it is running already. A child of ours is then reaped by
  /// nobody while this process lives: for daemon shutdown.
  void forget(pid_t pid);

  /// The number of processes watched.
  size_t size() const;

private:
  struct impl;
  explicit pid_watcher(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Opens a pidfd for `pid`. VIR_ERR_SYSTEM_ERROR when the process is gone
/// or pidfds are not available.
result<unique_fd> open_pidfd(pid_t pid);

/// The start time of process `pid` (field 22 of /proc/PID/stat, clock ticks
/// since boot): with the pid, it names one process across pid reuse.
std::optional<uint64_t> process_start_time(pid_t pid);

/// The parent of process `pid` (field 4 of /proc/PID/stat).
std::optional<pid_t> process_parent(pid_t pid);

} // namespace virtactor::qemu
