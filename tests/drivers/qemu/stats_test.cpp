// The qemu driver's statistics records from QMP replies and /proc facts,
// against what libvirtd 9.0 printed for the same guest (the interop test
// guest: 64 MiB, one vCPU, one qcow2 disk on virtio, user networking, the
// default balloon): the same fields, in the same order, with and without
// the monitor.
#define BOOST_TEST_MODULE qemu_stats
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "drivers/qemu/domain_def.hpp"
#include "drivers/qemu/domain_stats.hpp"
#include "tests/drivers/stats_fields.hpp"

using namespace virtactor;
using namespace virtactor::drivers;
namespace fs = std::filesystem;

namespace {

/// A qcow2 image as far as its header: version 3, a virtual size of 1 MiB.
std::string make_image() {
  auto path = (fs::temp_directory_path() / ("va-qemu-stats-" + std::to_string(::getpid()) +
                                            ".qcow2"))
                .string();
  unsigned char header[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
  header[24 + 5] = 0x10; // 0x0000000000100000
  std::ofstream{path, std::ios::binary}.write(reinterpret_cast<const char*>(header), sizeof header);
  return path;
}

const std::string guest_qcow2 = make_image();

struct remove_image {
  ~remove_image() { fs::remove(guest_qcow2); }
} remover;

xml::domain_def guest(bool live) {
  auto xml = "<domain type='qemu'><name>vm</name><memory unit='KiB'>65536</memory>"
             "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
             "<features><acpi/></features><devices><disk type='file' device='disk'>"
             "<driver name='qemu' type='qcow2'/><source file='" +
             guest_qcow2 +
             "'/><target dev='vda' bus='virtio'/></disk><interface type='user'>"
             "<model type='virtio'/></interface><serial type='pty'/></devices></domain>";
  auto def = qemu::parse_domain(xml, qemu::emulator_facts::qemu_7_2());
  BOOST_REQUIRE_MESSAGE(def, (def ? "" : def.error().message));
  return live ? qemu::live_definition(*def, {}) : *def;
}

std::vector<std::string> names(conf::stats_params& p) {
  std::vector<std::string> out;
  for (auto& x : p.items())
    out.push_back(x.field);
  return out;
}

std::string value(conf::stats_params& p, const std::string& field) {
  auto all = testing::stats_fields(p.items());
  return all.count(field) ? all[field] : "(absent)";
}

// The replies QEMU 7.2 gave libvirtd for this guest just after boot.
qemu::stats_replies replies() {
  return {
    {"query-stats", "[]"},
    {"qom-get", R"({"stats":{"stat-htlb-pgalloc":18446744073709551615,)"
                R"("stat-swap-out":18446744073709551615,"stat-free-memory":18446744073709551615},)"
                R"("last-update":0})"},
    {"query-blockstats",
     R"([{"device":"","parent":{"stats":{"wr_highest_offset":0},"node-name":"libvirt-1-storage"},)"
     R"("stats":{"flush_total_time_ns":0,"wr_total_time_ns":0,"wr_bytes":0,)"
     R"("rd_total_time_ns":3423413,"flush_operations":0,"wr_operations":0,"rd_bytes":512,)"
     R"("rd_operations":1},"node-name":"libvirt-1-format",)"
     R"("qdev":"/machine/peripheral/virtio-disk0/virtio-backend"}])"},
    {"query-named-block-nodes",
     R"([{"image":{"virtual-size":1048576,"actual-size":397312},"node-name":"libvirt-1-format"},)"
     R"({"image":{"virtual-size":393216,"actual-size":397312},"node-name":"libvirt-1-storage"}])"},
    {"query-dirty-rate",
     R"({"status":"unstarted","sample-pages":0,"mode":"page-sampling","start-time":0,)"
     R"("calc-time":0})"},
  };
}

qemu::process_facts facts() {
  qemu::process_facts f;
  f.cpu_user_ns = 712685000;
  f.cpu_system_ns = 663534000;
  f.rss_kib = 45684;
  f.vcpus[0] = {180000000, 0, 180429589};
  return f;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_running_guest_gives_libvirts_fields_in_libvirts_order) {
  auto live = guest(true);
  conf::stats_params p;
  qemu::running_stats(p, qemu::qemu_stats_groups, live, facts(), replies(), true);
  // virsh domstats against libvirtd 9.0, after state.state and state.reason.
  std::vector<std::string> libvirt = {
    "cpu.time", "cpu.user", "cpu.system", "cpu.cache.monitor.count",
    "cpu.haltpoll.success.time", "cpu.haltpoll.fail.time", "balloon.current",
    "balloon.maximum", "balloon.last-update", "balloon.rss", "vcpu.current", "vcpu.maximum",
    "vcpu.0.state", "vcpu.0.time", "vcpu.0.wait", "vcpu.0.delay", "net.count", "block.count",
    "block.0.name", "block.0.path", "block.0.backingIndex", "block.0.rd.reqs",
    "block.0.rd.bytes", "block.0.rd.times", "block.0.wr.reqs", "block.0.wr.bytes",
    "block.0.wr.times", "block.0.fl.reqs", "block.0.fl.times", "block.0.allocation",
    "block.0.capacity", "block.0.physical", "dirtyrate.calc_status",
    "dirtyrate.calc_start_time", "dirtyrate.calc_period", "dirtyrate.calc_mode"};
  BOOST_TEST(names(p) == libvirt, boost::test_tools::per_element());
  BOOST_TEST(value(p, "cpu.time") == "1376219000");
  BOOST_TEST(value(p, "balloon.current") == "65536");
  BOOST_TEST(value(p, "balloon.rss") == "45684");
  BOOST_TEST(value(p, "block.0.path") == guest_qcow2);
  BOOST_TEST(value(p, "block.0.rd.reqs") == "1");
  BOOST_TEST(value(p, "block.0.rd.times") == "3423413");
  BOOST_TEST(value(p, "block.0.allocation") == "0");
  BOOST_TEST(value(p, "block.0.capacity") == "1048576");
  BOOST_TEST(value(p, "block.0.physical") == "397312");
  BOOST_TEST(value(p, "dirtyrate.calc_mode") == "page-sampling");
}

BOOST_AUTO_TEST_CASE(without_the_monitor_a_running_guest_gives_what_libvirt_gives_without_its_job) {
  auto live = guest(true);
  conf::stats_params p;
  // The replies are ignored: the monitor did not serve this request.
  qemu::running_stats(p, qemu::qemu_stats_groups, live, facts(), replies(), false);
  // virsh domstats --nowait while libvirtd's suspend waited on a frozen QEMU.
  std::vector<std::string> libvirt = {
    "cpu.time", "cpu.user", "cpu.system", "cpu.cache.monitor.count", "balloon.current",
    "balloon.maximum", "vcpu.current", "vcpu.maximum", "vcpu.0.state", "vcpu.0.time",
    "vcpu.0.wait", "vcpu.0.delay", "net.count", "block.count", "block.0.name", "block.0.path",
    "block.0.backingIndex"};
  BOOST_TEST(names(p) == libvirt, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(guest_memory_stats_skip_what_the_guest_did_not_report) {
  auto live = guest(true);
  auto r = replies();
  r["qom-get"] = R"({"stats":{"stat-swap-in":4096,"stat-major-faults":7,)"
                 R"("stat-free-memory":18446744073709551615},"last-update":1700000000})";
  conf::stats_params p;
  qemu::running_stats(p, conf::stats_group::balloon, live, facts(), r, true);
  std::vector<std::string> expected = {"balloon.current", "balloon.maximum", "balloon.swap_in",
                                       "balloon.major_fault", "balloon.last-update",
                                       "balloon.rss"};
  BOOST_TEST(names(p) == expected, boost::test_tools::per_element());
  BOOST_TEST(value(p, "balloon.swap_in") == "4"); // KiB
  BOOST_TEST(value(p, "balloon.major_fault") == "7");
  BOOST_TEST(value(p, "balloon.last-update") == "1700000000");
}

BOOST_AUTO_TEST_CASE(the_queries_follow_the_groups_asked_for) {
  auto live = guest(true);
  auto commands = [&](uint32_t groups) {
    std::vector<std::string> out;
    for (auto& q : qemu::stats_queries(groups, live))
      out.push_back(q.command);
    return out;
  };
  BOOST_TEST(commands(conf::stats_group::state | conf::stats_group::vcpu |
                      conf::stats_group::interface)
               .empty());
  BOOST_TEST((commands(conf::stats_group::block) ==
              std::vector<std::string>{"query-blockstats", "query-named-block-nodes"}));
  auto all = qemu::stats_queries(qemu::qemu_stats_groups, live);
  BOOST_REQUIRE(all.size() == 5u);
  BOOST_TEST(all[1].command == "qom-get");
  BOOST_TEST(all[1].arguments ==
             R"({"path":"/machine/peripheral/balloon0","property":"guest-stats"})");
}

BOOST_AUTO_TEST_CASE(an_inactive_guest_gives_its_image_sizes_and_no_counters) {
  auto def = guest(false);
  conf::stats_params p;
  qemu::inactive_stats(p, qemu::qemu_stats_groups, def);
  // virsh domstats of the defined, inactive guest against libvirtd 9.0.
  std::vector<std::string> libvirt = {
    "cpu.time", "cpu.user", "cpu.system", "balloon.current", "balloon.maximum", "vcpu.current",
    "vcpu.maximum", "block.count", "block.0.name", "block.0.path", "block.0.allocation",
    "block.0.capacity", "block.0.physical"};
  BOOST_TEST(names(p) == libvirt, boost::test_tools::per_element());
  BOOST_TEST(value(p, "block.0.capacity") == "1048576"); // the qcow2 header's size
  BOOST_TEST(value(p, "block.0.physical") == std::to_string(fs::file_size(guest_qcow2)));
  BOOST_TEST(value(p, "cpu.time") == "0");
}

BOOST_AUTO_TEST_CASE(this_process_has_facts_and_no_vcpu_threads) {
  auto f = qemu::read_process_facts(::getpid());
  BOOST_TEST(f.rss_kib > 0u);
  BOOST_TEST(f.vcpus.empty());
  auto none = qemu::read_process_facts(0x3fffffff); // no such process
  BOOST_TEST(none.rss_kib == 0u);
}
