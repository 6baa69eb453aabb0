#include "drivers/qemu/domain_stats.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace virtactor::drivers::qemu {

namespace {

using json = nlohmann::json;
namespace group = conf::stats_group;

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

uint64_t tick_ns() {
  return 1'000'000'000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
}

/// The fields of a /proc stat file after the command name, numbered as in
/// proc(5) (field 3 is the state).
std::vector<std::string> stat_fields(const std::string& text) {
  std::vector<std::string> out;
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return out;
  out.resize(3);
  std::istringstream in{text.substr(close + 1)};
  std::string f;
  while (in >> f)
    out.push_back(f);
  return out;
}

uint64_t field_u64(const std::vector<std::string>& f, size_t i) {
  if (i >= f.size())
    return 0;
  return std::strtoull(f[i].c_str(), nullptr, 10);
}

/// "CPU 3/TCG" -> 3; false for other threads.
bool vcpu_index(const std::string& comm, uint32_t& index) {
  unsigned n = 0;
  char accel[8] = {};
  if (std::sscanf(comm.c_str(), "CPU %u/%7s", &n, accel) != 2)
    return false;
  index = n;
  return true;
}

/// `se.statistics.wait_sum : MS.US` of a sched file, in nanoseconds.
uint64_t sched_wait_ns(const std::string& text) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("se.statistics.wait_sum", 0) != 0 && line.rfind("se.wait_sum", 0) != 0)
      continue;
    auto colon = line.find(':');
    if (colon == std::string::npos)
      return 0;
    unsigned long long ms = 0, frac = 0;
    if (std::sscanf(line.c_str() + colon + 1, " %llu.%llu", &ms, &frac) < 1)
      return 0;
    return ms * 1'000'000ull + frac;
  }
  return 0;
}

json parse(const stats_replies& replies, const std::string& command) {
  auto it = replies.find(command);
  if (it == replies.end())
    return json{};
  auto v = json::parse(it->second, nullptr, false);
  return v.is_discarded() ? json{} : v;
}

uint64_t number(const json& obj, const char* key) {
  if (!obj.is_object())
    return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number())
    return 0;
  if (it->is_number_unsigned())
    return it->get<uint64_t>();
  auto v = it->get<int64_t>();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

std::string block_prefix(size_t i) {
  return "block." + std::to_string(i) + ".";
}

/// The node names QEMU knows disk `d` by (command_line.cpp's numbering).
std::string format_node(const xml::disk_def& d) {
  return "libvirt-" + std::to_string(d.source_index) + "-format";
}

// -- groups ------------------------------------------------------------------------

void cpu_running(conf::stats_params& out, const process_facts& proc, const stats_replies& r) {
  out.add_ullong("cpu.time", proc.cpu_user_ns + proc.cpu_system_ns);
  out.add_ullong("cpu.user", proc.cpu_user_ns);
  out.add_ullong("cpu.system", proc.cpu_system_ns);
  // No cache monitors: the driver refuses <cputune>.
  out.add_uint("cpu.cache.monitor.count", 0);
  if (!r.count("query-stats"))
    return;
  // The KVM halt-polling times of every vCPU, summed (nothing under TCG).
  uint64_t success = 0, fail = 0;
  auto stats = parse(r, "query-stats");
  if (stats.is_array())
    for (auto& entry : stats) // one per vCPU and provider
      for (auto& s : entry.is_object() ? entry.value("stats", json::array()) : json::array()) {
        auto name = s.is_object() ? s.value("name", std::string{}) : std::string{};
        if (name == "halt_poll_success_ns")
          success += number(s, "value");
        else if (name == "halt_poll_fail_ns")
          fail += number(s, "value");
      }
  out.add_ullong("cpu.haltpoll.success.time", success);
  out.add_ullong("cpu.haltpoll.fail.time", fail);
}

void balloon(conf::stats_params& out, const xml::domain_def& def) {
  out.add_ullong("balloon.current", def.memory.current_kib);
  out.add_ullong("balloon.maximum", def.memory.max_kib);
}

void balloon_guest(conf::stats_params& out, const process_facts& proc, const stats_replies& r) {
  // libvirt asks the balloon only when the guest has one; the RSS comes
  // with the balloon's answer or without a balloon, never without the
  // monitor.
  if (r.count("qom-get")) {
    auto g = parse(r, "qom-get");
    auto stats = g.is_object() ? g.value("stats", json::object()) : json::object();
    // QEMU's names, libvirt's names, and whether the value is in bytes
    // (reported in KiB); all-ones means the guest did not say.
    struct item {
      const char* qemu;
      const char* field;
      bool bytes;
    };
    static const item items[] = {
      {"stat-swap-in", "swap_in", true},           {"stat-swap-out", "swap_out", true},
      {"stat-major-faults", "major_fault", false}, {"stat-minor-faults", "minor_fault", false},
      {"stat-free-memory", "unused", true},        {"stat-total-memory", "available", true},
      {"stat-available-memory", "usable", true},   {"stat-disk-caches", "disk_caches", true},
      {"stat-htlb-pgalloc", "hugetlb_pgalloc", false},
      {"stat-htlb-pgfail", "hugetlb_pgfail", false},
    };
    for (auto& it : items) {
      auto v = stats.find(it.qemu);
      if (v == stats.end() || !v->is_number_unsigned() || v->get<uint64_t>() == UINT64_MAX)
        continue;
      auto n = v->get<uint64_t>();
      out.add_ullong(std::string{"balloon."} + it.field, it.bytes ? n / 1024 : n);
    }
    if (g.is_object() && g.contains("last-update"))
      out.add_ullong("balloon.last-update", number(g, "last-update"));
  }
  out.add_ullong("balloon.rss", proc.rss_kib);
}

