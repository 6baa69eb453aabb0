/// The QEMU process of a domain: started in its own session so that it
/// outlives the daemon, with the monitor socket created by us and inherited,
/// its output appended to the domain's log, and its exit reported to an
/// actor the moment it happens (pid_watcher.hpp); or adopted after a daemon
/// restart, with a check that the pid still names the same process.
///
/// `process_launcher` is the boundary the domain logic talks to, so that a
/// test can put a fake there; `make_process_launcher` is the real one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/fd.hpp"
#include "drivers/qemu/pid_watcher.hpp"
#include "protocol/error.hpp"

namespace virtactor::qemu {

/// The descriptor number the monitor socket has in QEMU: the command line
/// says `-chardev socket,id=charmonitor,fd=3,server=on,wait=off`.
inline constexpr int monitor_fd_in_child = 3;

/// The account a QEMU runs as (libvirt's qemu.conf `user` and `group`):
/// the child sets these before exec, as initgroups then setgid then setuid.
struct run_as {
  uint32_t uid = 0;
  uint32_t gid = 0;
  /// Supplementary groups (the user's, as getgrouplist gives them).
  std::vector<uint32_t> groups;

  bool operator==(const run_as&) const = default;
};

/// What to start.
struct launch_spec {
  /// The domain's name (log header, messages).
  std::string name;
  /// The whole command line; argv[0] is the emulator's absolute path. The
  /// monitor socket is descriptor `monitor_fd_in_child`.
  std::vector<std::string> argv;
  /// The domain's private directory (libvirt's domain-ID-NAME): created
  /// (mode 0700) if missing; holds monitor.sock and is QEMU's HOME.
  std::string domain_dir;
  /// QEMU's stdout and stderr, appended after a header line (mode 0600).
  std::string log_path;
  /// Receives the pid ("PID\n"); empty for none.
  std::string pid_path;
  /// Added to QEMU's clean environment ("NAME=value" each).
  std::vector<std::string> env;
  /// For the log header ("qemu version: ..."); may be empty.
  std::string qemu_version;
  /// Further descriptors QEMU inherits, as (its number in QEMU, above
  /// `monitor_fd_in_child`; a descriptor of the caller, who keeps it).
  std::vector<std::pair<int, int>> inherited;
  /// Who QEMU runs as; empty: the daemon's own ids (no switch). With it, the
  /// domain directory is owned by that account, as libvirt's is.
  std::optional<run_as> user;
};

/// Who a running QEMU is: what a status file records so that a later daemon
/// can find the same process again.
struct qemu_identity {
  int32_t pid = 0;
  /// /proc/PID/stat start time (clock ticks since boot); 0: unknown.
  uint64_t start_time = 0;
  /// The monitor socket's path.
  std::string monitor_path;
};

/// A started QEMU.
struct started_qemu {
  qemu_identity id;
  /// Connected to the monitor socket (QEMU accepts it once it is ready);
  /// hand it to `spawn_monitor`.
  unique_fd monitor;
};

/// Starts, adopts and stops QEMU processes; each exit goes to the owner
/// actor named at start or adoption as one `process_exited` message.
/// Thread-safe. Calls do local file and process work only (no waiting on
/// QEMU), a few milliseconds.
class process_launcher {
public:
  virtual ~process_launcher() = default;

  /// Creates the domain directory and the monitor socket, starts QEMU in a
  /// new session with a clean environment, writes the pid file, connects to
  /// the monitor and watches the process.
  virtual result<started_qemu> start(const launch_spec& spec, caf::actor owner) = 0;

  /// Watches a QEMU that an earlier daemon started. Refused (VIR_ERR_OPERATION_FAILED)
  /// when the process is gone or its pid now names another process (start
  /// time or executable differ; `emulator` empty: not checked).
  virtual result<void> adopt(const qemu_identity& id, const std::string& emulator,
                             caf::actor owner) = 0;

  /// Kill policy: SIGTERM, then SIGKILL once `kill_after` has passed
  /// (libvirt's destroy uses 10 s; empty: never; zero, or a stopped
  /// process when `kill_after` is set: SIGKILL at once).
  /// Completion is the owner's `process_exited`.
  virtual result<void> terminate(int32_t pid,
                                 std::optional<std::chrono::milliseconds> kill_after) = 0;

  /// Stops watching `pid` and leaves the process running (daemon shutdown).
  virtual void forget(int32_t pid) = 0;
};

/// The real launcher, with its own `pid_watcher` thread.
result<std::shared_ptr<process_launcher>> make_process_launcher();

/// For each of `paths`, 0 when `who` can `access(path, mode)` it (search
/// rights on every folder on the way included), else the errno; checked by
/// a short-lived child that takes `who`'s ids (so ACLs and supplementary
/// groups count as they will for QEMU).
result<std::vector<int>> access_as(const run_as& who, const std::vector<std::string>& paths,
                                   int mode);

/// QEMU's environment: LC_ALL=C, PATH (ours, or the usual default), HOME and
/// XDG_{DATA,CACHE,CONFIG}_HOME inside `domain_dir`, then `extra`.
std::vector<std::string> qemu_environment(const std::string& domain_dir,
                                          const std::vector<std::string>& extra = {});

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_exited& x) {
  return f(caf::meta::type_name("process_exited"), x.pid, x.status_known, x.signaled, x.code);
}

} // namespace virtactor::qemu
