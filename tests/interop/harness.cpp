#include "tests/interop/harness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/fd.hpp"

extern char** environ;

namespace virtactor::interop {

std::string virtactord_path() {
  return VA_VIRTACTORD_PATH;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (condition())
      return true;
    if (clock_type::now() >= deadline)
      return condition();
    std::this_thread::sleep_for(interval);
  }
}

temp_dir::temp_dir() {
  char templ[] = "/tmp/va-interop-XXXXXX";
  if (!::mkdtemp(templ))
    throw std::runtime_error(std::string{"mkdtemp: "} + std::strerror(errno));
  path_ = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush())
    throw std::runtime_error("cannot write " + path);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

uint16_t free_tcp_port() {
  unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  socklen_t len = sizeof sa;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    throw std::runtime_error(std::string{"cannot find a free port: "} + std::strerror(errno));
  return ntohs(sa.sin_port);
}

bool tcp_accepts(uint16_t port) {
  return static_cast<bool>(connect_tcp("127.0.0.1", port, 1000));
}

// --- child_process -----------------------------------------------------------

namespace {

/// The environment of the current process with `extra` laid over it.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  auto add = [&](const std::string& entry) {
    auto eq = entry.find('=');
    vars[entry.substr(0, eq)] = entry;
  };
  for (char** e = environ; e && *e; ++e)
    add(*e);
  for (auto& e : extra)
    add(e);
  std::vector<std::string> out;
  for (auto& [name, entry] : vars)
    out.push_back(entry);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

} // namespace

child_process::child_process(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env, std::string stdout_path,
                             std::string stderr_path)
  : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
  if (argv.empty())
    throw std::invalid_argument("child_process: empty argv");
  auto args = argv;
  auto envs = merged_environment(env);
  auto c_args = c_strings(args);
  auto c_envs = c_strings(envs);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child starts with no blocked signals, whatever this thread blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int rc = ::posix_spawn(&pid_, c_args[0], &actions, &attr, c_args.data(), c_envs.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

child_process::~child_process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool child_process::running() {
  return !wait(0ms).has_value();
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  if (status_)
    return status_;
  auto reap = [this] {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      status_ = decode_status(status);
    return status_.has_value();
  };
  wait_until(reap, timeout, 10ms);
  return status_;
}

void child_process::signal(int sig) {
  if (!status_)
    ::kill(pid_, sig);
}

int child_process::stop(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  if (auto st = wait(timeout))
    return *st;
  signal(SIGKILL);
  return wait(30s).value_or(-1);
}

process_result run_process(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env,
                           std::chrono::milliseconds timeout) {
  temp_dir dir;
  process_result out;
  {
    child_process child{argv, env, dir.file("stdout"), dir.file("stderr")};
    auto status = child.wait(timeout);
    if (!status)
      child.stop(5s);
    out.exit_code = status.value_or(-1);
  }
  out.out = read_file(dir.file("stdout"));
  out.err = read_file(dir.file("stderr"));
  return out;
}

// --- daemon_process ------------------------------------------------------------

daemon_process::daemon_process(daemon_settings settings) {
  for (int attempt = 0; attempt < 5; ++attempt)
    if (try_start(settings))
      return;
  throw std::runtime_error("virtactord: no free tcp port after 5 attempts");
}

daemon_process::~daemon_process() {
  if (child_)
    child_->stop();
}

bool daemon_process::try_start(const daemon_settings& settings) {
  std::ostringstream conf;
  conf << "# written by tests/interop/harness.cpp\n"
       << "unix_sock_dir = \"" << dir() << "\"\n";
  port_ = 0;
  if (settings.tcp) {
    port_ = free_tcp_port();
    conf << "listen_tls = 0\n"
         << "listen_tcp = 1\n"
         << "listen_addr = \"127.0.0.1\"\n"
         << "tcp_port = \"" << port_ << "\"\n";
  }
  conf << settings.config << "\n";
  write_file(config_path(), conf.str());
  ::unlink(pid_file().c_str());

  std::vector<std::string> argv{virtactord_path(), "-f", config_path(), "--pid-file", pid_file()};
  if (settings.tcp)
    argv.push_back("--listen");
  argv.insert(argv.end(), settings.args.begin(), settings.args.end());
  argv.insert(argv.begin(), settings.launcher.begin(), settings.launcher.end());
  child_.reset();
  child_.emplace(argv, settings.env, dir_.file("stdout"), dir_.file("stderr"));

  auto pid_text = std::to_string(child_->pid()) + "\n";
  bool exited = false;
  auto ready = [&] {
    if (!child_->running()) {
      exited = true;
      return true;
    }
    return read_file(pid_file()) == pid_text && exists(rw_socket()) && exists(ro_socket()) &&
           (!settings.tcp || tcp_accepts(port_));
  };
  if (!wait_until(ready, 30s))
    throw std::runtime_error("virtactord did not come up within 30 s; stderr:\n" + log());
  if (!exited)
    return true;
  auto err = log();
  if (settings.tcp && err.find("port " + std::to_string(port_)) != std::string::npos &&
      err.find("in use") != std::string::npos)
    return false; // someone took the port meanwhile: try another
  throw std::runtime_error("virtactord exited during start-up (status " +
                           std::to_string(child_->wait(0ms).value_or(-1)) + "); stderr:\n" + err);
}

std::string daemon_process::unix_uri() const {
  return "test+unix:///default?socket=" + rw_socket();
}

std::string daemon_process::unix_ro_uri() const {
  return "test+unix:///default?socket=" + ro_socket();
}

std::string daemon_process::tcp_uri() const {
  return "test+tcp://127.0.0.1:" + std::to_string(port_) + "/default";
}

std::optional<daemon_status> daemon_process::status(std::chrono::milliseconds timeout) {
  static const std::regex line{"status: clients (\\d+), accepted \\d+, heap in use (\\d+) bytes"};
  // Every status line printed so far, parsed.
  auto lines = [&] {
    auto text = log();
    std::vector<daemon_status> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), line);
         it != std::sregex_iterator(); ++it)
      out.push_back({std::stoi((*it)[1]), std::stoull((*it)[2])});
    return out;
  };
  auto before = lines().size();
  signal(SIGUSR1);
  std::vector<daemon_status> now;
  if (!wait_until([&] { return (now = lines()).size() > before; }, timeout))
    return std::nullopt;
  return now.back();
}

bool daemon_process::clients_become(int n, std::chrono::milliseconds timeout) {
  return wait_until(
    [&] {
      auto st = status();
      return st && st->clients == n;
    },
    timeout, 100ms);
}

} // namespace virtactor::interop