void vcpus(conf::stats_params& out, const xml::domain_def& def, const process_facts* proc) {
  out.add_uint("vcpu.current", def.vcpu.current);
  out.add_uint("vcpu.maximum", def.vcpu.max);
  if (!proc)
    return;
  for (auto& [index, t] : proc->vcpus) {
    auto p = "vcpu." + std::to_string(index) + ".";
    out.add_int(p + "state", 1); // VIR_VCPU_RUNNING
    out.add_ullong(p + "time", t.time_ns);
    out.add_ullong(p + "wait", t.wait_ns);
    out.add_ullong(p + "delay", t.delay_ns);
  }
}

void blocks_running(conf::stats_params& out, const xml::domain_def& live,
                    const stats_replies& r) {
  auto& disks = live.devices.disks;
  out.add_uint("block.count", static_cast<uint32_t>(disks.size()));
  json by_node = json::object(), nodes = json::object();
  auto stats = parse(r, "query-blockstats");
  if (stats.is_array())
    for (auto& e : stats)
      if (e.is_object() && e.contains("node-name"))
        by_node[e.value("node-name", std::string{})] = e;
  auto named = parse(r, "query-named-block-nodes");
  if (named.is_array())
    for (auto& n : named)
      if (n.is_object() && n.contains("node-name"))
        nodes[n.value("node-name", std::string{})] = n;
  for (size_t i = 0; i < disks.size(); ++i) {
    auto& d = disks[i];
    auto p = block_prefix(i);
    out.add_string(p + "name", d.target_dev);
    if (d.source.empty())
      continue;
    out.add_string(p + "path", d.source);
    if (d.source_index)
      out.add_uint(p + "backingIndex", d.source_index);
    auto node = format_node(d);
    if (by_node.contains(node)) {
      auto& e = by_node[node];
      auto s = e.value("stats", json::object());
      out.add_ullong(p + "rd.reqs", number(s, "rd_operations"));
      out.add_ullong(p + "rd.bytes", number(s, "rd_bytes"));
      out.add_ullong(p + "rd.times", number(s, "rd_total_time_ns"));
      out.add_ullong(p + "wr.reqs", number(s, "wr_operations"));
      out.add_ullong(p + "wr.bytes", number(s, "wr_bytes"));
      out.add_ullong(p + "wr.times", number(s, "wr_total_time_ns"));
      out.add_ullong(p + "fl.reqs", number(s, "flush_operations"));
      out.add_ullong(p + "fl.times", number(s, "flush_total_time_ns"));
      // The highest offset written to the image file: libvirt's allocation
      // of a running disk.
      auto parent = e.value("parent", json::object()).value("stats", json::object());
      if (parent.contains("wr_highest_offset"))
        out.add_ullong(p + "allocation", number(parent, "wr_highest_offset"));
    }
    if (nodes.contains(node)) {
      auto image = nodes[node].value("image", json::object());
      if (image.contains("virtual-size"))
        out.add_ullong(p + "capacity", number(image, "virtual-size"));
      if (image.contains("actual-size"))
        out.add_ullong(p + "physical", number(image, "actual-size"));
    }
  }
}

/// libvirt's sizes of an image that is not open: capacity (the qcow2
/// header's virtual size, else the size), allocation (the blocks the file
/// uses) and physical (the file's size).
void block_inactive(conf::stats_params& out, const std::string& p, const xml::disk_def& d) {
  struct stat sb{};
  if (::stat(d.source.c_str(), &sb) != 0)
    return;
  uint64_t size = static_cast<uint64_t>(sb.st_size);
  uint64_t capacity = size;
  if (S_ISBLK(sb.st_mode)) {
    int fd = ::open(d.source.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    auto end = ::lseek(fd, 0, SEEK_END);
    ::close(fd);
    size = capacity = end < 0 ? 0 : static_cast<uint64_t>(end);
  } else if (d.driver_type == "qcow2") {
    unsigned char header[32] = {};
    std::ifstream in{d.source, std::ios::binary};
    if (!in.read(reinterpret_cast<char*>(header), sizeof header) ||
        !(header[0] == 'Q' && header[1] == 'F' && header[2] == 'I' && header[3] == 0xfb))
      return;
    capacity = 0;
    for (int i = 24; i < 32; ++i)
      capacity = capacity << 8 | header[i];
  }
  if (!S_ISBLK(sb.st_mode))
    out.add_ullong(p + "allocation", static_cast<uint64_t>(sb.st_blocks) * 512);
  out.add_ullong(p + "capacity", capacity);
  out.add_ullong(p + "physical", size);
}

void dirty_rate(conf::stats_params& out, const stats_replies& r) {
  if (!r.count("query-dirty-rate"))
    return;
  auto d = parse(r, "query-dirty-rate");
  if (!d.is_object())
    return;
  auto status = d.value("status", std::string{});
  int32_t code = status == "measuring" ? 1 : status == "measured" ? 2 : 0;
  out.add_int("dirtyrate.calc_status", code);
  out.add_llong("dirtyrate.calc_start_time", static_cast<int64_t>(number(d, "start-time")));
  out.add_int("dirtyrate.calc_period", static_cast<int32_t>(number(d, "calc-time")));
  out.add_string("dirtyrate.calc_mode", d.value("mode", std::string{"page-sampling"}));
  if (code == 2 && d.contains("dirty-rate"))
    out.add_llong("dirtyrate.megabytes_per_second", static_cast<int64_t>(number(d, "dirty-rate")));
}

} // namespace

