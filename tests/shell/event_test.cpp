/// `event` prints domain events exactly as virsh does: both shells wait on a
/// private, real libvirtd while a third client changes a domain, and their
/// event lines and summaries must be identical. (The in-process test driver
/// cannot be changed while `event` waits, so this needs a daemon.) Skipped
/// when virsh or libvirtd is not installed.
#define BOOST_TEST_MODULE shell_event
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/shell/process.hpp"

namespace ts = virtactor::tests::shell;
namespace utf = boost::unit_test;
using namespace std::chrono_literals;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

std::string libvirtd_path() {
  std::string p = ts::find_program("libvirtd");
  return p.empty() ? ts::find_program("/usr/sbin/libvirtd") : p;
}

boost::test_tools::assertion_result tools_available(utf::test_unit_id) {
  boost::test_tools::assertion_result res(!ts::find_program("virsh").empty() &&
                                          !libvirtd_path().empty());
  if (!res)
    res.message() << "virsh or libvirtd is not installed; skipping the event comparison";
  return res;
}

/// A child whose stdout is read while it runs.
class watcher {
public:
  explicit watcher(const std::vector<std::string>& argv, const std::string& cwd) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return;
    std::vector<char*> cargv;
    for (const auto& a : argv)
      cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      if (::chdir(cwd.c_str()) != 0)
        ::_exit(126);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~watcher() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)wait();
    }
    if (fd_ >= 0)
      ::close(fd_);
  }
  watcher(const watcher&) = delete;
  watcher& operator=(const watcher&) = delete;

  /// Reads whatever the child has written, waiting at most `wait_for`.
  const std::string& poll_output(std::chrono::milliseconds wait_for) {
    struct pollfd p = {fd_, POLLIN, 0};
    if (fd_ >= 0 && ::poll(&p, 1, static_cast<int>(wait_for.count())) > 0) {
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n > 0)
        out_.append(buf, static_cast<size_t>(n));
    }
    return out_;
  }

  void interrupt() { ::kill(pid_, SIGINT); }

  /// Collects the rest of the output and the exit status.
  int wait() {
    for (;;) {
      struct pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0)
        break;
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0)
        break;
      out_.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::string& output() const { return out_; }

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

/// Counts the lines of `text` that contain `needle`.
size_t count_lines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
    ++n;
  return n;
}

/// A private libvirtd for the duration of a test.
struct daemon_fixture {
  std::string dir;
  std::string interop = env_or("VA_SOURCE_DIR", ".") + "/tests/interop";
  std::string uri;

  daemon_fixture() {
    char tmpl[] = "/tmp/va-shell-event.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      return;
    dir = tmpl;
    int base = 20000 + ::getpid() % 20000;
    for (int k = 0; k < 10 && uri.empty(); ++k) {
      auto r = ts::run_process(
          {"/bin/sh", interop + "/start-libvirtd.sh", dir, std::to_string(base + k)}, "/", {}, "",
          std::chrono::seconds{60});
      if (r.exit_code == 0)
        uri = "test+unix:///default?socket=" + dir + "/libvirt-sock";
    }
  }
  ~daemon_fixture() {
    if (!dir.empty()) {
      ts::run_process({"/bin/sh", interop + "/stop-libvirtd.sh", dir}, "/", {}, "",
                      std::chrono::seconds{60});
      ts::run_process({"/bin/rm", "-rf", dir}, "/", {}, "", std::chrono::seconds{60});
    }
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(event_lines_and_summary_match_virsh_on_a_real_daemon,
                     *utf::precondition(tools_available)) {
  daemon_fixture d;
  BOOST_REQUIRE_MESSAGE(!d.uri.empty(), "libvirtd did not start");
  std::string data = env_or("VA_SOURCE_DIR", ".") + "/tests/shell/data";
  std::string virsh = ts::find_program("virsh");
  std::string ours = env_or("VA_BINARY_DIR", ".") + "/client/shell/virtactor";
  auto change = [&](const std::string& commands) {
    return ts::run_process({virsh, "-q", "-c", d.uri, commands}, data, {}, "",
                           std::chrono::seconds{60});
  };
  watcher theirs{{virsh, "-c", d.uri, "event", "--all", "--loop"}, data};
  watcher mine{{ours, "-c", d.uri, "event", "--all", "--loop"}, data};

  // Both watchers are registered once each has seen a probe event.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (count_lines(theirs.poll_output(0ms), "'probe'") == 0 ||
         count_lines(mine.poll_output(0ms), "'probe'") == 0) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "the watchers never saw an event");
    change("define probe.xml; undefine probe");
    theirs.poll_output(100ms);
    mine.poll_output(100ms);
  }
  size_t theirs_start = theirs.output().size();
  size_t mine_start = mine.output().size();
  // Probe events still in flight end with the probe's undefine.
  auto settle = [&](watcher& w) {
    while (count_lines(w.poll_output(100ms), "'probe': Defined") >
           count_lines(w.output(), "'probe': Undefined")) {
      BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    }
  };
  settle(theirs);
  settle(mine);
  theirs_start = theirs.output().size();
  mine_start = mine.output().size();

  auto r = change("define demo.xml; start demo; suspend demo; resume demo; destroy demo; "
                  "start demo; shutdown demo; undefine demo; create transient.xml; "
                  "destroy scratch");
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  // Wait until both have seen the last event of the cycle.
  for (watcher* w : {&theirs, &mine}) {
    while (w->poll_output(100ms).find("for domain 'scratch': Stopped Destroyed\n",
                                      w == &theirs ? theirs_start : mine_start) ==
           std::string::npos)
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "a watcher missed events");
  }
  theirs.interrupt();
  mine.interrupt();
  BOOST_TEST(mine.wait() == theirs.wait());
  // The event lines of the cycle are identical; each summary counts every
  // line its shell printed (probes included, which may differ in number).
  const std::string interrupted = "event loop interrupted\n";
  auto events_of = [&](const watcher& w, size_t start) {
    const auto& out = w.output();
    auto end = out.find(interrupted, start);
    return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
  };
  std::string theirs_events = events_of(theirs, theirs_start);
  std::string mine_events = events_of(mine, mine_start);
  BOOST_TEST(mine_events == theirs_events);
  BOOST_TEST(mine_events.find("event 'lifecycle' for domain 'demo': Started Booted\n") !=
             std::string::npos);
  const auto& out = mine.output();
  auto tail = out.find(interrupted);
  BOOST_REQUIRE(tail != std::string::npos);
  BOOST_TEST(out.substr(tail) == interrupted + "events received: " +
                                     std::to_string(count_lines(out, "event 'lifecycle'")) +
                                     "\n\n");
}
