// Interfaces of type bridge: the qemu driver in-process makes a tap device
// on the bridge for each, hands it to QEMU, names it in the live XML, and
// the tap goes with QEMU. The whole program runs in a network namespace of
// its own (the host's interfaces are never touched), with a bridge made
// there and a sysfs that shows it. Exits with 77 (CTest: skipped) without root, /dev/net/tun, a new
// network namespace, QEMU or the test guest.
#define BOOST_TEST_MODULE qemu_network
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <set>

#include <linux/if.h>
#include <linux/sockios.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

#include "tests/drivers/qemu/driver_fixture.hpp"

using namespace virtactor::testing::qemu_driver;

namespace {

const std::string bridge = "vabr0";
const fs::path net_dir = "/sys/class/net";

/// The network interfaces of this namespace.
std::set<std::string> interfaces() {
  std::set<std::string> out;
  for (auto& e : fs::directory_iterator(net_dir))
    out.insert(e.path().filename());
  return out;
}

/// `<interface type='bridge'>` on `br` with a fixed MAC; `extra` goes inside.
std::string bridge_interface(const std::string& mac, const std::string& br = bridge,
                             const std::string& extra = "") {
  return "<interface type='bridge'><mac address='" + mac + "'/><source bridge='" + br +
         "'/><model type='virtio'/>" + extra + "</interface>";
}

/// Whether process `pid` holds a descriptor of the tap `name` (a tun
/// descriptor's fdinfo names its device: "iff:\tNAME").
bool holds_tap(pid_t pid, const std::string& name) {
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec))
    if (interop::read_file(e.path().string()).find("iff:\t" + name + "\n") != std::string::npos)
      return true;
  return false;
}

std::string first_line(const fs::path& p) {
  auto text = interop::read_file(p.string());
  return text.substr(0, text.find('\n'));
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_bridge_interface_gets_a_tap_on_the_bridge_that_goes_with_qemu,
                        driver_fixture) {
  auto before = interfaces();
  auto d = define("bridged", "<serial type='pty'/>" + bridge_interface("52:54:00:12:34:56"));
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto live = call<P::domain_get_xml_desc>({d, 0});
  BOOST_REQUIRE(live);
  // The kernel's first free vnetN; the config keeps no device name.
  auto now = interfaces();
  std::vector<std::string> added;
  for (auto& n : now)
    if (!before.count(n))
      added.push_back(n);
  BOOST_TEST_REQUIRE(added.size() == 1u);
  auto tap = added.front();
  BOOST_TEST(tap.starts_with("vnet"));
  BOOST_TEST(live->xml.find("<target dev='" + tap + "'/>") != std::string::npos);
  BOOST_TEST(live->xml.find("<source bridge='" + bridge + "'/>") != std::string::npos);
  BOOST_TEST(live->xml.find("<alias name='net0'/>") != std::string::npos);
  auto inactive = call<P::domain_get_xml_desc>({d, 2});
  BOOST_REQUIRE(inactive);
  BOOST_TEST(inactive->xml.find("<target dev='" + tap + "'/>") == std::string::npos);
  // A port of the bridge, up, with the guest's MAC behind fe.
  BOOST_TEST(fs::read_symlink(net_dir / tap / "master").filename() == bridge);
  BOOST_TEST(first_line(net_dir / tap / "address") == "fe:54:00:12:34:56");
  BOOST_TEST((std::stoul(first_line(net_dir / tap / "flags"), nullptr, 16) & IFF_UP) != 0u);
  BOOST_TEST(first_line(net_dir / tap / "mtu") == first_line(net_dir / bridge / "mtu"));
  // QEMU has it; the daemon has let go of its copy.
  auto pid = qemu_pid("bridged");
  BOOST_TEST(holds_tap(pid, tap));
  BOOST_TEST(!holds_tap(::getpid(), tap));

  BOOST_REQUIRE(call<P::domain_destroy>({d}));
  BOOST_TEST(interop::wait_until([&] { return !fs::exists(net_dir / tap); }, 10s, 10ms));
  BOOST_TEST((interfaces() == before));
}

