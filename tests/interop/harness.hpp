/// Test harness for whole-process tests: temp directories, child processes with
/// deadlines, free loopback ports, and a `virtactord` started on private sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace virtactor::interop {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Where the build put `virtactord` (set by CMake).
std::string virtactord_path();

/// The python3 that has python3-libvirt (Debian's, not a pyenv one).
inline constexpr const char* system_python = "/usr/bin/python3";

/// Polls `condition` every `interval` until it holds or `timeout` passes;
/// returns its last value. A deadline, never a fixed sleep.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 20ms);

/// A fresh directory under /tmp, removed with everything in it.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  /// `path()/name`.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

/// Reads a whole file; empty when it does not exist.
std::string read_file(const std::string& path);

/// Writes `text` to `path`, replacing it.
void write_file(const std::string& path, const std::string& text);

/// True if `path` exists (any type).
bool exists(const std::string& path);

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released).
uint16_t free_tcp_port();

/// True when something accepts TCP connections on 127.0.0.1:`port`.
bool tcp_accepts(uint16_t port);

/// A child process whose stdout and stderr go to files. The destructor kills
/// (SIGKILL) and reaps a child that is still running.
class child_process {
public:
  /// Starts `argv` with the current environment plus `env` ("NAME=value";
  /// an entry replaces a variable of the same name). Throws when it cannot.
  child_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                std::string stdout_path, std::string stderr_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  /// True until the child has exited (reaps it then).
  bool running();
  /// Waits up to `timeout` for the child to exit; its exit code, or 128 + the
  /// signal that ended it; nullopt when it still runs.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// Sends `sig` (only while the child has not been reaped).
  void signal(int sig);
  /// SIGTERM, wait up to `timeout`, then SIGKILL; the exit status as `wait`.
  int stop(std::chrono::milliseconds timeout = 30s);
  std::string stdout_text() const { return read_file(stdout_path_); }
  std::string stderr_text() const { return read_file(stderr_path_); }

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

/// What a finished process left behind.
struct process_result {
  /// The exit code, 128 + signal, or -1 when it had to be killed at the deadline.
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` to its end (killing it after `timeout`).
process_result run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env = {},
                           std::chrono::milliseconds timeout = 300s);

/// What virtactord's status line (its answer to SIGUSR1) says.
struct daemon_status {
  int clients = 0;
  uint64_t heap_in_use = 0;
};

/// How to start a `virtactord`.
struct daemon_settings {
  /// Extra libvirtd.conf lines (after unix_sock_dir and the tcp settings).
  std::string config;
  /// Listen on a free loopback TCP port as well (`--listen`).
  bool tcp = true;
  /// Extra command-line arguments.
  std::vector<std::string> args;
  /// Extra environment ("NAME=value").
  std::vector<std::string> env;
  /// A command that execs virtactord in the same process, put before its
  /// path (e.g. {"/usr/bin/prlimit", "--nofile=64:64"}).
  std::vector<std::string> launcher;
};

/// A `virtactord` serving a private temp directory (both unix sockets, the
/// pid file, its config and output) and, optionally, a free loopback port.
/// The constructor returns once the daemon accepts connections on all of them
/// and has written its pid file, and throws (with the daemon's stderr) if it
/// does not; a port taken meanwhile by someone else is retried with another.
/// The destructor stops a daemon that still runs (SIGTERM, then SIGKILL).
class daemon_process {
public:
  explicit daemon_process(daemon_settings settings = {});
  ~daemon_process();
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  pid_t pid() const { return child_->pid(); }
  const std::string& dir() const { return dir_.path(); }
  std::string config_path() const { return dir_.file("virtactord.conf"); }
  std::string rw_socket() const { return dir_.file("libvirt-sock"); }
  std::string ro_socket() const { return dir_.file("libvirt-sock-ro"); }
  std::string pid_file() const { return dir_.file("virtactord.pid"); }
  /// 0 without tcp.
  uint16_t tcp_port() const { return port_; }
  /// `test+unix:///default?socket=<rw socket>`.
  std::string unix_uri() const;
  /// The same on the read-only socket.
  std::string unix_ro_uri() const;
  /// `test+tcp://127.0.0.1:<port>/default`.
  std::string tcp_uri() const;

  bool running() { return child_->running(); }
  void signal(int sig) { child_->signal(sig); }
  /// SIGTERM and wait (SIGKILL after `timeout`); the exit status.
  int stop(std::chrono::milliseconds timeout = 30s) { return child_->stop(timeout); }
  /// Everything the daemon wrote to stderr so far.
  std::string log() const { return child_->stderr_text(); }
  /// Sends SIGUSR1 and reads the status line it prints; nullopt when none
  /// comes within `timeout`.
  std::optional<daemon_status> status(std::chrono::milliseconds timeout = 10s);
  /// Waits until the daemon counts `n` clients (sessions begun or ended).
  bool clients_become(int n, std::chrono::milliseconds timeout = 30s);

private:
  /// One attempt; false when the daemon exited because the port was taken.
  bool try_start(const daemon_settings& settings);

  temp_dir dir_;
  uint16_t port_ = 0;
  std::optional<child_process> child_;
};

} // namespace virtactor::interop
