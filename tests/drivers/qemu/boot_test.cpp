// The process owner and the monitor against a real QEMU (TCG, 64 MiB,
// -S -no-shutdown) booting the ACPI test guest: capabilities negotiation,
// prelaunch, cont -> RESUME, system_powerdown -> POWERDOWN, SHUTDOWN
// guest=true; a frozen QEMU (SIGSTOP) that times out while the monitor still
// answers and that can still be killed; kill -9 seen at once; a QEMU that is
// not our child. Exits with 77 (CTest: skipped) without QEMU or the guest.
#define BOOST_TEST_MODULE qemu_boot
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/qemu/capabilities.hpp"
#include "drivers/qemu/monitor.hpp"
#include "drivers/qemu/process.hpp"
#include "tests/drivers/qemu/test_support.hpp"

using namespace virtactor;
using namespace virtactor::qemu;
using namespace virtactor::qemu::testing;
namespace fs = std::filesystem;

namespace {

const fs::path guest_dir = VA_QEMU_GUEST_DIR;

/// A minimal hand-built command line (the real one is the command-line
/// builder's job): the test guest on IDE, its serial port in a file.
std::vector<std::string> qemu_argv(const fs::path& dir, const std::string& monitor) {
  return {default_emulator,
          "-name", "guest=boot-test,debug-threads=on",
          "-S", "-no-shutdown",
          "-machine", "pc,accel=tcg",
          "-m", "64",
          "-nodefaults", "-no-user-config",
          "-display", "none",
          "-chardev", monitor,
          "-mon", "chardev=charmonitor,id=monitor,mode=control",
          "-drive", "file=" + (guest_dir / "disk.qcow2").string()
                      + ",format=qcow2,if=ide,snapshot=on",
          "-serial", "file:" + (dir / "serial.txt").string()};
}

const std::string inherited_monitor = "socket,id=charmonitor,fd=3,server=on,wait=off";

/// A running QEMU with its monitor, owned by a recorder; killed at the end.
struct booted {
  interop::temp_dir dir;
  recording rec;
  std::shared_ptr<process_launcher> launcher;
  started_qemu qemu;
  monitor_actor mon;

  booted() {
    auto l = make_process_launcher();
    BOOST_REQUIRE(l);
    launcher = *l;
    launch_spec spec;
    spec.name = "boot-test";
    spec.argv = qemu_argv(fs::path{dir.path()}, inherited_monitor);
    spec.domain_dir = dir.file("domain-1-boot-test");
    spec.log_path = dir.file("boot-test.log");
    spec.pid_path = dir.file("boot-test.pid");
    auto s = launcher->start(spec, rec.actor);
    BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
    qemu = std::move(*s);
    mon = spawn_monitor(test_system(), std::move(qemu.monitor), rec.owner(),
                        monitor_options{"boot-test"});
    rec.st->monitor = mon;
  }

  ~booted() {
    if (::kill(qemu.id.pid, 0) == 0) {
      (void) launcher->terminate(qemu.id.pid, std::chrono::milliseconds{0});
      rec.log().wait_for("exited " + std::to_string(qemu.id.pid) + " ");
    }
    caf::anon_send(mon, close_atom::value);
  }

