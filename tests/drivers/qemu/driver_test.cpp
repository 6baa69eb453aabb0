// The qemu driver in-process, against real QEMU (TCG) booting the ACPI test
// guest: libvirt's states, reasons and events through a whole lifecycle,
// a crash, a frozen QEMU, a transient domain, a reboot, and reattaching to a
// running QEMU after the driver is gone. Exits with 77 (CTest: skipped)
// without QEMU or the test guest.
#define BOOST_TEST_MODULE qemu_driver
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <sstream>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include "drivers/qemu/capabilities.hpp"
#include "drivers/qemu/dac.hpp"
#include "tests/drivers/qemu/driver_fixture.hpp"

using namespace virtactor::testing::qemu_driver;

namespace {

/// A line of /proc/PID/status ("Uid:", "Gid:", "Groups:"), its numbers.
std::vector<uint32_t> proc_status_ids(pid_t pid, const std::string& key) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  std::vector<uint32_t> out;
  while (std::getline(in, line))
    if (line.starts_with(key)) {
      std::istringstream words{line.substr(key.size())};
      uint32_t n;
      while (words >> n)
        out.push_back(n);
    }
  return out;
}

std::pair<uint32_t, uint32_t> owner_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return {st.st_uid, st.st_gid};
}

/// Processes whose command line holds `guest=NAME,` (QEMU's -name).
int qemus_named(const std::string& name) {
  int n = 0;
  for (auto& e : fs::directory_iterator{"/proc"}) {
    auto cmd = interop::read_file(e.path().string() + "/cmdline");
    if (cmd.find("guest=" + name + ",") != std::string::npos)
      ++n;
  }
  return n;
}

/// An owner no file here has: what relabelling must give back.
constexpr std::pair<uint32_t, uint32_t> odd_owner{4321, 4322};

constexpr uint32_t g_state = 1, g_block = 32;

/// The stats records of `doms` (all domains when empty), by domain name.
std::map<std::string, std::map<std::string, std::string>>
stats_of(driver_fixture& f, std::vector<protocol::nonnull_domain> doms, uint32_t groups,
         uint32_t flags = 0) {
  protocol::connect_get_all_domain_stats_args a;
  a.doms.assign(doms.begin(), doms.end());
  a.stats = groups;
  a.flags = flags;
  auto r = f.call<P::connect_get_all_domain_stats>(a, 20s);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  std::map<std::string, std::map<std::string, std::string>> out;
  for (auto& rec : r->ret_stats)
    out[rec.dom.name] = testing::stats_fields(rec.params);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_domain_lives_through_libvirts_lifecycle, driver_fixture) {
  auto d = define("life");
  BOOST_TEST(fs::exists(cfg.config_dir + "/life.xml"));
  auto st = state_of(d);
  BOOST_TEST(st.state == shutoff);
  BOOST_REQUIRE(call<P::domain_create>({d}));
  st = state_of(d);
  BOOST_TEST(st.state == running);
  BOOST_TEST(st.reason == 1); // booted
  BOOST_TEST((lifecycle(ev_started, 0) == events{{ev_defined, 0}, {ev_resumed, 0}, {ev_started, 0}}));
  BOOST_TEST(fs::exists(cfg.run_dir + "/life.xml")); // the status file
  auto info = call<P::domain_get_info>({call<P::domain_lookup_by_name>({"life"})->dom});
  BOOST_REQUIRE(info);
  BOOST_TEST(info->state == running);
  BOOST_TEST(info->max_mem == 65536u);
  auto live = call<P::domain_get_xml_desc>({d, 0});
  BOOST_REQUIRE(live);
  BOOST_TEST(live->xml.find("<domain type='qemu' id='") != std::string::npos);
  BOOST_TEST(live->xml.find("/dev/pts/") != std::string::npos);

  BOOST_REQUIRE(call<P::domain_suspend>({d}));
  BOOST_TEST(state_of(d).state == paused);
  BOOST_TEST(state_of(d).reason == 1); // user
  BOOST_REQUIRE(call<P::domain_resume>({d}));
  BOOST_TEST(state_of(d).state == running);
  BOOST_TEST(state_of(d).reason == 5); // unpaused
  BOOST_TEST((lifecycle(ev_resumed, 0) == events{{ev_suspended, 0}, {ev_resumed, 0}}));

  // The guest honours the ACPI power button: a real shutdown.
  BOOST_REQUIRE(call<P::domain_shutdown>({d}));
  BOOST_TEST(press_until(d, P::domain_shutdown, [&] {
    auto s = call<P::domain_get_state>({d, 0});
    return s && s->state == shutoff;
  }));
  BOOST_TEST(state_of(d).reason == 1); // shut off (shutdown)
  BOOST_TEST((lifecycle(ev_stopped, 0) == events{{ev_shutdown, 1}, {ev_stopped, 0}}));
  BOOST_TEST(!fs::exists(cfg.run_dir + "/life.xml"));

  BOOST_REQUIRE(call<P::domain_create>({d}));
  (void) lifecycle(ev_started, 0);
  BOOST_REQUIRE(call<P::domain_destroy>({d}));
  BOOST_TEST(state_of(d).state == shutoff);
  BOOST_TEST(state_of(d).reason == 2); // destroyed
  auto after = lifecycle(ev_stopped, 1);
  BOOST_REQUIRE(!after.empty());
  BOOST_TEST((after.back() == std::pair<int32_t, int32_t>{ev_stopped, 1}));

  BOOST_REQUIRE(call<P::domain_undefine>({d}));
  BOOST_TEST(!fs::exists(cfg.config_dir + "/life.xml"));
  BOOST_TEST(!call<P::domain_lookup_by_name>({"life"}));
  BOOST_TEST((lifecycle(ev_undefined, 0) == events{{ev_undefined, 0}}));
}

