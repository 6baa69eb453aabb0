/// Bulk domain statistics (CONNECT_GET_ALL_DOMAIN_STATS, libvirt's
/// `virConnectGetAllDomainStats` and `virDomainListGetStats`) on the shared
/// core: the group and flag numbers, the checks libvirt makes before it
/// collects anything, which domains a call covers, and the typed parameters
/// a record is made of. Pure code (no actors): the state actor fans a call
/// out to its domain actors, each backend adds its driver's groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/conf/domain_list.hpp"
#include "drivers/conf/domain_object.hpp"
#include "drivers/conf/driver_traits.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::drivers::conf {

/// `virDomainStatsTypes`.
namespace stats_group {
inline constexpr uint32_t state = 1;
inline constexpr uint32_t cpu_total = 2;
inline constexpr uint32_t balloon = 4;
inline constexpr uint32_t vcpu = 8;
inline constexpr uint32_t interface = 16;
inline constexpr uint32_t block = 32;
inline constexpr uint32_t perf = 64;
inline constexpr uint32_t iothread = 128;
inline constexpr uint32_t memory = 256;
inline constexpr uint32_t dirtyrate = 512;
inline constexpr uint32_t vm = 1024;
} // namespace stats_group

/// `virConnectGetAllDomainStatsFlags`: the domain filters (the low byte, the
/// same bits as VIR_CONNECT_LIST_DOMAINS_*) and the modes.
namespace stats_flag {
inline constexpr uint32_t filters = 0xff;
inline constexpr uint32_t nowait = 1u << 29;
inline constexpr uint32_t backing = 1u << 30;
inline constexpr uint32_t enforce_stats = 1u << 31;
} // namespace stats_flag

/// What one domain is asked for.
struct stats_request {
  /// The groups to report: requested, restricted to those the driver has.
  uint32_t groups = 0;
  /// NOWAIT: report only what needs no waiting on the hypervisor.
  bool nowait = false;
  /// BACKING: block statistics for backing images too.
  bool backing = false;
};

/// The typed parameters of one record, in the order they are added.
class stats_params {
public:
  using list = decltype(protocol::domain_stats_record::params);

  void add_int(std::string field, int32_t v);
  void add_uint(std::string field, uint32_t v);
  void add_llong(std::string field, int64_t v);
  void add_ullong(std::string field, uint64_t v);
  void add_string(std::string field, std::string v);

  list& items() { return items_; }
  list take() { return std::move(items_); }

private:
  list items_;
};

/// libvirt's checks of a call, in its order: the flags the driver accepts
/// (`virCheckFlags`, in the driver's `ConnectGetAllDomainStats`), then the
/// groups (`stats` 0 means every group the driver has; with ENFORCE_STATS a
/// group it lacks is "argument unsupported: Stats types bits 0x.. are not
/// supported by this daemon", else it is left out). The request each domain
/// gets, or the error.
result<stats_request> check_stats_call(const driver_traits& traits,
                                       const protocol::connect_get_all_domain_stats_args& args);

/// The domains a call covers, in reply order: with `doms`, those named that
/// still exist (as often as they are named: libvirt skips a vanished one),
/// else every domain of the index; either way only those the filter flags
/// select.
std::vector<protocol::nonnull_domain>
stats_targets(const domain_list& index, const protocol::connect_get_all_domain_stats_args& args);

/// The "state" group: `state.state`, `state.reason`.
void add_state_stats(stats_params& out, int32_t state, int32_t reason);

} // namespace virtactor::drivers::conf
