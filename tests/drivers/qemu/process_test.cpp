// Process exit by pidfd and the QEMU process owner, with ordinary programs
// standing in for QEMU: statuses, non-children, the kill policy, the clean
// start (session, environment, descriptors, log, pid file), adoption checks,
// and no leaked descriptors or threads.
#define BOOST_TEST_MODULE qemu_process
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/qemu/pid_watcher.hpp"
#include "drivers/qemu/process.hpp"
#include "tests/drivers/qemu/test_support.hpp"

using namespace virtactor;
using namespace virtactor::qemu;
using namespace virtactor::qemu::testing;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<pid_watcher> make_watcher() {
  auto w = pid_watcher::start();
  BOOST_REQUIRE_MESSAGE(w, (w ? "" : w.error().message));
  return *w;
}

/// Watches `pid` and returns a future of its exit.
std::future<process_exited> watch(pid_watcher& w, pid_t pid, bool child) {
  auto done = std::make_shared<std::promise<process_exited>>();
  auto fut = done->get_future();
  auto fd = open_pidfd(pid);
  BOOST_REQUIRE_MESSAGE(fd, (fd ? "" : fd.error().message));
  auto r = w.watch(std::move(*fd), pid, child, [done](const process_exited& e) { done->set_value(e); });
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return fut;
}

process_exited wait_exit(std::future<process_exited>& f) {
  BOOST_REQUIRE_MESSAGE(f.wait_for(20s) == std::future_status::ready, "no exit reported");
  return f.get();
}

/// The watched child died of `sig`, and the watcher reaped it.
void expect_killed_by(std::future<process_exited>& f, int sig) {
  auto e = wait_exit(f);
  BOOST_TEST(e.status_known);
  BOOST_TEST(e.signaled);
  BOOST_TEST(e.code == sig);
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

/// The state letter of /proc/PID/stat ("T": stopped), empty if unreadable.
std::string process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? ""
                                                                 : line.substr(close + 2, 1);
}

/// A child that ignores SIGTERM (an ignored signal stays ignored across
/// exec), returned once it runs `sleep`.
pid_t spawn_deaf_to_sigterm() {
  auto pid = spawn({"/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 1000"});
  BOOST_TEST_REQUIRE(wait_until([&] {
    std::error_code ec;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).filename() == "sleep";
  }));
  return pid;
}

} // namespace

// --- pid_watcher

