#include "drivers/xml/network_xml.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::xml {

namespace {

constexpr doc_kind network_doc{"network", "(network_definition)", error_domain::network};

virt_error net_error(error_code code, std::string_view msg) {
  return make_error(code, error_domain::network, msg);
}

/// An IPv4 or IPv6 address in network byte order.
struct ip_addr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return v6 ? 16 : 4; }
};

std::optional<ip_addr> parse_ip(const std::string& text) {
  ip_addr a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1)
    return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1)
    return a;
  return std::nullopt;
}

std::string format_ip(const ip_addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

/// The prefix length of an IPv4 netmask, or nothing when not contiguous.
std::optional<uint32_t> mask_prefix(const ip_addr& mask) {
  uint32_t prefix = 0;
  bool zero_seen = false;
  for (size_t i = 0; i < 4; ++i) {
    for (int bit = 7; bit >= 0; --bit) {
      bool set = (mask.bytes[i] >> bit) & 1;
      if (set && zero_seen)
        return std::nullopt;
      if (set)
        ++prefix;
      else
        zero_seen = true;
    }
  }
  return prefix;
}

/// The prefix of an `<ip>` as libvirt's `virSocketAddrGetIPPrefix` finds it:
/// explicit, from the netmask, or classful (IPv4); nothing where it fails.
std::optional<uint32_t> ip_prefix(const network_ip& ip, const ip_addr& address) {
  if (ip.prefix)
    return ip.prefix;
  if (!ip.netmask.empty()) {
    if (auto mask = parse_ip(ip.netmask); mask && !mask->v6)
      return mask_prefix(*mask);
    return std::nullopt;
  }
  bool zero = std::all_of(address.bytes.begin(), address.bytes.begin() + address.size(),
                          [](uint8_t b) { return b == 0; });
  if (zero)
    return 0;
  if (address.v6)
    return 64;
  uint8_t first = address.bytes[0];
  if (first < 128)
    return 8;
  if (first < 192)
    return 16;
  if (first < 224)
    return 24;
  return std::nullopt;
}

bool same_network(const ip_addr& a, const ip_addr& b, uint32_t prefix) {
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t bits = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
    uint8_t mask = bits == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (b.bytes[i] & mask))
      return false;
  }
  return true;
}

int compare(const ip_addr& a, const ip_addr& b) {
  return std::memcmp(a.bytes.data(), b.bytes.data(), a.size());
}

result<ip_addr> parse_socket_addr(const std::string& text) {
  if (auto a = parse_ip(text))
    return *a;
  return make_virt_error(error_code::system_error, error_domain::none,
                         "Cannot parse socket address '" + text + "': Name or service not known");
}

result<void> check_range(const std::string& start_text, const std::string& end_text,
                         const ip_addr& first, const ip_addr& last, const ip_addr& network,
                         std::optional<uint32_t> prefix) {
  auto internal = [](std::string msg) {
    return make_error(error_code::internal_error, error_domain::none, msg);
  };
  auto start = format_ip(first), end = format_ip(last), net = format_ip(network);
  (void)start_text;
  (void)end_text;
  auto range = start + " - " + end;
  if (first.v6 != last.v6)
    return internal("mismatch of address family in range " + range);
  if (first.v6 != network.v6)
    return internal("mismatch of address family in range " + range + " for network " + net);
  int p = prefix ? static_cast<int>(*prefix) : -1;
  if (p < 0 || p > (network.v6 ? 128 : 32))
    // libvirt 9.0 prints two spaces before "checking".
    return internal("bad prefix " + std::to_string(p) + " for network " + net +
                    " when  checking range " + range);
  auto where = " network " + net + "/" + std::to_string(p);
  if (!same_network(first, network, *prefix) || !same_network(last, network, *prefix))
    return internal("range " + range + " is not entirely within" + where);
  if (!first.v6) {
    uint32_t addr = 0, lo = 0, hi = 0;
    for (int i = 0; i < 4; ++i) {
      addr = addr << 8 | network.bytes[i];
      lo = lo << 8 | first.bytes[i];
      hi = hi << 8 | last.bytes[i];
    }
    uint32_t mask = p == 0 ? 0 : ~uint32_t{0} << (32 - p);
    if (lo == (addr & mask))
      return internal("start of range " + range + " in" + where + " is the network address");
    if (hi == (addr | ~mask))
      return internal("end of range " + range + " in" + where + " is the broadcast address");
    if (first.bytes[0] != last.bytes[0] || first.bytes[1] != last.bytes[1])
      return internal("range " + range + " is too large (> 65535)");
    if (compare(first, last) > 0)
      return internal("range " + range + " is reversed ");
  } else {
    if (std::memcmp(first.bytes.data(), last.bytes.data(), 14) != 0)
      return internal("range " + range + " is too large (> 65535)");
    if (compare(first, last) > 0)
      return internal("range " + range + " start larger than end");
  }
  return {};
}

