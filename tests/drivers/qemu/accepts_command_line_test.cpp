// QEMU accepts every command line the driver builds: for each captured input
// that libvirt started, the test builds the command line (disks, sockets and
// files moved into a temporary directory), runs qemu-system-x86_64 with it
// (-S: the guest never runs), reaches the QMP greeting on the monitor socket,
// negotiates capabilities and sends `quit`, and QEMU must exit with status 0.
// Label `qemu`: it boots real QEMU processes, one at a time, each stopped by
// its PID. As root the test moves into a network namespace of its own, with a
// bridge br0, so that tap devices for bridge and network interfaces never
// touch the host's networking; without root those inputs are skipped.
#define BOOST_TEST_MODULE qemu_accepts_command_line
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/qemu/command_line.hpp"
#include "drivers/qemu/domain_def.hpp"
#include "tests/drivers/qemu/xml_test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers;
using namespace virtactor::drivers::qemu::test;
namespace fs = std::filesystem;

namespace {

constexpr auto deadline_per_domain = std::chrono::seconds{60};

/// Runs a command to completion; its exit status (-1 if it could not run).
int run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (out)
    *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "va-qemu-accepts.XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() { fs::remove_all(path); }
};

/// A loop device over a file, for type='block' disks; detached at the end.
struct loop_device {
  std::string dev;
  explicit loop_device(const fs::path& file) {
    std::string out;
    if (run({"losetup", "-f", "--show", file.string()}, &out) == 0)
      dev = out.substr(0, out.find('\n'));
  }
  ~loop_device() {
    if (!dev.empty())
      run({"losetup", "-d", dev});
  }
};

int unix_listener(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int unix_connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// A free VNC port (5900 + display) on the loopback address.
int free_vnc_port() {
  for (int port = 5990; port > 5900; --port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free)
      return port;
  }
  return 0;
}

/// Reads one line (up to '\n') from `fd` before `deadline`; empty on EOF,
/// error or timeout.
std::string read_line(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string line;
  char c;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return {};
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return {};
    if (read(fd, &c, 1) != 1)
      return line;
    line += c;
    if (c == '\n')
      return line;
  }
}

