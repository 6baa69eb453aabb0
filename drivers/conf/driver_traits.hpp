/// What distinguishes one driver's domain API from another's where the logic
/// is the same: the name its functions carry in error messages, the error
/// domain of its own file, the flags each API accepts, and its limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/error.hpp"

namespace virtactor::drivers::conf {

/// The flags each per-domain API of a driver accepts (`virCheckFlags`).
struct accepted_flags {
  uint32_t create = 0;
  uint32_t destroy = 1;  ///< GRACEFUL
  uint32_t shutdown = 0; ///< the shutdown mode flags the driver implements
  uint32_t reboot = 0;
  uint32_t reset = 0;
  uint32_t undefine = 1 | 2; ///< MANAGED_SAVE | SNAPSHOTS_METADATA
  uint32_t xml = 1 | 2 | 8;  ///< SECURE | INACTIVE | MIGRATABLE
  uint32_t set_memory = 1 | 2 | 4;
  uint32_t set_vcpus = 1 | 2 | 4;
  uint32_t get_vcpus = 1 | 2 | 4;
  uint32_t managed_save = 0;
  uint32_t snapshot_list = 0x7ff;
  uint32_t get_state = 0;
  uint32_t messages = 1 | 2; ///< DEPRECATION | TAINTING
  /// The domain filters, NOWAIT, BACKING, ENFORCE_STATS.
  uint32_t all_domain_stats = 0xff | 1u << 29 | 1u << 30 | 1u << 31;
};

/// Whose words the shared code uses where libvirt's drivers word the same
/// error differently.
enum class driver_wording : uint8_t {
  test, ///< libvirt's test driver: "Domain not found", "requested cpu amount exceeds maximum"
  qemu, ///< libvirt's qemu driver: "no domain with matching name 'x'", "requested vcpus is ..."
};

/// A driver's identity in the shared domain code.
struct driver_traits {
  /// The prefix of the driver's function names: "test" gives
  /// "testDomainCreateWithFlags" in "unsupported flags" errors.
  std::string prefix;
  /// The error domain of the driver's own file (VIR_FROM_TEST, VIR_FROM_QEMU).
  error_domain domain = error_domain::none;
  accepted_flags flags;
  driver_wording wording = driver_wording::test;
  /// The most vCPUs the connection supports (`virConnectGetMaxVcpus`), checked
  /// by SET_VCPUS(_FLAGS) before the domain lookup.
  int32_t max_vcpus = 0;
  /// The VIR_DOMAIN_STATS_* groups the driver reports (its stats workers).
  uint32_t stats_groups = 1; ///< STATE
  /// How long a bulk statistics call waits for any one domain's record
  /// before it answers with what that domain's index entry says (its state):
  /// a hung hypervisor process never stalls the other domains' records.
  std::chrono::milliseconds stats_timeout{5'000};

  /// The driver's function for `api_tail`, e.g. "DomainCreateWithFlags".
  std::string function(std::string_view api_tail) const { return prefix + std::string{api_tail}; }
};

} // namespace virtactor::drivers::conf