result<network_ip> parse_ip_element(pugi::xml_node node, const std::string& net) {
  network_ip ip;
  auto in_net = " in network '" + net + "'";
  auto family = attr_of(node, "family");
  ip.family = family.value_or("");
  auto address = attr_of(node, "address");
  if (!address)
    return net_error(error_code::xml_error, "Missing required address attribute" + in_net);
  auto addr = parse_ip(*address);
  if (!addr)
    return net_error(error_code::xml_error, "Invalid address '" + *address + "'" + in_net);
  ip.address = *address;
  auto mask_text = attr_of(node, "netmask");
  std::optional<ip_addr> mask;
  if (mask_text) {
    mask = parse_ip(*mask_text);
    if (!mask)
      return net_error(error_code::xml_error, "Invalid netmask '" + *mask_text + "'" + in_net);
    ip.netmask = *mask_text;
  }
  VA_XML_TRY(prefix, prop_uint(node, "prefix", 10));
  if (prefix && *prefix > 0)
    ip.prefix = prefix;
  auto unsupported = [&](std::string msg) {
    return net_error(error_code::config_unsupported, msg);
  };
  if (!family || *family == "ipv4") {
    if (addr->v6)
      return unsupported(std::string{family ? "ipv4" : "no"} +
                         " family specified for non-IPv4 address '" + *address + "'" + in_net);
    if (mask) {
      if (mask->v6)
        return unsupported("Invalid netmask '" + *mask_text + "' for address '" + *address + "'" +
                           in_net + " (both must be IPv4)");
      if (ip.prefix)
        return unsupported("Network '" + net +
                           "' IP address cannot have both a prefix and a netmask");
    } else if (ip.prefix && *ip.prefix > 32) {
      return unsupported("Invalid IPv4 prefix '" + std::to_string(*ip.prefix) + "'" + in_net);
    }
  } else if (*family == "ipv6") {
    if (!addr->v6)
      return unsupported("Family 'ipv6' specified for non-IPv6 address '" + *address + "'" +
                         in_net);
    if (mask)
      return unsupported("netmask not allowed for IPv6 address '" + *address + "'" + in_net);
    if (ip.prefix && *ip.prefix > 128)
      return unsupported("Invalid IPv6 prefix '" + std::to_string(*ip.prefix) + "'" + in_net);
  } else {
    return net_error(error_code::xml_error, "Unrecognized family '" + *family + "'" + in_net);
  }
  auto dhcp = node.child("dhcp");
  for (auto range : dhcp.children("range")) {
    auto start = attr_of(range, "start");
    if (!start)
      return net_error(error_code::xml_error,
                       "Missing 'start' attribute in dhcp range for network '" + net + "'");
    VA_XML_TRY(first, parse_socket_addr(*start));
    auto end = attr_of(range, "end");
    if (!end)
      return net_error(error_code::xml_error,
                       "Missing 'end' attribute in dhcp range for network '" + net + "'");
    VA_XML_TRY(last, parse_socket_addr(*end));
    VA_XML_CHECK(check_range(*start, *end, first, last, *addr, ip_prefix(ip, *addr)));
    ip.ranges.push_back({*start, *end});
  }
  for (auto host_node : dhcp.children("host")) {
    dhcp_host host;
    if (auto mac = attr_of(host_node, "mac")) {
      if (addr->v6)
        return net_error(error_code::xml_error, "Invalid to specify MAC address '" + *mac +
                                                    "' in network '" + net +
                                                    "' IPv6 static host definition");
      auto canonical = parse_mac(*mac);
      if (!canonical)
        return net_error(error_code::xml_error, "Cannot parse MAC address '" + *mac + "'" + in_net);
      if (mac_is_multicast(*canonical))
        return net_error(error_code::xml_error,
                         "expected unicast mac address, found multicast '" + *mac + "'" + in_net);
      // libvirt keeps the MAC as written.
      host.mac = *mac;
    }
    auto name = attr_of(host_node, "name");
    if (name && (name->empty() || !std::isalnum(static_cast<unsigned char>((*name)[0]))))
      return net_error(error_code::xml_error, "Cannot use host name '" + *name + "'" + in_net);
    host.name = name.value_or("");
    auto hip = attr_of(host_node, "ip");
    if (hip && !parse_ip(*hip))
      return net_error(error_code::xml_error,
                       "Invalid IP address in static host definition for network '" + net + "'");
    if (addr->v6 && !name)
      return net_error(error_code::xml_error, "Static host definition in IPv6 network '" + net +
                                                  "' must have id or name attribute");
    if (!addr->v6 && host.mac.empty() && !name)
      return net_error(error_code::xml_error, "Static host definition in IPv4 network '" + net +
                                                  "' must have mac or name attribute");
    if (!hip)
      return net_error(error_code::xml_error,
                       "Missing IP address in static host definition for network '" + net + "'");
    host.ip = *hip;
    ip.hosts.push_back(std::move(host));
  }
  return ip;
}

} // namespace