BOOST_FIXTURE_TEST_CASE(a_chosen_tap_name_is_kept_and_reserved_names_are_replaced,
                        driver_fixture) {
  auto d = define("named", "<serial type='pty'/>" +
                             bridge_interface("52:54:00:00:00:01", bridge,
                                              "<target dev='guest0tap'/>") +
                             bridge_interface("52:54:00:00:00:02", bridge,
                                              "<target dev='vnet77'/>"));
  BOOST_REQUIRE(call<P::domain_create>({d}));
  auto live = call<P::domain_get_xml_desc>({d, 0});
  BOOST_REQUIRE(live);
  BOOST_TEST(live->xml.find("<target dev='guest0tap'/>") != std::string::npos);
  BOOST_TEST(fs::read_symlink(net_dir / "guest0tap" / "master").filename() == bridge);
  // vnet77 is libvirt's prefix: the kernel picks the number.
  BOOST_TEST(!fs::exists(net_dir / "vnet77"));
  BOOST_TEST(live->xml.find("<target dev='vnet77'/>") == std::string::npos);
  auto pid = qemu_pid("named");
  BOOST_TEST(holds_tap(pid, "guest0tap"));

  // A daemon restart: QEMU keeps its taps, the new driver reports them.
  close_driver();
  BOOST_TEST(fs::exists(net_dir / "guest0tap"));
  open_driver();
  auto again = call<P::domain_lookup_by_name>({"named"});
  BOOST_REQUIRE(again);
  BOOST_TEST(state_of(again->dom).state == running);
  live = call<P::domain_get_xml_desc>({again->dom, 0});
  BOOST_REQUIRE(live);
  BOOST_TEST(live->xml.find("<target dev='guest0tap'/>") != std::string::npos);
  BOOST_REQUIRE(call<P::domain_destroy>({again->dom}));
  BOOST_TEST(interop::wait_until([&] { return !fs::exists(net_dir / "guest0tap"); }, 10s, 10ms));
}

BOOST_FIXTURE_TEST_CASE(a_missing_bridge_or_network_fails_the_start_and_leaves_nothing,
                        driver_fixture) {
  auto before = interfaces();
  auto d = define("nobridge", "<serial type='pty'/>" + bridge_interface("52:54:00:00:00:03",
                                                                        "nosuchbr0"));
  auto r = call<P::domain_create>({d});
  BOOST_TEST_REQUIRE(!r);
  BOOST_TEST(r.error().message == "Cannot get interface MTU on 'nosuchbr0': No such device");
  BOOST_TEST(state_of(d).state == shutoff);
  BOOST_TEST(!fs::exists(cfg.run_dir + "/nobridge.pid"));
  BOOST_TEST(!fs::exists(cfg.run_dir + "/nobridge.xml"));
  BOOST_TEST((interfaces() == before));

  // No network driver serves this connection: no network has that name.
  auto n = define("nonet", "<serial type='pty'/><interface type='network'><source "
                           "network='default'/></interface>");
  r = call<P::domain_create>({n});
  BOOST_TEST_REQUIRE(!r);
  BOOST_TEST(r.error().message == "Network not found: no network with matching name 'default'");
  BOOST_TEST(state_of(n).state == shutoff);
  BOOST_TEST((interfaces() == before));

  // A tap name the kernel cannot hold.
  auto longname = define("longname", "<serial type='pty'/>" +
                                       bridge_interface("52:54:00:00:00:06", bridge,
                                                        "<target dev='tap-name-too-long0'/>"));
  r = call<P::domain_create>({longname});
  BOOST_TEST_REQUIRE(!r);
  BOOST_TEST(r.error().message == "unsupported configuration: interface target dev "
                                  "'tap-name-too-long0' is longer than 15 characters");
  BOOST_TEST((interfaces() == before));

  // The second interface's bridge is missing: the first one's tap goes too.
  auto two = define("halfway", "<serial type='pty'/>" +
                                 bridge_interface("52:54:00:00:00:04") +
                                 bridge_interface("52:54:00:00:00:05", "nosuchbr0"));
  r = call<P::domain_create>({two});
  BOOST_TEST_REQUIRE(!r);
  BOOST_TEST((interfaces() == before));
}

namespace {

/// Brings `name` up (or makes a bridge of that name first).
bool set_up(int ctl, const std::string& name, bool make_bridge) {
  if (make_bridge && ::ioctl(ctl, SIOCBRADDBR, name.c_str()) != 0)
    return false;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
  if (::ioctl(ctl, SIOCGIFFLAGS, &ifr) != 0)
    return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ::ioctl(ctl, SIOCSIFFLAGS, &ifr) == 0;
}

} // namespace

int main(int argc, char* argv[]) {
  if (!fs::exists(guest_dir / "disk.qcow2") || !fs::exists("/usr/bin/qemu-system-x86_64")) {
    std::cout << "qemu_network: no QEMU or test guest, skipped\n";
    return 77;
  }
  if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0) {
    std::cout << "qemu_network: needs root and /dev/net/tun, skipped\n";
    return 77;
  }
  // Before any thread exists, so that every thread and child shares it.
  // /sys/class/net shows the namespace sysfs was mounted in: a mount
  // namespace of our own (private, nothing propagates to the host) gets a
  // sysfs of the new network namespace.
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 ||
      ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) {
    std::cout << "qemu_network: no network and mount namespace (" << std::strerror(errno)
              << "), skipped\n";
    return 77;
  }
  int ctl = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ctl < 0 || !set_up(ctl, "lo", false) || !set_up(ctl, bridge, true)) {
    std::cerr << "qemu_network: cannot set up " << bridge << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  ::close(ctl);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
