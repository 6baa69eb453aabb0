/// The host a test driver state pretends to be: node info, NUMA cells,
/// capabilities and sysinfo XML, security model, versions and host name, with
/// the values of libvirt 9.0's test driver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::drivers::test {

/// `virNodeInfo`.
struct node_info {
  std::string model = "i686";
  uint64_t memory = 3145728; ///< KiB
  int32_t cpus = 16;
  int32_t mhz = 1400;
  int32_t nodes = 2;
  int32_t sockets = 2;
  int32_t cores = 2;
  int32_t threads = 2;

  /// `VIR_NODEINFO_MAXCPUS`: nodes * sockets * cores * threads.
  int32_t max_cpus() const { return nodes * sockets * cores * threads; }

  bool operator==(const node_info&) const = default;
};

/// One CPU of a NUMA cell.
struct cell_cpu {
  int32_t id = 0;
  int32_t socket_id = 0;
  int32_t core_id = 0;
  bool operator==(const cell_cpu&) const = default;
};

/// One NUMA cell.
struct numa_cell {
  uint64_t memory = 0;   ///< KiB
  uint64_t free_mem = 0; ///< what NODE_GET_FREE_MEMORY adds up
  std::vector<cell_cpu> cpus;
  bool operator==(const numa_cell&) const = default;
};

/// The host of one test driver state.
struct node_description {
  node_info info;
  std::vector<numa_cell> cells;

  /// test:///default's host: 2 cells of 8 CPUs, 2 and 4 GiB.
  static node_description default_node();

  /// A node file's host: default node info, no NUMA cells.
  static node_description file_node();

  /// CONNECT_GET_CAPABILITIES: the capabilities XML, byte for byte as
  /// libvirt's test driver formats it.
  std::string capabilities_xml() const;

  /// NODE_GET_FREE_MEMORY: the sum of the cells' free memory (libvirt adds
  /// the KiB values and reports the sum as bytes).
  uint64_t free_memory() const;

  /// NODE_GET_CELLS_FREE_MEMORY: each cell's memory from `start` on, at most
  /// `max` of them; "Range exceeds available cells" when `start` is out of range.
  result<std::vector<uint64_t>> cells_free_memory(int32_t start, int32_t max) const;
};

/// CONNECT_GET_TYPE.
inline constexpr const char* driver_type = "TEST";
/// CONNECT_GET_VERSION: 0.0.2.
inline constexpr uint64_t hypervisor_version = 2;
/// CONNECT_GET_LIB_VERSION: libvirt 9.0.0.
inline constexpr uint64_t library_version = 9000000;
/// CONNECT_GET_MAX_VCPUS, whatever the type.
inline constexpr int32_t max_vcpus = 32;
/// NODE_GET_SECURITY_MODEL.
inline constexpr const char* security_model = "testSecurity";
inline constexpr const char* security_doi = "";
/// DOMAIN_GET_SECURITY_LABEL of an active domain (enforcing).
inline constexpr const char* security_label = "libvirt-test";
/// DOMAIN_GET_OS_TYPE, whatever the domain.
inline constexpr const char* os_type = "linux";

/// CONNECT_GET_SYSINFO.
const std::string& sysinfo_xml();

/// CONNECT_GET_HOSTNAME: the real host's name, found as libvirt's
/// `virGetHostname` finds it (a name with a dot as is, else the canonical
/// name from the resolver, else the plain name).
std::string host_name();

} // namespace virtactor::drivers::test