result<network_def> parse_network(std::string_view xml, const network_parse& opts) {
  pugi::xml_document doc;
  VA_XML_CHECK(load_document(doc, xml, network_doc));
  auto root = doc.document_element();
  network_def def;
  auto name = child_text(root, "name");
  if (!name)
    return make_virt_error(error_code::no_name, error_domain::network, "missing name information");
  if (name->find('/') != std::string::npos)
    return make_virt_error(error_code::xml_detail, error_domain::xml, "invalid char in name: /");
  def.name = *name;
  VA_XML_TRY(uuid, uuid_element(root, opts.uuid_if_absent,
                                net_error(error_code::internal_error, "malformed uuid element")));
  def.uuid = uuid;
  def.domain_name = attr_of(root.child("domain"), "name").value_or("");
  auto bridge = root.child("bridge");
  def.bridge_name = attr_of(bridge, "name").value_or("");
  auto stp = attr_of(bridge, "stp");
  def.stp = stp.value_or("") != "off";
  auto delay = attr_of(bridge, "delay");
  if (delay) {
    auto n = to_uint(*delay, 10);
    if (!n)
      return net_error(error_code::xml_error, "Invalid delay value in network '" + def.name + "'");
    def.delay = *n;
  }
  if (auto mac = attr_of(root.child("mac"), "address")) {
    auto canonical = parse_mac(*mac);
    if (!canonical)
      return net_error(error_code::xml_error,
                       "Invalid bridge mac address '" + *mac + "' in network '" + def.name + "'");
    if (mac_is_multicast(*canonical))
      return net_error(error_code::xml_error, "Invalid multicast bridge mac address '" + *mac +
                                                  "' in network '" + def.name + "'");
    def.mac = *canonical;
  }
  if (auto mtu = attr_of(root.child("mtu"), "size")) {
    auto n = to_uint(*mtu, 10);
    if (!n)
      return net_error(error_code::xml_error,
                       "Invalid mtu size '" + *mtu + "' in network '" + def.name + "'");
    def.mtu = *n;
  }
  for (auto node : root.children("ip")) {
    VA_XML_TRY(ip, parse_ip_element(node, def.name));
    def.ips.push_back(std::move(ip));
  }
  std::string mode;
  if (auto forward = root.child("forward")) {
    network_forward fwd;
    fwd.mode = attr_of(forward, "mode").value_or("nat");
    static constexpr std::string_view modes[] = {"nat",     "route", "open",        "bridge",
                                                 "private", "vepa",  "passthrough", "hostdev"};
    if (std::find(std::begin(modes), std::end(modes), fwd.mode) == std::end(modes))
      return net_error(error_code::config_unsupported,
                       "unknown forwarding type '" + fwd.mode + "'");
    if (fwd.mode == "vepa" || fwd.mode == "passthrough" || fwd.mode == "hostdev")
      return net_error(error_code::config_unsupported,
                       "forward mode '" + fwd.mode + "' is not supported by virtactor");
    fwd.dev = attr_of(forward, "dev").value_or("");
    if (fwd.dev.empty())
      fwd.dev = attr_of(forward.child("interface"), "dev").value_or("");
    mode = fwd.mode;
    def.forward = fwd;
  }
  // What the forward mode allows of the rest.
  auto in_network = " (network '" + def.name + "')";
  if (mode == "nat" || mode == "route" || mode == "open") {
    if (def.ips.empty())
      return net_error(error_code::xml_error, mode +
                                                  " forwarding requested, but no IP address "
                                                  "provided for network '" +
                                                  def.name + "'");
    if (mode == "open" && !def.forward->dev.empty())
      return net_error(error_code::xml_error, "forward dev not allowed for network '" + def.name +
                                                  "' with forward mode='open'");
  } else if (mode == "private" || mode == "bridge") {
    if (mode == "private" && !def.bridge_name.empty())
      return net_error(error_code::xml_error,
                       "bridge name not allowed in private mode" + in_network);
    if (def.delay || stp)
      return net_error(error_code::xml_error,
                       "bridge delay/stp/zone options only allowed in route, nat, and isolated "
                       "mode, not in " +
                           mode + in_network);
    if (!def.bridge_name.empty() && !def.forward->dev.empty())
      return net_error(error_code::xml_error,
                       "A network with forward mode='" + mode +
                           "' can specify a bridge name or a forward dev, but not both" +
                           in_network);
  }
  if (def.mtu && (mode == "bridge" || mode == "private"))
    return net_error(error_code::xml_error,
                     "mtu size only allowed in open, route, nat, and isolated mode, not in " +
                         mode + in_network);
  return def;
}

