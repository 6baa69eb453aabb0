/// The qemu driver's bulk statistics (libvirt 9.0's `qemuDomainGetStats*`
/// workers): which QMP queries a request needs, what /proc tells without the
/// monitor, and the typed parameters built from both, in libvirt's order and
/// with its field names, types and units. Pure code: the domain backend runs
/// the queries and reads /proc; the parameters come from here.
///
/// What needs the monitor (QMP) and what does not follows libvirt's split
/// between stats taken with the domain's job and without it, so that a
/// domain whose QEMU does not answer (or NOWAIT while a command is pending)
/// gives the same fields libvirt gives when it cannot get the job:
///
/// | group | without the monitor | with its answers |
/// |---|---|---|
/// | cpu-total | cpu.time/user/system (/proc), cpu.cache.monitor.count | + cpu.haltpoll.success.time/fail.time (`query-stats`) |
/// | balloon | balloon.current, balloon.maximum | + the guest's memory stats, last-update (`qom-get guest-stats`), rss (/proc) |
/// | vcpu | vcpu.current/maximum, vcpu.N.state/time/wait/delay (/proc, the vCPU threads by name) | |
/// | interface | net.count | |
/// | block | block.count, block.N.name/path/backingIndex | + rd/wr/fl counters (`query-blockstats`), allocation, capacity, physical (`query-named-block-nodes`) |
/// | dirtyrate | | dirtyrate.calc_* (`query-dirty-rate`) |
/// | perf, iothread, memory, vm | empty | empty |
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "drivers/conf/domain_stats.hpp"
#include "drivers/xml/domain_xml.hpp"

namespace virtactor::drivers::qemu {

/// The stats groups of the qemu driver: all eleven of libvirt 9.0's. perf,
/// iothread and memory (resctrl) stay empty: the driver refuses the XML that
/// would configure them; vm stays empty (QEMU's `query-stats` for the vm
/// target gives nothing under TCG).
inline constexpr uint32_t qemu_stats_groups = 0x7ff;

/// What the QEMU process tells without the monitor (/proc).
struct process_facts {
  uint64_t cpu_user_ns = 0;
  uint64_t cpu_system_ns = 0;
  uint64_t rss_kib = 0;
  struct vcpu_thread {
    uint64_t time_ns = 0;  ///< user + system time of the vCPU thread
    uint64_t wait_ns = 0;  ///< se.statistics.wait_sum (0 without schedstats)
    uint64_t delay_ns = 0; ///< run delay (schedstat)
  };
  /// By vCPU index: QEMU names its vCPU threads "CPU N/TCG" (or /KVM)
  /// with debug-threads=on; a vCPU whose thread is not found is absent.
  std::map<uint32_t, vcpu_thread> vcpus;
};

/// Reads the facts of process `pid` (missing files give zeros).
process_facts read_process_facts(int32_t pid);

/// The CPU time of process `pid` alone (user + system, ns): one /proc read.
uint64_t process_cpu_ns(int32_t pid);

/// One QMP query: command and arguments (JSON text, empty: none).
struct stats_query {
  std::string command;
  std::string arguments;
};

/// The queries a request for `groups` needs on running domain `live`.
std::vector<stats_query> stats_queries(uint32_t groups, const xml::domain_def& live);

/// The `return` values (JSON text) of the queries that answered, by command.
using stats_replies = std::map<std::string, std::string>;

/// The parameters of a running domain (after `state`, which the core adds).
/// `monitor`: the monitor served this request (libvirt: the job was taken);
/// false gives the fields libvirt gives without the job, whatever `replies`.
void running_stats(conf::stats_params& out, uint32_t groups, const xml::domain_def& live,
                   const process_facts& proc, const stats_replies& replies, bool monitor);

/// The parameters of an inactive domain from its definition and its disk
/// images (qcow2 header and file sizes, as libvirt reads them). The CPU time
/// of a domain that does not run is 0 (libvirt 9.0 reports its daemon's own
/// there).
void inactive_stats(conf::stats_params& out, uint32_t groups, const xml::domain_def& def);

} // namespace virtactor::drivers::qemu