uint64_t process_cpu_ns(int32_t pid) {
  auto st = stat_fields(read_text("/proc/" + std::to_string(pid) + "/stat"));
  return (field_u64(st, 14) + field_u64(st, 15)) * tick_ns();
}

process_facts read_process_facts(int32_t pid) {
  process_facts f;
  auto base = "/proc/" + std::to_string(pid);
  auto st = stat_fields(read_text(base + "/stat"));
  auto ns = tick_ns();
  f.cpu_user_ns = field_u64(st, 14) * ns;
  f.cpu_system_ns = field_u64(st, 15) * ns;
  f.rss_kib = field_u64(st, 24) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator(base + "/task", ec)) {
    auto dir = task.path().string();
    auto comm = read_text(dir + "/comm");
    uint32_t index = 0;
    if (!vcpu_index(comm, index))
      continue;
    process_facts::vcpu_thread t;
    auto ts = stat_fields(read_text(dir + "/stat"));
    t.time_ns = (field_u64(ts, 14) + field_u64(ts, 15)) * ns;
    t.wait_ns = sched_wait_ns(read_text(dir + "/sched"));
    std::istringstream schedstat{read_text(dir + "/schedstat")};
    uint64_t run = 0;
    schedstat >> run >> t.delay_ns;
    f.vcpus[index] = t;
  }
  return f;
}

std::vector<stats_query> stats_queries(uint32_t groups, const xml::domain_def& live) {
  std::vector<stats_query> q;
  if (groups & group::cpu_total)
    q.push_back({"query-stats", R"({"target":"vcpu","providers":[{"provider":"kvm","names":)"
                                R"(["halt_poll_success_ns","halt_poll_fail_ns"]}]})"});
  if (groups & group::balloon) {
    auto& b = live.devices.memballoon;
    if (b && b->model != "none" && !b->alias.empty())
      q.push_back({"qom-get", json{{"path", "/machine/peripheral/" + b->alias},
                                   {"property", "guest-stats"}}
                                .dump()});
  }
  if (groups & group::block) {
    q.push_back({"query-blockstats", ""});
    q.push_back({"query-named-block-nodes", R"({"flat":true})"});
  }
  if (groups & group::dirtyrate)
    q.push_back({"query-dirty-rate", ""});
  return q;
}

void running_stats(conf::stats_params& out, uint32_t groups, const xml::domain_def& live,
                   const process_facts& proc, const stats_replies& replies, bool monitor) {
  static const stats_replies none;
  const auto& r = monitor ? replies : none;
  if (groups & group::cpu_total)
    cpu_running(out, proc, r);
  if (groups & group::balloon) {
    balloon(out, live);
    if (monitor)
      balloon_guest(out, proc, r);
  }
  if (groups & group::vcpu)
    vcpus(out, live, &proc);
  if (groups & group::interface)
    out.add_uint("net.count", static_cast<uint32_t>(live.devices.interfaces.size()));
  if (groups & group::block)
    blocks_running(out, live, r);
  if (groups & group::dirtyrate)
    dirty_rate(out, r);
}

void inactive_stats(conf::stats_params& out, uint32_t groups, const xml::domain_def& def) {
  if (groups & group::cpu_total) {
    out.add_ullong("cpu.time", 0);
    out.add_ullong("cpu.user", 0);
    out.add_ullong("cpu.system", 0);
  }
  if (groups & group::balloon)
    balloon(out, def);
  if (groups & group::vcpu)
    vcpus(out, def, nullptr);
  if (groups & group::block) {
    auto& disks = def.devices.disks;
    out.add_uint("block.count", static_cast<uint32_t>(disks.size()));
    for (size_t i = 0; i < disks.size(); ++i) {
      auto p = block_prefix(i);
      out.add_string(p + "name", disks[i].target_dev);
      if (disks[i].source.empty())
        continue;
      out.add_string(p + "path", disks[i].source);
      block_inactive(out, p, disks[i]);
    }
  }
}

} // namespace virtactor::drivers::qemu