BOOST_AUTO_TEST_CASE(a_child_exit_is_reported_with_its_status_and_the_child_is_reaped) {
  auto w = make_watcher();
  auto pid = spawn({"/bin/sh", "-c", "exit 7"});
  auto f = watch(*w, pid, true);
  auto e = wait_exit(f);
  BOOST_TEST(e.pid == pid);
  BOOST_TEST(e.status_known);
  BOOST_TEST(!e.signaled);
  BOOST_TEST(e.code == 7);
  int status;
  BOOST_TEST(::waitpid(pid, &status, WNOHANG) == -1); // already reaped: no zombie left
  BOOST_TEST(errno == ECHILD);
  BOOST_TEST(w->size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_killed_child_reports_the_signal) {
  auto w = make_watcher();
  auto pid = spawn({"/bin/sleep", "1000"});
  auto f = watch(*w, pid, true);
  BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
  expect_killed_by(f, SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_process_that_is_not_our_child_is_watched_through_its_pidfd) {
  auto w = make_watcher();
  auto pid = orphan({"/bin/sleep", "1000"});
  BOOST_TEST_REQUIRE(alive(pid));
  BOOST_TEST((process_parent(pid) != ::getpid()));
  auto f = watch(*w, pid, false);
  BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
  auto e = wait_exit(f);
  BOOST_TEST(e.pid == pid);
  BOOST_TEST(!e.status_known); // someone else reaps it
}

BOOST_AUTO_TEST_CASE(terminate_sends_sigterm_first) {
  auto w = make_watcher();
  auto pid = spawn({"/bin/sleep", "1000"});
  auto f = watch(*w, pid, true);
  BOOST_TEST(w->terminate(pid, std::chrono::milliseconds{20'000}).ok());
  expect_killed_by(f, SIGTERM);
}

BOOST_AUTO_TEST_CASE(terminate_escalates_to_sigkill_when_sigterm_is_ignored) {
  auto w = make_watcher();
  auto pid = spawn_deaf_to_sigterm();
  auto f = watch(*w, pid, true);
  BOOST_TEST(w->terminate(pid, std::chrono::milliseconds{200}).ok());
  expect_killed_by(f, SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_stopped_process_is_killed_at_once_without_waiting_the_grace) {
  auto w = make_watcher();
  // Like a frozen QEMU, which handles SIGTERM itself: a stopped process that
  // does not die of SIGTERM's default action (Linux kills a stopped process
  // at once for a fatal signal it neither handles nor ignores). The grace is
  // an hour: only an immediate SIGKILL ends it within the wait.
  auto pid = spawn_deaf_to_sigterm();
  auto f = watch(*w, pid, true);
  BOOST_REQUIRE(::kill(pid, SIGSTOP) == 0);
  BOOST_TEST_REQUIRE(wait_until([&] { return process_state(pid) == "T"; }));
  BOOST_TEST(w->terminate(pid, std::chrono::hours{1}).ok());
  expect_killed_by(f, SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_graceful_terminate_of_a_stopped_process_never_kills_it) {
  auto w = make_watcher();
  auto pid = spawn_deaf_to_sigterm();
  auto f = watch(*w, pid, true);
  BOOST_REQUIRE(::kill(pid, SIGSTOP) == 0);
  BOOST_TEST_REQUIRE(wait_until([&] { return process_state(pid) == "T"; }));
  BOOST_TEST(w->terminate(pid, std::nullopt).ok()); // SIGTERM only, as destroy --graceful
  BOOST_TEST((f.wait_for(300ms) == std::future_status::timeout));
  BOOST_TEST(alive(pid));
  BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
  expect_killed_by(f, SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_zero_grace_kills_at_once_and_unknown_pids_are_refused) {
  auto w = make_watcher();
  auto pid = spawn({"/bin/sleep", "1000"});
  auto f = watch(*w, pid, true);
  BOOST_TEST(w->terminate(pid, std::chrono::milliseconds{0}).ok());
  BOOST_TEST(wait_exit(f).code == SIGKILL);
  auto r = w->terminate(pid, std::chrono::milliseconds{0});
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("is not running") != std::string::npos);
  BOOST_TEST(!w->signal(pid, SIGKILL).ok());
}

BOOST_AUTO_TEST_CASE(one_thread_watches_many_processes_and_nothing_leaks) {
  auto w = make_watcher();
  auto fds = open_fds();
  auto thr = threads();
  constexpr int n = 150;
  std::vector<pid_t> pids;
  std::vector<std::future<process_exited>> exits;
  for (int i = 0; i < n; ++i) {
    pids.push_back(spawn({"/bin/sleep", "1000"}));
    exits.push_back(watch(*w, pids.back(), true));
  }
  BOOST_TEST(w->size() == size_t{n});
  BOOST_TEST(threads() == thr);          // no thread per process
  BOOST_TEST(open_fds() == fds + n);     // one pidfd each
  for (auto pid : pids)
    ::kill(pid, SIGKILL);
  for (auto& f : exits)
    BOOST_TEST(wait_exit(f).code == SIGKILL);
  BOOST_TEST(w->size() == 0u);
  BOOST_TEST(open_fds() == fds);
}

BOOST_AUTO_TEST_CASE(a_forgotten_process_is_left_alone_and_its_pidfd_closed) {
  auto w = make_watcher();
  auto fds = open_fds();
  auto pid = spawn({"/bin/sleep", "1000"});
  std::atomic<bool> called{false};
  auto fd = open_pidfd(pid);
  BOOST_REQUIRE(fd);
  BOOST_REQUIRE(w->watch(std::move(*fd), pid, true, [&](const process_exited&) { called = true; }).ok());
  w->forget(pid);
  BOOST_TEST(open_fds() == fds);
  BOOST_TEST(alive(pid));
  ::kill(pid, SIGKILL);
  int status;
  BOOST_TEST(::waitpid(pid, &status, 0) == pid); // still ours to reap: the watcher let go
  BOOST_TEST(!called);
}

BOOST_AUTO_TEST_CASE(start_time_names_one_process) {
  auto pid = spawn({"/bin/sleep", "1000"});
  auto t = process_start_time(pid);
  BOOST_TEST_REQUIRE(t.has_value());
  BOOST_TEST(*t > 0u);
  BOOST_TEST((process_start_time(pid) == t));
  BOOST_TEST((process_parent(pid) == ::getpid()));
  ::kill(pid, SIGKILL);
  int status;
  ::waitpid(pid, &status, 0);
  BOOST_TEST(!process_start_time(pid).has_value());
  BOOST_TEST(!open_pidfd(pid).ok());
}

// --- process_launcher, with a shell standing in for QEMU

namespace {

std::shared_ptr<process_launcher> make_launcher() {
  auto l = make_process_launcher();
  BOOST_REQUIRE_MESSAGE(l, (l ? "" : l.error().message));
  return *l;
}

launch_spec fake_spec(const fs::path& root, const std::string& script) {
  launch_spec s;
  s.name = "vm1";
  s.argv = {"/bin/sh", "-c", script, "-name", "guest=vm1,debug-threads=on", "-S"};
  s.domain_dir = (root / "lib" / "domain-1-vm1").string();
  s.log_path = (root / "log" / "vm1.log").string();
  s.pid_path = (root / "run" / "vm1.pid").string();
  s.qemu_version = "7.2.22";
  fs::create_directories(root / "run");
  return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_started_process_gets_a_clean_start) {
  interop::temp_dir d;
  recording rec;
  auto launcher = make_launcher();
  ::setenv("VA_SHOULD_NOT_LEAK", "1", 1);
  const std::string script =
    "test -S /proc/$$/fd/3 && echo fd3-listening-socket; "
    "for n in 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 30 40 50; do "
    "  test -e /proc/$$/fd/$n && echo leaked-fd-$n; done; "
    "echo cwd=$(pwd); env | sort; echo ready; exec /bin/sleep 1000";
  auto spec = fake_spec(fs::path{d.path()}, script);
  auto started = launcher->start(spec, rec.actor);
  BOOST_TEST_REQUIRE(started.ok(), (started.ok() ? "" : started.error().message));
  auto pid = started->id.pid;
  BOOST_TEST(pid > 0);
  BOOST_TEST(started->id.start_time == process_start_time(pid).value_or(0));
  BOOST_TEST(started->id.monitor_path == spec.domain_dir + "/monitor.sock");
  BOOST_TEST(started->monitor.get() >= 0);
  BOOST_TEST(interop::read_file(spec.pid_path) == std::to_string(pid) + "\n");
  struct stat st{};
  BOOST_TEST_REQUIRE(::stat(spec.domain_dir.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0700u);
  BOOST_TEST_REQUIRE(::stat(started->id.monitor_path.c_str(), &st) == 0);
  BOOST_TEST(S_ISSOCK(st.st_mode));
  BOOST_TEST_REQUIRE(::stat(spec.log_path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0600u);
  // Its own session: it outlives us and our terminal.
  BOOST_TEST(::getsid(pid) == pid);
  BOOST_TEST_REQUIRE(wait_until([&] { return interop::read_file(spec.log_path).find("ready\n") != std::string::npos; }));
  auto log = interop::read_file(spec.log_path);
  BOOST_TEST_MESSAGE(log);
  BOOST_TEST(log.find("+0000: starting up virtactor version: ") != std::string::npos);
  BOOST_TEST(log.find("qemu version: 7.2.22, kernel: ") != std::string::npos);
  BOOST_TEST(log.find("LC_ALL=C \\\n") != std::string::npos);
  BOOST_TEST(log.find("-name guest=vm1,debug-threads=on \\\n-S\n") != std::string::npos);
  // (The script itself is in the header: look for its output lines.)
  BOOST_TEST(log.find("\nfd3-listening-socket\n") != std::string::npos);
  BOOST_TEST(log.find("\nleaked-fd") == std::string::npos);
  BOOST_TEST(log.find("cwd=/\n") != std::string::npos);
  BOOST_TEST(log.find("\nHOME=" + spec.domain_dir + "\n") != std::string::npos);
  BOOST_TEST(log.find("\nXDG_CONFIG_HOME=" + spec.domain_dir + "/.config\n") != std::string::npos);
  BOOST_TEST(log.find("\nXDG_CACHE_HOME=" + spec.domain_dir + "/.cache\n") != std::string::npos);
  BOOST_TEST(log.find("\nXDG_DATA_HOME=" + spec.domain_dir + "/.local/share\n") != std::string::npos);
  BOOST_TEST(log.find("VA_SHOULD_NOT_LEAK") == std::string::npos);
  BOOST_TEST(log.find("VA_SOURCE_DIR") == std::string::npos);
  // A second start appends after a new header.
  BOOST_TEST(launcher->terminate(pid, std::chrono::milliseconds{10'000}).ok());
  BOOST_TEST(rec.log().wait_for("exited") == "exited " + std::to_string(pid) + " signal 15");
  auto again = launcher->start(fake_spec(fs::path{d.path()}, "echo second; exec /bin/sleep 1000"), rec.actor);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST_REQUIRE(wait_until([&] { return interop::read_file(spec.log_path).find("second\n") != std::string::npos; }));
  log = interop::read_file(spec.log_path);
  BOOST_TEST(log.find("\nfd3-listening-socket\n") < log.rfind("starting up virtactor"));
  BOOST_TEST(launcher->terminate(again->id.pid, std::chrono::milliseconds{0}).ok());
  BOOST_TEST(rec.log().wait_for("exited " + std::to_string(again->id.pid) + " ")
             == "exited " + std::to_string(again->id.pid) + " signal 9");
}

BOOST_AUTO_TEST_CASE(a_missing_emulator_is_a_clear_error) {
  interop::temp_dir d;
  recording rec;
  auto launcher = make_launcher();
  auto fds = open_fds();
  auto spec = fake_spec(fs::path{d.path()}, "");
  spec.argv = {"/nonexistent/qemu-system-x86_64", "-S"};
  auto r = launcher->start(spec, rec.actor);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message
             == "cannot execute binary /nonexistent/qemu-system-x86_64: No such file or directory");
  BOOST_TEST(open_fds() == fds);
  spec.argv = {"qemu-system-x86_64"};
  BOOST_TEST(!launcher->start(spec, rec.actor).ok());
}

BOOST_AUTO_TEST_CASE(a_process_left_by_an_earlier_daemon_is_adopted_only_if_it_is_the_same) {
  recording rec;
  auto launcher = make_launcher();
  auto pid = orphan({"/bin/sleep", "1000"});
  auto started = process_start_time(pid);
  BOOST_TEST_REQUIRE(started.has_value());
  // A recycled pid: the start time differs.
  auto wrong = launcher->adopt({pid, *started + 1, ""}, "", rec.actor);
  BOOST_TEST_REQUIRE(!wrong.ok());
  BOOST_TEST((wrong.error().code == error_code::operation_failed));
  BOOST_TEST(wrong.error().message.find("is not the domain's QEMU") != std::string::npos);
  // Another program.
  auto other = launcher->adopt({pid, *started, ""}, "/usr/bin/qemu-system-x86_64", rec.actor);
  BOOST_TEST_REQUIRE(!other.ok());
  BOOST_TEST(other.error().message.find("expected '/usr/bin/qemu-system-x86_64'") != std::string::npos);
  // The real thing.
  auto sleep_exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe").string();
  BOOST_TEST_REQUIRE(launcher->adopt({pid, *started, ""}, sleep_exe, rec.actor).ok());
  BOOST_TEST(launcher->terminate(pid, std::chrono::milliseconds{10'000}).ok());
  BOOST_TEST(rec.log().wait_for("exited") == "exited " + std::to_string(pid) + " unknown 0");
  // Gone.
  auto gone = launcher->adopt({pid, *started, ""}, "", rec.actor);
  BOOST_TEST_REQUIRE(!gone.ok());
  BOOST_TEST(gone.error().message == "operation failed: QEMU process " + std::to_string(pid) + " is gone");
}

BOOST_AUTO_TEST_CASE(starting_and_stopping_leaks_no_descriptors_or_threads) {
  interop::temp_dir d;
  recording rec;
  auto launcher = make_launcher();
  auto cycle = [&](int i) {
    auto r = launcher->start(fake_spec(fs::path{d.path()}, "exec /bin/sleep 1000"), rec.actor);
    BOOST_REQUIRE(r.ok());
    BOOST_REQUIRE(launcher->terminate(r->id.pid, std::chrono::milliseconds{0}).ok());
    rec.log().wait_for("exited " + std::to_string(r->id.pid) + " ");
    (void) i;
  };
  cycle(0);
  auto fds = open_fds();
  auto thr = threads();
  for (int i = 1; i <= 100; ++i)
    cycle(i);
  BOOST_TEST(open_fds() == fds);
  BOOST_TEST(threads() == thr);
  BOOST_TEST(rec.log().count("exited") == 101u);
}