bool write_all(int fd, const std::string& s) {
  return write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

/// A started QEMU, killed by its PID if the test leaves it running.
struct qemu_process {
  pid_t pid = -1;
  int pidfd = -1;
  ~qemu_process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (pidfd >= 0)
      close(pidfd);
  }
  /// Waits for the exit before `deadline`; the exit status, or -1.
  int wait(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{pidfd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1)
      return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
      return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

/// Starts QEMU with `cmd`, each passed descriptor at its number.
bool start(const qemu::command_line& cmd, const std::vector<int>& sources, const fs::path& log,
           qemu_process& proc) {
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(out, 1);
    dup2(out, 2);
    // The sources sit above every target number, so no dup2 clobbers another.
    for (size_t i = 0; i < cmd.fds.size(); ++i)
      if (dup2(sources[i], cmd.fds[i].fd) < 0)
        _exit(126);
    std::vector<std::string> env;
    for (const auto& [k, v] : cmd.env)
      env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (const auto& a : cmd.argv)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  proc.pid = pid;
  proc.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  return proc.pidfd >= 0;
}

/// Moves this process into a private network namespace with loopback up
/// and a bridge br0 (root only); false when it cannot.
bool private_network() {
  if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
    return false;
  return run({"ip", "link", "set", "lo", "up"}) == 0 &&
         run({"ip", "link", "add", "br0", "type", "bridge"}) == 0 &&
         run({"ip", "link", "set", "br0", "up"}) == 0;
}

/// A tap device as passed_fd::kind::tap describes it, attached to its bridge.
int open_tap(const qemu::passed_fd& p) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, p.path.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0 ||
      run({"ip", "link", "set", p.path, "master", p.bridge, "up"}) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// Moves what the definition names on the host into `dir`: disk images
/// (created with qemu-img), block devices (a loop device) and the paths of
/// unix and file serials. Returns false when a block device cannot be made.
bool relocate(xml::domain_def& def, const fs::path& dir, std::vector<loop_device>& loops) {
  int n = 0;
  for (auto& disk : def.devices.disks) {
    if (disk.source.empty())
      continue;
    auto image = dir / ("disk" + std::to_string(n++) + "." + disk.driver_type);
    if (run({"qemu-img", "create", "-q", "-f", disk.driver_type, image.string(), "16M"}) != 0)
      return false;
    if (disk.type == "block") {
      loops.emplace_back(image);
      if (loops.back().dev.empty())
        return false;
      disk.source = loops.back().dev;
    } else {
      disk.source = image.string();
    }
  }
  for (auto* list : {&def.devices.serials, &def.devices.consoles})
    for (auto& c : *list)
      if (c.type == "unix" || c.type == "file")
        c.source_path = (dir / fs::path{c.source_path}.filename()).string();
  return true;
}

/// Runs QEMU for one input; returns a description of the failure, or "".
std::string check_input(const fs::path& input, bool netns, std::string& skipped) {
  temp_dir tmp;
  auto def = qemu::parse_domain(read_text(input), qemu_7_2());
  if (!def)
    return "parse: " + def.error().message;
  std::vector<loop_device> loops;
  if (!relocate(*def, tmp.path, loops)) {
    skipped = "no loop device for a block disk (not root, or none here)";
    return {};
  }
  auto live = qemu::live_definition(*def, {});
  give_taps(live);
  for (const auto& net : live.devices.interfaces)
    if (net.type != "user" && !netns) {
      skipped = "no private network namespace for its tap (not root)";
      return {};
    }
  qemu::runtime_facts rt;
  rt.domain_dir = (tmp.path / "domain").string();
  fs::create_directories(rt.domain_dir);
  rt.master_key = rt.domain_dir + "/master-key.aes";
  std::string key(32, 'k');
  std::ofstream{rt.master_key, std::ios::binary} << key;
  rt.path_env = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  rt.now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  for (size_t i = 0; i < live.devices.graphics.size(); ++i)
    rt.graphics_ports.push_back(free_vnc_port());
  auto cmd = qemu::build_command_line(live, rt);
  if (!cmd)
    return "command line: " + cmd.error().message;

  // The descriptors, at numbers above every target.
  std::vector<int> sources;
  auto close_sources = [&] {
    for (int fd : sources)
      close(fd);
  };
  for (const auto& p : cmd->fds) {
    int fd = -1;
    if (p.what == qemu::passed_fd::kind::file_append)
      fd = open(p.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    else if (p.what == qemu::passed_fd::kind::tap)
      fd = open_tap(p);
    else
      fd = unix_listener(p.path);
    if (fd < 0) {
      close_sources();
      return "cannot open " + p.path;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    close(fd);
    sources.push_back(high);
  }
  auto deadline = std::chrono::steady_clock::now() + deadline_per_domain;
  auto log = tmp.path / "qemu.log";
  qemu_process proc;
  bool started = start(*cmd, sources, log, proc);
  close_sources();
  if (!started)
    return "cannot start QEMU";
  auto qemu_log = [&] { return "; QEMU said: " + read_text(log); };

  // The kernel queues the connection until QEMU accepts it.
  int mon = unix_connect(cmd->fds[0].path);
  if (mon < 0)
    return "cannot connect to the monitor";
  struct closer {
    int fd;
    ~closer() { close(fd); }
  } mon_closer{mon};
  auto greeting = read_line(mon, deadline);
  if (greeting.find("\"QMP\"") == std::string::npos)
    return "no QMP greeting" + qemu_log();
  if (!write_all(mon, "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"))
    return "cannot write to the monitor";
  auto caps = read_line(mon, deadline);
  if (caps.find("\"return\"") == std::string::npos)
    return "qmp_capabilities: " + caps + qemu_log();
  if (!write_all(mon, "{\"execute\":\"query-status\",\"id\":2}\n"))
    return "cannot write to the monitor";
  auto status = read_line(mon, deadline);
  if (status.find("\"prelaunch\"") == std::string::npos)
    return "query-status: " + status;
  if (!write_all(mon, "{\"execute\":\"quit\",\"id\":3}\n"))
    return "cannot write to the monitor";
  int code = proc.wait(deadline);
  if (code != 0)
    return "QEMU exit status " + std::to_string(code) + qemu_log();
  return {};
}

} // namespace

BOOST_AUTO_TEST_CASE(qemu_accepts_every_command_line_the_driver_builds) {
  std::string out;
  BOOST_TEST_REQUIRE(run({"qemu-system-x86_64", "--version"}, &out) == 0,
                     "qemu-system-x86_64 is not installed");
  bool netns = private_network();
  size_t ran = 0;
  for (const auto& f : inputs("domain")) {
    if (!fs::exists(sibling(f, ".args")))
      continue; // libvirt did not start it either (define-only input)
    BOOST_TEST_CONTEXT(f.filename().string()) {
      std::string skipped;
      auto failure = check_input(f, netns, skipped);
      if (!skipped.empty()) {
        BOOST_TEST_MESSAGE(f.filename().string() + ": skipped, " + skipped);
        continue;
      }
      ++ran;
      BOOST_TEST(failure.empty(), failure);
    }
  }
  BOOST_TEST(ran >= 25u);
}