  journal& log() { return rec.log(); }
  std::string exited() { return "exited " + std::to_string(qemu.id.pid) + " "; }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(the_guest_boots_resumes_and_powers_off_through_acpi, booted) {
  rec.run("query-status");
  BOOST_TEST(log().wait_for("reply query-status")
             == R"(reply query-status {"running":false,"singlestep":false,"status":"prelaunch"})");
  BOOST_TEST(status_of(mon).greeting.find("\"qemu\":{\"major\":") != std::string::npos);
  rec.run("cont");
  log().wait_for("reply cont");
  BOOST_TEST(log().index_of("event RESUME") >= 0);
  BOOST_TEST(log().index_of("event RESUME") < log().index_of("reply cont"));
  // The guest writes 'R' once it runs; then it waits for the power button.
  BOOST_TEST_REQUIRE(wait_until([&] { return interop::read_file(dir.file("serial.txt")).find('R') != std::string::npos; }));
  rec.run("system_powerdown");
  BOOST_TEST(log().wait_for("event POWERDOWN") == "event POWERDOWN ");
  BOOST_TEST(log().wait_for("event SHUTDOWN")
             == R"(event SHUTDOWN {"guest":true,"reason":"guest-shutdown"})");
  BOOST_TEST(log().index_of("event POWERDOWN") < log().index_of("event SHUTDOWN"));
  BOOST_TEST(interop::read_file(dir.file("serial.txt")) == "RP");
  // -no-shutdown keeps QEMU alive in state "shutdown".
  rec.run("query-status", "", std::chrono::seconds{20});
  BOOST_TEST(log().wait_for("reply query-status {\"running\":false,\"singlestep\":false,\"status\":\"shutdown\"}")
               .size() > 0);
  rec.run("quit");
  log().wait_for("closed");
  BOOST_TEST(log().wait_for(exited()) == exited() + "code 0");
  BOOST_TEST(log().count("closed") == 1u);
  auto closed = log().wait_for("closed");
  BOOST_TEST((closed.starts_with("closed eof") || closed.starts_with("closed reset")), closed);
  BOOST_TEST(interop::read_file(dir.file("boot-test.log")).find("starting up virtactor version") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_frozen_qemu_times_out_yet_the_monitor_answers_and_the_kill_is_seen, booted) {
  rec.run("query-status");
  log().wait_for("reply query-status");
  BOOST_REQUIRE(::kill(qemu.id.pid, SIGSTOP) == 0);
  rec.run("query-status", "", std::chrono::milliseconds{500});
  BOOST_TEST(log().wait_for("error query-status")
             == "error query-status Timed out during operation: the QEMU monitor of domain "
                "'boot-test' did not answer 'query-status' within 500 ms");
  auto st = status_of(mon); // answered although QEMU is frozen
  BOOST_TEST(st.ready);
  BOOST_TEST(!st.ended);
  // destroy works through signals, not the monitor: SIGKILL reaches a stopped process.
  BOOST_TEST(launcher->terminate(qemu.id.pid, std::chrono::milliseconds{0}).ok());
  BOOST_TEST(log().wait_for(exited()) == exited() + "signal 9");
  auto closed = log().wait_for("closed");
  BOOST_TEST((closed.starts_with("closed reset") || closed.starts_with("closed eof")), closed);
}

BOOST_FIXTURE_TEST_CASE(kill_nine_from_outside_is_seen_by_watcher_and_monitor, booted) {
  rec.run("cont");
  log().wait_for("reply cont");
  BOOST_REQUIRE(::kill(qemu.id.pid, SIGKILL) == 0);
  BOOST_TEST(log().wait_for(exited()) == exited() + "signal 9");
  log().wait_for("closed");
  BOOST_TEST(log().count("event SHUTDOWN") == 0u); // SIGKILL gives no event
  rec.run("query-status");
  BOOST_TEST(log().wait_for("error query-status").size() > 0);
}

BOOST_AUTO_TEST_CASE(a_qemu_that_is_not_our_child_is_adopted_and_its_exit_seen) {
  interop::temp_dir dir;
  recording rec;
  auto monitor_path = dir.file("monitor.sock");
  // A shell starts QEMU in the background and exits: QEMU is orphaned, as
  // after a daemon restart.
  auto argv = qemu_argv(fs::path{dir.path()}, "socket,id=charmonitor,path=" + monitor_path + ",server=on,wait=off");
  pid_t pid = orphan(argv, dir.file("qemu.log"));
  BOOST_TEST_MESSAGE("orphaned QEMU " << pid);
  BOOST_TEST((process_parent(pid) != ::getpid()));

  auto l = make_process_launcher();
  BOOST_REQUIRE(l);
  auto launcher = *l;
  auto start = process_start_time(pid);
  BOOST_REQUIRE(start.has_value());
  auto adopted = launcher->adopt({pid, *start, monitor_path}, default_emulator, rec.actor);
  if (!adopted.ok())
    ::kill(pid, SIGKILL);
  BOOST_TEST_REQUIRE(adopted.ok(), (adopted.ok() ? "" : adopted.error().message));
  // The socket exists once QEMU has set it up.
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(monitor_path); }),
                     "no monitor socket; QEMU said: " << interop::read_file(dir.file("qemu.log")));
  auto fd = connect_monitor(monitor_path);
  BOOST_TEST_REQUIRE(fd.ok());
  auto mon = spawn_monitor(test_system(), std::move(*fd), rec.owner(), monitor_options{"orphan"});
  rec.st->monitor = mon;
  rec.run("query-status");
  BOOST_TEST(rec.log().wait_for("reply query-status").find("prelaunch") != std::string::npos);
  // SIGTERM: QEMU shuts down (SHUTDOWN host-signal) and exits; PID 1 reaps it.
  BOOST_TEST(launcher->terminate(pid, std::chrono::milliseconds{10'000}).ok());
  BOOST_TEST(rec.log().wait_for("event SHUTDOWN")
             == R"(event SHUTDOWN {"guest":false,"reason":"host-signal"})");
  BOOST_TEST(rec.log().wait_for("exited " + std::to_string(pid) + " ")
             == "exited " + std::to_string(pid) + " unknown 0");
  rec.log().wait_for("closed");
  caf::anon_send(mon, close_atom::value);
}

int main(int argc, char* argv[]) {
  if (!VA_QEMU_GUEST_BUILT || !fs::exists(guest_dir / "disk.qcow2")) {
    std::cout << "skipped: the test guest was not built (as, ld or qemu-img missing)\n";
    return 77;
  }
  if (!fs::exists(default_emulator)) {
    std::cout << "skipped: " << default_emulator << " is not installed\n";
    return 77;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
