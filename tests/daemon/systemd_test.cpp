// virtactord with systemd and as a classic daemon: socket activation through
// sd_listen_fds (sockets passed by systemd-socket-activate), and `-d`, which
// leaves the caller's standard streams at once so that `$(virtactord -d)`
// returns while the daemon serves.
#define BOOST_TEST_MODULE daemon_systemd
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/fd.hpp"
#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

extern char** environ;

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The inode of `path` (0 if absent): tells a socket file apart from a new one.
ino_t inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool answers(const std::string& socket) {
  auto c = raw_client::unix_socket(socket);
  c.open();
  auto type = c.call<proc::connect_get_type>();
  return type.ok() && type->type == "TEST";
}

bool alive(pid_t pid) {
  return ::kill(pid, 0) == 0;
}

/// Stops the daemon `pid` (not our child) by its pid and waits for it to go.
void stop_by_pid(pid_t pid) {
  ::kill(pid, SIGTERM);
  BOOST_TEST(wait_until([&] { return !alive(pid); }, 30s), "virtactord did not stop");
}

} // namespace

BOOST_AUTO_TEST_CASE(sockets_passed_by_systemd_are_served_and_left_in_place) {
  const char* activate = "/usr/bin/systemd-socket-activate";
  if (::access(activate, X_OK) != 0) {
    BOOST_TEST_MESSAGE("systemd-socket-activate is not installed: skipped");
    return;
  }
  temp_dir dir;
  write_file(dir.file("virtactord.conf"), "unix_sock_dir = \"" + dir.path() +
                                            "\"\nlisten_tls = 0\nlog_level = 2\n");
  // It listens, and on the first connection runs virtactord in its place
  // with the sockets as LISTEN_FDS (rw, ro, and one the config knows not).
  child_process daemon{{activate, "-l", dir.file("libvirt-sock"), "-l", dir.file("libvirt-sock-ro"),
                        "-l", dir.file("stray-sock"), virtactord_path(), "-f",
                        dir.file("virtactord.conf"), "-p", dir.file("virtactord.pid")},
                       {},
                       dir.file("out"),
                       dir.file("err")};
  BOOST_REQUIRE(wait_until([&] { return exists(dir.file("stray-sock")); }, 30s));
  auto rw_inode = inode(dir.file("libvirt-sock"));
  BOOST_TEST(answers(dir.file("libvirt-sock")), daemon.stderr_text());
  BOOST_TEST(answers(dir.file("libvirt-sock-ro")), daemon.stderr_text());
  BOOST_TEST(inode(dir.file("libvirt-sock")) == rw_inode); // systemd's socket, not a new one
  BOOST_TEST(exists(dir.file("virtactord.pid")));
  BOOST_TEST(contains(daemon.stderr_text(), "unix socket '" + dir.file("stray-sock") +
                                              "' matches no socket of the configuration"),
             daemon.stderr_text());
  BOOST_TEST(daemon.stop(30s) == 0, daemon.stderr_text());
  // The socket files are systemd's: left for the next activation.
  BOOST_TEST(exists(dir.file("libvirt-sock")));
  BOOST_TEST(exists(dir.file("libvirt-sock-ro")));
  BOOST_TEST(!exists(dir.file("virtactord.pid")));
}

BOOST_AUTO_TEST_CASE(daemon_mode_returns_at_once_and_leaves_a_serving_daemon) {
  temp_dir dir;
  write_file(dir.file("virtactord.conf"),
             "unix_sock_dir = \"" + dir.path() + "\"\nlisten_tls = 0\nlog_outputs = \"2:file:" +
               dir.file("virtactord.log") + "\"\nlog_level = 2\n");
  // As `out=$(virtactord -d ...)`: stdout and stderr on a pipe that must
  // reach end of file while the daemon runs on.
  int out[2];
  BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDERR_FILENO);
  std::vector<std::string> args{virtactord_path(), "-d", "-f", dir.file("virtactord.conf"),
                                "-p", dir.file("virtactord.pid")};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  BOOST_REQUIRE(::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  unique_fd reader{out[0]};
  std::string text;
  bool eof = false;
  auto deadline = clock_type::now() + 30s;
  while (!eof && clock_type::now() < deadline) {
    pollfd p{reader.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) == 1) {
      char buf[256];
      auto n = ::read(reader.get(), buf, sizeof buf);
      if (n <= 0)
        eof = true;
      else
        text.append(buf, static_cast<size_t>(n));
    }
  }
  int status = -1;
  ::waitpid(pid, &status, 0);
  BOOST_REQUIRE_MESSAGE(eof, "the daemon kept the caller's stdout/stderr");
  BOOST_TEST(text == "");
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  // The caller returned after the daemon was ready: pid file and sockets.
  auto daemon_pid = static_cast<pid_t>(std::stol(read_file(dir.file("virtactord.pid"))));
  BOOST_TEST(daemon_pid != pid);
  BOOST_TEST(answers(dir.file("libvirt-sock")));
  BOOST_TEST(contains(read_file(dir.file("virtactord.log")), ": info : daemon : ready\n"));
  stop_by_pid(daemon_pid);
  BOOST_TEST(!exists(dir.file("libvirt-sock")));
  BOOST_TEST(!exists(dir.file("virtactord.pid")));
}

BOOST_AUTO_TEST_CASE(daemon_mode_reports_a_failed_start_with_exit_one) {
  temp_dir dir;
  // The pid file's directory does not exist: the daemon fails after it
  // detached; the caller learns it through the status pipe.
  write_file(dir.file("virtactord.conf"),
             "unix_sock_dir = \"" + dir.path() + "\"\nlisten_tls = 0\nlog_outputs = \"3:file:" +
               dir.file("virtactord.log") + "\"\n");
  auto r = run_process({virtactord_path(), "-d", "-f", dir.file("virtactord.conf"), "-p",
                        dir.file("no/such/dir/virtactord.pid")},
                       {}, 30s);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "the daemon did not start"), r.err);
  // The pid file is taken (locked) as the detached daemon starts, with
  // libvirtd's message.
  BOOST_TEST(contains(read_file(dir.file("virtactord.log")),
                      "Failed to open pid file '" + dir.file("no/such/dir/virtactord.pid") +
                        "': No such file or directory"));
  BOOST_TEST(wait_until([&] { return !exists(dir.file("libvirt-sock")); }, 30s));
}
