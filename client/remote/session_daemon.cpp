#include "client/remote/session_daemon.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace virtactor::client {

namespace {

bool executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

/// Whether a daemon could be listening on `path`: false when the socket is
/// missing or refuses (a file left by a daemon that died).
bool nobody_listens(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return false;
  std::memcpy(sa.sun_path, path.data(), path.size());
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (!fd)
    return false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
    return false;
  return errno == ENOENT || errno == ECONNREFUSED;
}

/// The parent directory of `path`, made for the user alone if missing.
void make_parent(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return;
  std::string dir = path.substr(0, slash);
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/')
      ::mkdir(dir.substr(0, i).c_str(), 0700);
}

/// Takes `lock_path` exclusively, waiting up to `timeout`.
result<unique_fd> take_lock(const std::string& lock_path, std::chrono::milliseconds timeout) {
  unique_fd fd{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (!fd)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Unable to open lock file '" + lock_path +
                             "': " + std::strerror(errno));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR)
      return make_virt_error(error_code::system_error, error_domain::rpc,
                             "Unable to lock '" + lock_path + "': " + std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline)
      return make_virt_error(error_code::system_error, error_domain::rpc,
                             "Timed out waiting for the lock '" + lock_path +
                               "' of another client starting the session daemon");
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return fd;
}

/// Runs `binary --timeout=120 --daemon --pid-file=PID`: the command returns
/// once the daemon serves (0) or failed to start (1). Its output goes
/// nowhere (the daemon logs where its configuration says).
result<void> start_daemon(const std::string& binary, const std::string& pid_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0);
  std::vector<std::string> args{binary, "--timeout=120", "--daemon", "--pid-file=" + pid_file};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Unable to start the session daemon '" + binary +
                             "': " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {};
  return make_virt_error(error_code::system_error, error_domain::rpc,
                         "The session daemon '" + binary +
                           "' did not start (run it with --verbose to see why)");
}

} // namespace

std::string session_daemon_pid_file(const std::string& socket_path) {
  auto slash = socket_path.rfind('/');
  return (slash == std::string::npos ? std::string{"."} : socket_path.substr(0, slash)) +
         "/virtactord.pid";
}

std::string session_daemon_binary() {
  if (const char* env = std::getenv("VIRTACTORD_PATH"); env && *env)
    return env;
#ifdef VA_INSTALLED_DAEMON
  if (executable(VA_INSTALLED_DAEMON))
    return VA_INSTALLED_DAEMON;
#endif
#ifdef VA_BUILD_TREE_DAEMON
  if (executable(VA_BUILD_TREE_DAEMON))
    return VA_BUILD_TREE_DAEMON;
#endif
  return {};
}

result<unique_fd> connect_session_daemon(const std::string& path, int timeout_ms) {
  auto fd = connect_unix(path, timeout_ms);
  if (fd || !nobody_listens(path))
    return fd;
  make_parent(path);
  auto lock = take_lock(path + ".lock", std::chrono::seconds{30});
  if (!lock)
    return lock.error();
  // Another client may have started it while this one waited for the lock.
  if (!nobody_listens(path))
    return connect_unix(path, timeout_ms);
  auto binary = session_daemon_binary();
  if (binary.empty())
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           fd.error().message +
                             " (no virtactord to start: set VIRTACTORD_PATH)");
  if (std::getenv("VIRTACTORD_PATH") && !executable(binary))
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "VIRTACTORD_PATH '" + binary + "' is not an executable file");
  if (auto started = start_daemon(binary, session_daemon_pid_file(path)); !started)
    return started.error();
  return connect_unix(path, timeout_ms);
}

} // namespace virtactor::client