BOOST_FIXTURE_TEST_CASE(a_qemu_killed_behind_the_daemons_back_is_shut_off_crashed,
                        driver_fixture) {
  auto d = define("victim");
  BOOST_REQUIRE(call<P::domain_create>({d}));
  (void) lifecycle(ev_started, 0);
  auto pid = qemu_pid("victim");
  BOOST_REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  BOOST_TEST(wait_state(d, shutoff, 3)); // crashed
  BOOST_TEST((lifecycle(ev_stopped, 5) == events{{ev_stopped, 5}})); // failed
}

BOOST_FIXTURE_TEST_CASE(a_frozen_qemu_blocks_nothing_and_is_destroyed, driver_fixture) {
  auto frozen = define("frozen");
  auto other = define("other");
  BOOST_REQUIRE(call<P::domain_create>({frozen}));
  BOOST_REQUIRE(call<P::domain_create>({other}));
  auto pid = qemu_pid("frozen");
  ::kill(pid, SIGSTOP);
  // A job on the frozen domain waits on its monitor until the deadline...
  auto suspending = std::async(std::launch::async, [&] { return call<P::domain_suspend>({frozen}); });
  // ...while reads on it and calls on the other domain answer.
  auto info = call<P::domain_get_info>({frozen}, 1s);
  BOOST_REQUIRE_MESSAGE(info, (info ? "" : info.error().message));
  BOOST_TEST(info->state == running);
  BOOST_REQUIRE(call<P::domain_suspend>({other}, 5s));
  BOOST_REQUIRE(call<P::domain_resume>({other}, 5s));
  auto suspended = suspending.get();
  BOOST_REQUIRE(!suspended);
  BOOST_TEST(static_cast<int>(suspended.error().code) ==
             static_cast<int>(error_code::operation_timeout));
  // Destroy works by signals: SIGKILL after the grace period.
  BOOST_REQUIRE(call<P::domain_destroy>({frozen}, 30s));
  BOOST_TEST(state_of(frozen).state == shutoff);
  BOOST_TEST(state_of(frozen).reason == 2);
}

BOOST_FIXTURE_TEST_CASE(a_transient_domain_is_gone_when_it_stops, driver_fixture) {
  auto created = call<P::domain_create_xml>({xml("passing"), 0});
  BOOST_REQUIRE_MESSAGE(created, (created ? "" : created.error().message));
  BOOST_TEST(state_of(created->dom).state == running);
  BOOST_TEST(!fs::exists(cfg.config_dir + "/passing.xml"));
  BOOST_TEST((lifecycle(ev_started, 0) == events{{ev_resumed, 0}, {ev_started, 0}}));
  BOOST_REQUIRE(call<P::domain_destroy>({created->dom}));
  BOOST_TEST(interop::wait_until([&] { return !call<P::domain_lookup_by_name>({"passing"}); },
                                 10s, 10ms));
}