std::string format_network(const network_def& def, const network_format&) {
  xml_writer w;
  w.open("<network>");
  w.line("<name>" + escape(def.name) + "</name>");
  w.line("<uuid>" + format_uuid(def.uuid) + "</uuid>");
  std::string mode = def.forward ? def.forward->mode : "";
  if (def.forward) {
    std::string open = "<forward";
    if (!def.forward->dev.empty())
      open += attr("dev", def.forward->dev);
    open += attr("mode", mode);
    if (def.forward->dev.empty()) {
      w.line(open + "/>");
    } else {
      w.open(open + ">");
      w.line("<interface" + attr("dev", def.forward->dev) + "/>");
      w.close("</forward>");
    }
  }
  bool managed_bridge = mode.empty() || mode == "nat" || mode == "route" || mode == "open";
  if (managed_bridge || !def.bridge_name.empty()) {
    std::string bridge = "<bridge";
    if (!def.bridge_name.empty())
      bridge += attr("name", def.bridge_name);
    if (managed_bridge)
      bridge += attr("stp", def.stp ? "on" : "off") + attr("delay", std::to_string(def.delay));
    w.line(bridge + "/>");
  }
  if (def.mtu)
    w.line("<mtu" + attr("size", std::to_string(def.mtu)) + "/>");
  if (!def.mac.empty())
    w.line("<mac" + attr("address", def.mac) + "/>");
  if (!def.domain_name.empty())
    w.line("<domain" + attr("name", def.domain_name) + "/>");
  for (const auto& ip : def.ips) {
    std::string open = "<ip";
    if (!ip.family.empty())
      open += attr("family", ip.family);
    open += attr("address", ip.address);
    if (!ip.netmask.empty())
      open += attr("netmask", ip.netmask);
    if (ip.prefix && *ip.prefix > 0)
      open += attr("prefix", std::to_string(*ip.prefix));
    // libvirt always writes <ip> with a body, even an empty one.
    w.open(open + ">");
    if (!ip.ranges.empty() || !ip.hosts.empty()) {
      w.open("<dhcp>");
      for (const auto& r : ip.ranges)
        w.line("<range" + attr("start", r.start) + attr("end", r.end) + "/>");
      for (const auto& h : ip.hosts) {
        std::string host = "<host";
        if (!h.mac.empty())
          host += attr("mac", h.mac);
        if (!h.name.empty())
          host += attr("name", h.name);
        host += attr("ip", h.ip);
        w.line(host + "/>");
      }
      w.close("</dhcp>");
    }
    w.close("</ip>");
  }
  w.close("</network>");
  return std::move(w).str();
}

} // namespace virtactor::drivers::xml
