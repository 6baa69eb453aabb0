#define BOOST_TEST_MODULE client_session_daemon
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include "tests/interop/harness.hpp"

// A session URI (qemu:///session) that finds no daemon on the user's socket
// starts one, as libvirt's client starts libvirtd; the next client uses it.
// Session URIs belong to users other than root: as root the test plays
// `nobody` (setpriv), on copies of the programs that user can reach.

using namespace virtactor;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct session_user {
  interop::temp_dir dir;
  std::string shell;
  std::string daemon;
  bool as_nobody = ::geteuid() == 0;
  std::vector<pid_t> daemons;

  session_user() {
    shell = VA_SHELL_PATH;
    daemon = interop::virtactord_path();
    if (as_nobody) {
      auto* pw = ::getpwnam("nobody");
      BOOST_REQUIRE(pw != nullptr);
      fs::copy_file(shell, dir.file("virtactor"));
      fs::copy_file(daemon, dir.file("virtactord"));
      shell = dir.file("virtactor");
      daemon = dir.file("virtactord");
      for (auto& p : fs::recursive_directory_iterator(dir.path()))
        BOOST_REQUIRE(::chown(p.path().c_str(), pw->pw_uid, pw->pw_gid) == 0);
      BOOST_REQUIRE(::chown(dir.path().c_str(), pw->pw_uid, pw->pw_gid) == 0);
    }
  }

  ~session_user() {
    for (auto pid : daemons) {
      ::kill(pid, SIGTERM);
      interop::wait_until([&] { return ::kill(pid, 0) != 0; }, 30s);
    }
  }

  std::string runtime() const { return dir.file("run"); }
  std::string socket() const { return runtime() + "/libvirt/libvirt-sock"; }

  /// The session daemon's pid, from the pid file its client had it write;
  /// 0 when there is none or that process is gone.
  pid_t daemon_pid() const {
    auto text = interop::read_file(runtime() + "/libvirt/virtactord.pid");
    pid_t pid = text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
    return pid > 0 && ::kill(pid, 0) == 0 ? pid : 0;
  }

  /// The shell run as the session's user, with only the environment given.
  interop::process_result shell_run(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv;
    if (as_nobody)
      argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"};
    argv.insert(argv.end(), {"/usr/bin/env", "-i", "HOME=" + dir.path(), "XDG_RUNTIME_DIR=" + runtime(),
                             "PATH=/usr/bin:/bin", "VIRTACTORD_PATH=" + daemon});
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(shell);
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = interop::run_process(argv, {}, 120s);
    if (auto pid = daemon_pid(); pid > 0 &&
        std::find(daemons.begin(), daemons.end(), pid) == daemons.end())
      daemons.push_back(pid);
    return r;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_session_uri_starts_the_users_daemon_once, session_user) {
  BOOST_REQUIRE(!interop::exists(socket()));
  auto first = shell_run({"-c", "qemu:///session", "uri"});
  BOOST_TEST(first.exit_code == 0, first.err);
  BOOST_TEST(first.out == "qemu:///session\n\n");
  auto pid = daemon_pid();
  BOOST_REQUIRE(pid > 0);
  BOOST_TEST(interop::read_file("/proc/" + std::to_string(pid) + "/cmdline").find("--timeout=120") !=
             std::string::npos);
  // The socket and its directory are the user's alone.
  auto perms = fs::status(runtime() + "/libvirt").permissions();
  BOOST_TEST(((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none));

  // The next client finds the running daemon; no second one starts.
  auto second = shell_run({"-c", "qemu:///session", "list", "--all"});
  BOOST_TEST(second.exit_code == 0, second.err);
  BOOST_TEST(second.out.find(" Id   Name   State") == 0);
  BOOST_TEST(daemon_pid() == pid);
  BOOST_TEST(daemons.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(no_daemon_starts_when_the_user_says_so, session_user) {
  auto r = shell_run({"-c", "qemu:///session", "uri"}, {"LIBVIRT_AUTOSTART=0"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("Failed to connect socket to '" + socket() +
                        "': No such file or directory") != std::string::npos,
             r.err);
  BOOST_TEST(!interop::exists(socket()));
  BOOST_TEST(daemon_pid() == 0);
}

BOOST_FIXTURE_TEST_CASE(a_daemon_that_cannot_start_is_reported, session_user) {
  auto r = shell_run({"-c", "qemu:///session", "uri"}, {"VIRTACTORD_PATH=/nonexistent/virtactord"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("VIRTACTORD_PATH '/nonexistent/virtactord' is not an executable file") !=
               std::string::npos,
             r.err);
  BOOST_TEST(daemon_pid() == 0);
}