BOOST_FIXTURE_TEST_CASE(a_reboot_resets_the_guest_and_keeps_it_running, driver_fixture) {
  auto d = define("phoenix");
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto pid = qemu_pid("phoenix");
  (void) lifecycle(ev_started, 0);
  BOOST_REQUIRE(call<P::domain_reboot>({d, 0}));
  BOOST_TEST(press_until(d, P::domain_reboot, [&] { return log->has(1, 0, 0); }));
  BOOST_TEST(state_of(d).state == running);
  BOOST_TEST(qemu_pid("phoenix") == pid); // the same QEMU: a fake reboot
}

BOOST_FIXTURE_TEST_CASE(a_reset_restarts_the_machine_without_stopping_it, driver_fixture) {
  auto d = define("reset");
  auto refused = call<P::domain_reset>({d, 0});
  BOOST_REQUIRE(!refused);
  BOOST_TEST(refused.error().message == "Requested operation is not valid: domain is not running");
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto pid = qemu_pid("reset");
  (void) lifecycle(ev_started, 0);
  BOOST_REQUIRE(call<P::domain_reset>({d, 0}));
  // QEMU reports the reset: a REBOOT event, and no lifecycle event.
  BOOST_TEST(interop::wait_until([&] { return log->has(1, 0, 0); }, 10s, 10ms));
  BOOST_TEST(lifecycle().empty());
  BOOST_TEST(state_of(d).state == running);
  BOOST_TEST(qemu_pid("reset") == pid);
  auto flags = call<P::domain_reset>({d, 1});
  BOOST_REQUIRE(!flags);
  BOOST_TEST(flags.error().message.find("unsupported flags (0x1)") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(serial_ports_of_type_file_and_unix_reach_the_guest, driver_fixture) {
  auto log_path = dir.file("serial.log");
  auto sock_path = dir.file("serial.sock");
  auto d = define("serials", "<serial type='file'><source path='" + log_path +
                               "'/><target port='0'/></serial>"
                               "<serial type='unix'><source mode='bind' path='" + sock_path +
                               "'/><target port='1'/></serial>");
  auto started = call<P::domain_create>({d});
  BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
  // The guest writes 'R' to COM1 as it boots: QEMU appends it to the file
  // the daemon opened for it.
  BOOST_TEST(interop::wait_until(
    [&] { return interop::read_file(log_path).find('R') != std::string::npos; }, 20s, 20ms));
  BOOST_TEST(fs::is_socket(sock_path));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, sock_path.c_str(), sizeof sa.sun_path - 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_TEST(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0); // QEMU listens
  ::close(fd);
  auto live = call<P::domain_get_xml_desc>({d, 0});
  BOOST_REQUIRE(live);
  BOOST_TEST(live->xml.find("<source path='" + log_path + "'/>") != std::string::npos);
  BOOST_REQUIRE(call<P::domain_destroy>({d}));
  // A second start appends to the same file.
  auto before = interop::read_file(log_path).size();
  BOOST_REQUIRE(call<P::domain_create>({d}));
  BOOST_TEST(interop::wait_until([&] { return interop::read_file(log_path).size() > before; },
                                 20s, 20ms));
  BOOST_REQUIRE(call<P::domain_destroy>({d}));
}

BOOST_FIXTURE_TEST_CASE(a_new_driver_reattaches_to_a_running_domain, driver_fixture) {
  auto d = define("survivor");
  BOOST_REQUIRE(call<P::domain_create>({d}));
  BOOST_REQUIRE(call<P::domain_suspend>({d}));
  auto pid = qemu_pid("survivor");
  close_driver();
  BOOST_TEST(::kill(pid, 0) == 0); // QEMU outlives its driver
  open_driver();
  auto again = call<P::domain_lookup_by_name>({"survivor"});
  BOOST_REQUIRE(again);
  auto st = state_of(again->dom);
  BOOST_TEST(st.state == paused);
  BOOST_TEST(st.reason == 1); // user: reconciled with query-status
  BOOST_REQUIRE(call<P::domain_resume>({again->dom}));
  BOOST_TEST(state_of(again->dom).state == running);
  BOOST_REQUIRE(call<P::domain_destroy>({again->dom}));
  BOOST_TEST(state_of(again->dom).state == shutoff);
  BOOST_TEST(interop::wait_until([&] { return ::kill(pid, 0) != 0; }, 10s, 10ms));
}

BOOST_FIXTURE_TEST_CASE(stats_show_the_guest_reading_its_disk_and_follow_its_state,
                        driver_fixture) {
  auto d = define("counted");
  // Inactive: the sizes come from the image (1 MiB qcow2), no counters.
  auto off = stats_of(*this, {d}, 0)["counted"];
  BOOST_TEST(off["state.state"] == "5");
  BOOST_TEST(off["block.count"] == "1");
  BOOST_TEST(off["block.0.name"] == "vda");
  BOOST_TEST(off["block.0.capacity"] == "1048576");
  BOOST_TEST(off.count("block.0.rd.reqs") == 0u);
  BOOST_TEST(off.count("net.count") == 0u);
  BOOST_REQUIRE(call<P::domain_create>({d}));
  // The guest reads its boot sector: the read counters grow from zero.
  std::map<std::string, std::string> on;
  BOOST_TEST(interop::wait_until(
    [&] {
      on = stats_of(*this, {d}, g_block)["counted"];
      return on.count("block.0.rd.reqs") && on["block.0.rd.reqs"] != "0";
    },
    30s, 50ms));
  BOOST_TEST(std::stoull(on["block.0.rd.bytes"]) >= 512u);
  BOOST_TEST(on["block.0.backingIndex"] == "1");
  BOOST_TEST(on["block.0.capacity"] == "1048576");
  BOOST_TEST(on.count("state.state") == 0u); // not asked for
  auto all = stats_of(*this, {d}, 0)["counted"];
  BOOST_TEST(all["state.state"] == "1");
  BOOST_TEST(all["vcpu.current"] == "1");
  BOOST_TEST(all["vcpu.0.state"] == "1"); // the vCPU thread was found
  BOOST_TEST(all["balloon.current"] == "65536");
  BOOST_TEST(all.count("balloon.rss") == 1u);
  BOOST_TEST(all["dirtyrate.calc_mode"] == "page-sampling");
  BOOST_TEST(std::stoull(all["cpu.time"]) > 0u);
  BOOST_REQUIRE(call<P::domain_suspend>({d}));
  auto paused = stats_of(*this, {d}, g_state)["counted"];
  BOOST_TEST(paused["state.state"] == "3");
  BOOST_TEST(paused["state.reason"] == "1"); // by the user
}

BOOST_FIXTURE_TEST_CASE(a_frozen_qemu_does_not_hold_up_the_stats_of_the_others,
                        driver_fixture) {
  auto frozen = define("stuck");
  auto other = define("lively");
  BOOST_REQUIRE(call<P::domain_create>({frozen}));
  BOOST_REQUIRE(call<P::domain_create>({other}));
  ::kill(qemu_pid("stuck"), SIGSTOP);
  // Every record comes back (the driver's bound is 1 s, this call's 20 s):
  // the other domain's with its counters, the frozen one's with what the
  // daemon knows without the monitor.
  auto r = stats_of(*this, {}, g_state | g_block);
  BOOST_REQUIRE(r.count("stuck") == 1u);
  BOOST_REQUIRE(r.count("lively") == 1u);
  BOOST_TEST(r["lively"].count("block.0.rd.reqs") == 1u);
  BOOST_TEST(r["stuck"]["state.state"] == "1");
  BOOST_TEST(r["stuck"]["block.0.name"] == "vda");
  BOOST_TEST(r["stuck"].count("block.0.rd.reqs") == 0u);
  // All groups (NOWAIT too): the fields libvirt gives without the domain's
  // job, those read from /proc included.
  auto partial = stats_of(*this, {frozen}, 0, 1u << 29)["stuck"];
  BOOST_TEST(partial.count("vcpu.0.state") == 1u);
  BOOST_TEST(partial.count("cpu.time") == 1u);
  BOOST_TEST(partial.count("balloon.rss") == 0u);
  BOOST_TEST(partial.count("dirtyrate.calc_status") == 0u);
  BOOST_REQUIRE(call<P::domain_destroy>({frozen}, 30s));
}

// -- DAC: who QEMU runs as, and the owners of its images ---------------------

BOOST_AUTO_TEST_CASE(the_default_account_is_libvirt_qemu_when_it_exists) {
  std::vector<std::string> warnings;
  auto a = drivers::qemu::resolve_qemu_account(true, std::nullopt, std::nullopt, warnings);
  BOOST_REQUIRE(a);
  if (auto* pw = ::getpwnam("libvirt-qemu")) {
    BOOST_TEST(a->uid == pw->pw_uid);
    BOOST_TEST(a->user == "libvirt-qemu");
    BOOST_TEST(warnings.empty());
  } else {
    BOOST_TEST(a->uid == 0u);
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("QEMU runs as root") != std::string::npos);
  }
  auto root = drivers::qemu::resolve_qemu_account(true, std::string{"+0"}, std::string{"root"},
                                                   warnings);
  BOOST_REQUIRE(root);
  BOOST_TEST(root->label() == "+0:+0");
  auto none = drivers::qemu::resolve_qemu_account(true, std::string{"va-no-such-user"},
                                                   std::nullopt, warnings);
  BOOST_REQUIRE(!none);
  BOOST_TEST(none.error().message.find("the user 'va-no-such-user' does not exist") !=
             std::string::npos);
  auto no_group = drivers::qemu::resolve_qemu_account(true, std::nullopt,
                                                       std::string{"va-no-such-group"}, warnings);
  BOOST_REQUIRE(!no_group);
  BOOST_TEST(no_group.error().message.find("the group 'va-no-such-group' does not exist") !=
             std::string::npos);
  // A user's daemon runs QEMU as itself: another account is refused.
  auto own = drivers::qemu::resolve_qemu_account(false, std::nullopt, std::nullopt, warnings);
  BOOST_REQUIRE(own);
  BOOST_TEST(own->uid == ::geteuid());
  auto other = drivers::qemu::resolve_qemu_account(false, std::string{"+4321"}, std::nullopt,
                                                    warnings);
  BOOST_REQUIRE(!other);
  BOOST_TEST(other.error().message.find("runs QEMU as its own user") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(qemu_runs_as_its_account_which_owns_the_image_while_it_runs,
                        driver_fixture) {
  BOOST_REQUIRE(cfg.privileged);
  auto& acct = cfg.account;
  auto d = define("owned");
  auto image = dir.file("owned.qcow2");
  BOOST_REQUIRE(::chown(image.c_str(), odd_owner.first, odd_owner.second) == 0);
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto pid = qemu_pid("owned");
  BOOST_REQUIRE(pid > 0);
  // Real, effective, saved and file-system ids, and initgroups' groups.
  BOOST_TEST((proc_status_ids(pid, "Uid:") == std::vector<uint32_t>(4, acct.uid)));
  BOOST_TEST((proc_status_ids(pid, "Gid:") == std::vector<uint32_t>(4, acct.gid)));
  auto groups = proc_status_ids(pid, "Groups:");
  auto want = acct.groups;
  std::sort(groups.begin(), groups.end());
  std::sort(want.begin(), want.end());
  BOOST_TEST(groups == want);
  BOOST_TEST((owner_of(image) == std::pair<uint32_t, uint32_t>{acct.uid, acct.gid}));
  auto label = "<label>" + acct.label() + "</label><imagelabel>" + acct.label() + "</imagelabel>";
  auto live = call<P::domain_get_xml_desc>({d, 0});
  BOOST_REQUIRE(live);
  std::string compact;
  for (char c : live->xml)
    if (c != '\n' && c != ' ')
      compact += c;
  BOOST_TEST(compact.find("model='dac'relabel='yes'>" + label) != std::string::npos,
             live->xml);
  auto caps = call<P::connect_get_capabilities>({});
  BOOST_REQUIRE(caps);
  BOOST_TEST(caps->capabilities.find("<baselabel type='qemu'>" + acct.label() + "</baselabel>") !=
             std::string::npos);
  // The status file remembers the owner before start.
  auto status = interop::read_file(cfg.run_dir + "/owned.xml");
  BOOST_TEST(status.find("<owner path='" + image + "' uid='4321' gid='4322'/>") !=
             std::string::npos);
  BOOST_REQUIRE(call<P::domain_destroy>({d}));
  BOOST_TEST((owner_of(image) == odd_owner));

  // A guest shutdown gives it back too.
  BOOST_REQUIRE(call<P::domain_create>({d}));
  BOOST_TEST((owner_of(image) == std::pair<uint32_t, uint32_t>{acct.uid, acct.gid}));
  BOOST_TEST(press_until(d, P::domain_shutdown, [&] {
    auto s = call<P::domain_get_state>({d, 0});
    return s && s->state == shutoff;
  }));
  BOOST_TEST((owner_of(image) == odd_owner));

  // And a crash (QEMU killed behind the daemon's back).
  BOOST_REQUIRE(call<P::domain_create>({d}));
  ::kill(qemu_pid("owned"), SIGKILL);
  BOOST_TEST(wait_state(d, shutoff, 3));
  BOOST_TEST((owner_of(image) == odd_owner));
}

BOOST_FIXTURE_TEST_CASE(a_restarted_driver_still_gives_the_image_back, driver_fixture) {
  auto d = define("kept");
  auto image = dir.file("kept.qcow2");
  BOOST_REQUIRE(::chown(image.c_str(), odd_owner.first, odd_owner.second) == 0);
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto pid = qemu_pid("kept");
  close_driver();
  BOOST_TEST(::kill(pid, 0) == 0);
  BOOST_TEST((owner_of(image) == std::pair<uint32_t, uint32_t>{cfg.account.uid, cfg.account.gid}));
  open_driver();
  auto again = call<P::domain_lookup_by_name>({"kept"});
  BOOST_REQUIRE(again);
  BOOST_REQUIRE(call<P::domain_destroy>({again->dom}));
  BOOST_TEST((owner_of(image) == odd_owner));
}

BOOST_FIXTURE_TEST_CASE(a_shareable_disk_keeps_qemus_owner_and_readonly_ones_are_relabelled,
                        driver_fixture) {
  auto shared = dir.file("shared.raw");
  auto iso = dir.file("ro.iso");
  interop::write_file(shared, std::string(65536, '\0'));
  interop::write_file(iso, std::string(65536, '\0'));
  for (auto* p : {&shared, &iso})
    BOOST_REQUIRE(::chown(p->c_str(), odd_owner.first, odd_owner.second) == 0);
  auto base = xml("extras");
  auto extra = "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" +
               shared + "'/><target dev='vdb' bus='virtio'/><shareable/></disk>"
               "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='" +
               iso + "'/><target dev='hdc' bus='ide'/><readonly/></disk>";
  base.insert(base.find("</devices>"), extra);
  auto d = call<P::domain_define_xml>({base});
  BOOST_REQUIRE_MESSAGE(d, (d ? "" : d.error().message));
  auto started = call<P::domain_create>({d->dom});
  BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
  std::pair<uint32_t, uint32_t> qemu{cfg.account.uid, cfg.account.gid};
  BOOST_TEST((owner_of(shared) == qemu));
  BOOST_TEST((owner_of(iso) == qemu));
  BOOST_REQUIRE(call<P::domain_destroy>({d->dom}));
  BOOST_TEST((owner_of(iso) == odd_owner));
  BOOST_TEST((owner_of(shared) == qemu)); // libvirt leaves shareable disks
}

BOOST_FIXTURE_TEST_CASE(an_image_qemu_cannot_reach_fails_the_start_and_names_the_file,
                        driver_fixture) {
  if (cfg.account.uid == 0)
    return; // root reaches everything: nothing to refuse
  auto hidden = dir.file("hidden");
  fs::create_directory(hidden);
  fs::permissions(hidden, fs::perms::owner_all); // 0700, root's
  auto image = hidden + "/locked.qcow2";
  fs::copy_file(guest_dir / "disk.qcow2", image);
  auto text = xml("locked");
  text.replace(text.find(dir.file("locked.qcow2")), dir.file("locked.qcow2").size(), image);
  auto d = call<P::domain_define_xml>({text});
  BOOST_REQUIRE_MESSAGE(d, (d ? "" : d.error().message));
  auto before = owner_of(image);
  auto started = call<P::domain_create>({d->dom});
  BOOST_REQUIRE(!started);
  BOOST_TEST(started.error().message ==
             "Cannot access storage file '" + image + "' (as uid:" +
               std::to_string(cfg.account.uid) + ", gid:" + std::to_string(cfg.account.gid) +
               "): Permission denied");
  BOOST_TEST(state_of(d->dom).state == shutoff);
  BOOST_TEST(!fs::exists(cfg.run_dir + "/locked.xml"));
  BOOST_TEST(!fs::exists(cfg.run_dir + "/locked.pid"));
  BOOST_TEST(qemus_named("locked") == 0);
  BOOST_TEST((owner_of(image) == before));
}

// -- KVM where present ---------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_kvm_domain_runs_on_kvm_only_where_qemus_account_may_use_it,
                        driver_fixture) {
  if (!virtactor::qemu::kvm_usable("/dev/kvm")) {
    BOOST_TEST_MESSAGE("no usable /dev/kvm on this host: KVM is not tried");
    return;
  }
  auto kvm_xml = [&](const std::string& name) {
    auto x = xml(name);
    x.replace(x.find("<domain type='qemu'>"), 20, "<domain type='kvm'>");
    return x;
  };
  // The default account: where it may not open /dev/kvm (no kvm group),
  // KVM is not offered, as libvirt does not offer it.
  if (!drivers::qemu::kvm_usable_by(cfg)) {
    auto caps = call<P::connect_get_capabilities>({});
    BOOST_REQUIRE(caps);
    BOOST_TEST(caps->capabilities.find("<domain type='kvm'") == std::string::npos);
    auto refused = call<P::domain_define_xml>({kvm_xml("nokvm")});
    BOOST_TEST_REQUIRE(!refused);
    BOOST_TEST(refused.error().message.find("does not support virt type 'kvm'") !=
               std::string::npos);
  }
  // An account that may: the guest runs on KVM (QEMU holds a KVM VM).
  close_driver();
  std::vector<std::string> warnings;
  auto root = drivers::qemu::resolve_qemu_account(true, std::string{"+0"}, std::string{"+0"},
                                                   warnings);
  BOOST_REQUIRE(root);
  cfg.account = *root;
  open_driver();
  auto caps = call<P::connect_get_capabilities>({});
  BOOST_REQUIRE(caps);
  BOOST_TEST(caps->capabilities.find("<domain type='kvm'") != std::string::npos);
  auto d = call<P::domain_define_xml>({kvm_xml("onkvm")});
  BOOST_REQUIRE_MESSAGE(d, (d ? "" : d.error().message));
  BOOST_REQUIRE(call<P::domain_create>({d->dom}));
  auto pid = qemu_pid("onkvm");
  BOOST_REQUIRE(pid > 0);
  auto cmdline = interop::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  BOOST_TEST(cmdline.find(std::string{"-accel\0kvm\0", 11}) != std::string::npos);
  bool kvm_vm = false;
  for (auto& e : fs::directory_iterator{"/proc/" + std::to_string(pid) + "/fd"}) {
    std::error_code ec;
    kvm_vm = kvm_vm || fs::read_symlink(e.path(), ec).string() == "anon_inode:kvm-vm";
  }
  BOOST_TEST(kvm_vm);
  BOOST_REQUIRE(call<P::domain_destroy>({d->dom}));
}

int main(int argc, char* argv[]) {
  if (!fs::exists(guest_dir / "disk.qcow2") || !fs::exists("/usr/bin/qemu-system-x86_64")) {
    std::cout << "qemu_driver: no QEMU or test guest, skipped\n";
    return 77;
  }
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
