/// The network XML model: the supported subset of libvirt's `<network>` document,
/// parsed into `network_def` and formatted back as libvirt prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/xml/uuid.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::xml {

/// `<forward mode='nat|route|open|bridge' dev='...'/>`.
struct network_forward {
  std::string mode = "nat";
  std::string dev; ///< empty: not printed

  bool operator==(const network_forward&) const = default;
};

/// `<range start='...' end='...'/>` inside `<dhcp>`.
struct dhcp_range {
  std::string start;
  std::string end;

  bool operator==(const dhcp_range&) const = default;
};

/// `<host mac='...' name='...' ip='...'/>` inside `<dhcp>`.
struct dhcp_host {
  std::string mac;
  std::string name;
  std::string ip;

  bool operator==(const dhcp_host&) const = default;
};

/// `<ip address='...' netmask='...'|prefix='N' family='ipv4|ipv6'>`.
struct network_ip {
  std::string family; ///< empty (ipv4 implied), "ipv4" or "ipv6"
  std::string address;
  std::string netmask; ///< empty: not printed
  std::optional<uint32_t> prefix;
  std::vector<dhcp_range> ranges;
  std::vector<dhcp_host> hosts;

  bool operator==(const network_ip&) const = default;
};

/// A parsed, validated network definition.
struct network_def {
  std::string name;
  xdr::uuid uuid{};
  std::optional<network_forward> forward; ///< none: an isolated network
  std::string bridge_name;                ///< empty: not printed
  bool stp = true;
  uint32_t delay = 0;
  uint32_t mtu = 0;        ///< `<mtu size=...>`; 0: not printed
  std::string mac;         ///< `<mac address=...>`; empty: not printed
  std::string domain_name; ///< `<domain name=...>`; empty: not printed
  std::vector<network_ip> ips;

  bool operator==(const network_def&) const = default;
};

/// How to parse: what to fill in that the document leaves out.
struct network_parse {
  /// The UUID to use when the document has none; a random one when empty.
  std::optional<xdr::uuid> uuid_if_absent;
};

/// How to print a network.
struct network_format {
  bool inactive = false; ///< VIR_NETWORK_XML_INACTIVE
};

/// Parses and validates `xml`; errors carry libvirt's code, domain and message.
result<network_def> parse_network(std::string_view xml, const network_parse& opts = {});

/// Prints `def` as `virsh net-dumpxml` does, ending with a newline.
std::string format_network(const network_def& def, const network_format& opts = {});

} // namespace virtactor::drivers::xml
