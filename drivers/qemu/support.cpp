#include "drivers/qemu/support.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>

#include <pugixml.hpp>

#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::qemu::detail {

namespace {

/// An element the driver implements, by its path below `<domain>`, and the
/// attributes it takes (space-separated).
struct element_rule {
  std::string_view path;
  std::string_view attributes;
};

constexpr std::string_view address_attrs =
    "type domain bus slot function multifunction controller target unit port";

// The supported subset (docs/qemu.md). What is not here is refused.
constexpr element_rule rules[] = {
    {"", "type"},
    {"name", ""},
    {"uuid", ""},
    {"title", ""},
    {"description", ""},
    {"memory", "unit"},
    {"currentMemory", "unit"},
    // libvirt itself refuses <maxMemory> without NUMA nodes, which the driver
    // does not take: kept so that its error is libvirt's.
    {"maxMemory", "unit slots"},
    {"vcpu", "placement current"},
    {"os", ""},
    {"os/type", "arch machine"},
    {"os/boot", "dev"},
    {"features", ""},
    {"features/acpi", ""},
    {"features/apic", ""},
    {"cpu", "mode match check"},
    {"cpu/model", "fallback"},
    {"clock", "offset adjustment basis"},
    {"on_poweroff", ""},
    {"on_reboot", ""},
    {"on_crash", ""},
    {"devices", ""},
    {"devices/emulator", ""},
    {"devices/disk", "type device"},
    {"devices/disk/driver", "name type cache"},
    {"devices/disk/source", "file dev"},
    {"devices/disk/target", "dev bus"},
    {"devices/disk/readonly", ""},
    {"devices/disk/shareable", ""},
    {"devices/disk/boot", "order"},
    {"devices/disk/address", address_attrs},
    {"devices/controller", "type index model"},
    {"devices/controller/model", "name"},
    {"devices/controller/target", "chassis port"},
    {"devices/controller/address", address_attrs},
    {"devices/interface", "type"},
    {"devices/interface/mac", "address"},
    {"devices/interface/source", "network bridge"},
    {"devices/interface/target", "dev"},
    {"devices/interface/model", "type"},
    {"devices/interface/boot", "order"},
    {"devices/interface/address", address_attrs},
    {"devices/serial", "type"},
    {"devices/serial/source", "mode path"},
    {"devices/serial/target", "type port"},
    {"devices/serial/target/model", "name"},
    {"devices/console", "type"},
    {"devices/console/source", "mode path"},
    {"devices/console/target", "type port"},
    {"devices/input", "type bus"},
    {"devices/input/address", address_attrs},
    {"devices/graphics", "type port autoport listen"},
    {"devices/graphics/listen", "type address"},
    {"devices/audio", "id type"},
    {"devices/video", ""},
    {"devices/video/model", "type vram heads primary"},
    {"devices/video/address", address_attrs},
    {"devices/watchdog", "model action"},
    {"devices/watchdog/address", address_attrs},
    {"devices/memballoon", "model"},
    {"devices/memballoon/address", address_attrs},
    {"devices/rng", "model"},
    {"devices/rng/backend", "model"},
    {"devices/rng/address", address_attrs},
};

const element_rule* find_rule(std::string_view path) {
  for (const auto& r : rules)
    if (r.path == path)
      return &r;
  return nullptr;
}

bool has_word(std::string_view words, std::string_view word) {
  size_t i = 0;
  while (i < words.size()) {
    size_t end = words.find(' ', i);
    if (end == std::string_view::npos)
      end = words.size();
    if (words.substr(i, end - i) == word)
      return true;
    i = end + 1;
  }
  return false;
}

result<void> check_node(const pugi::xml_node& node, const std::string& path) {
  const auto* rule = find_rule(path);
  if (!rule)
    return not_supported("element <" + path + ">");
  for (auto a : node.attributes()) {
    std::string_view name = a.name();
    if (!has_word(rule->attributes, name))
      return not_supported("attribute '" + std::string{name} + "' of <" +
                           (path.empty() ? std::string{"domain"} : path) + ">");
  }
  for (auto child : node.children()) {
    if (child.type() != pugi::node_element)
      continue;
    VA_XML_CHECK(check_node(child, path.empty() ? child.name() : path + "/" + child.name()));
  }
  return {};
}

using names = std::initializer_list<std::string_view>;

bool one_of(std::string_view v, names list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

result<void> check_value(std::string_view what, std::string_view value, names allowed) {
  if (one_of(value, allowed))
    return {};
  return not_supported(std::string{what} + " '" + std::string{value} + "'");
}

result<void> check_disks(const xml::domain_def& def) {
  for (const auto& disk : def.devices.disks) {
    VA_XML_CHECK(check_value("disk type", disk.type, {"file", "block"}));
    VA_XML_CHECK(check_value("disk device", disk.device, {"disk", "cdrom"}));
    if (!disk.driver_name.empty())
      VA_XML_CHECK(check_value("disk driver name", disk.driver_name, {"qemu"}));
    if (!disk.driver_type.empty())
      VA_XML_CHECK(check_value("disk format", disk.driver_type, {"raw", "qcow2"}));
    if (!disk.target_bus.empty())
      VA_XML_CHECK(check_value("disk bus", disk.target_bus, {"virtio", "ide", "sata", "scsi"}));
    if (disk.device == "cdrom" && disk.target_bus == "virtio")
      return not_supported("a cdrom on bus 'virtio'");
    if (disk.address && disk.address->type == "drive" && disk.address->target != 0)
      return not_supported("disk address target '" + std::to_string(disk.address->target) + "'");
  }
  return {};
}

result<void> check_controllers(const xml::domain_def& def) {
  for (const auto& c : def.devices.controllers) {
    VA_XML_CHECK(check_value("controller type", c.type, {"usb", "pci", "ide", "sata", "scsi"}));
    if (c.model.empty())
      continue;
    if (c.type == "usb")
      VA_XML_CHECK(check_value("usb controller model", c.model, {"piix3-uhci", "qemu-xhci"}));
    else if (c.type == "scsi")
      VA_XML_CHECK(check_value("scsi controller model", c.model, {"lsilogic", "virtio-scsi"}));
    else if (c.type == "pci")
      VA_XML_CHECK(check_value("pci controller model", c.model,
                               {"pci-root", "pcie-root", "pcie-root-port", "pcie-to-pci-bridge"}));
    else
      VA_XML_CHECK(check_value(c.type + " controller model", c.model, {}));
  }
  return {};
}

result<void> check_interfaces(const xml::domain_def& def) {
  for (const auto& net : def.devices.interfaces) {
    if (!net.model.empty())
      VA_XML_CHECK(
          check_value("interface model", net.model, {"virtio", "e1000", "e1000e", "rtl8139"}));
    // A tap's name (bridge, network); a user interface has no host device.
    if (!net.target_dev.empty() && net.type == "user")
      return not_supported("interface target dev '" + net.target_dev +
                           "' on an interface of type 'user'");
  }
  return {};
}

result<void> check_chardevs(const xml::domain_def& def) {
  for (const auto& s : def.devices.serials) {
    if (!s.target_type.empty())
      VA_XML_CHECK(check_value("serial target type", s.target_type, {"isa-serial"}));
    if (!s.target_model.empty())
      VA_XML_CHECK(check_value("serial target model", s.target_model, {"isa-serial"}));
  }
  for (const auto& c : def.devices.consoles)
    VA_XML_CHECK(check_value("console target type", c.target_type, {"serial"}));
  for (const auto* list : {&def.devices.serials, &def.devices.consoles})
    for (const auto& c : *list)
      if (c.type == "unix")
        VA_XML_CHECK(check_value("unix socket mode", c.source_mode, {"bind"}));
  return {};
}

result<void> check_other_devices(const xml::domain_def& def) {
  const auto& d = def.devices;
  for (const auto& in : d.inputs) {
    if (in.type == "tablet")
      VA_XML_CHECK(check_value("tablet bus", in.bus, {"usb"}));
    else
      VA_XML_CHECK(check_value(in.type + " bus", in.bus, {"ps2", "usb"}));
  }
  for (const auto& g : d.graphics) {
    VA_XML_CHECK(check_value("graphics type", g.type, {"vnc"}));
    VA_XML_CHECK(check_value("graphics listen type", g.listen_type, {"address"}));
  }
  for (const auto& v : d.videos)
    VA_XML_CHECK(check_value("video model", v.model, {"cirrus", "vga", "virtio"}));
  for (const auto& a : d.audios)
    VA_XML_CHECK(check_value("audio type", a.type, {"none"}));
  if (d.watchdog) {
    VA_XML_CHECK(check_value("watchdog model", d.watchdog->model, {"i6300esb", "ib700"}));
    VA_XML_CHECK(check_value("watchdog action", d.watchdog->action,
                             {"reset", "shutdown", "poweroff", "pause", "none", "inject-nmi"}));
  }
  if (d.memballoon)
    VA_XML_CHECK(check_value("memballoon model", d.memballoon->model, {"virtio", "none"}));
  for (const auto& r : d.rngs) {
    VA_XML_CHECK(check_value("rng model", r.model, {"virtio"}));
    VA_XML_CHECK(check_value("rng backend model", r.backend_model, {"random"}));
  }
  return {};
}

} // namespace

virt_error not_supported(std::string_view what) {
  return xml::make_error(error_code::config_unsupported, error_domain::qemu,
                         std::string{what} + " is not supported by virtactor's qemu driver");
}

result<void> check_elements(const pugi::xml_node& domain) {
  return check_node(domain, "");
}

result<void> check_values(const xml::domain_def& def) {
  if (def.os.arch != "x86_64")
    return not_supported("guest architecture '" + def.os.arch + "'");
  VA_XML_CHECK(check_value("vcpu placement", def.vcpu.placement, {"static"}));
  for (const auto& dev : def.os.boot_devs)
    VA_XML_CHECK(check_value("boot device", dev, {"hd", "cdrom", "network"}));
  if (def.cpu) {
    // libvirt refuses this when the domain starts; it never can under TCG.
    if (def.cpu->mode == "host-passthrough" && def.type == "qemu")
      return xml::make_error(error_code::config_unsupported, error_domain::qemu,
                             "CPU mode 'host-passthrough' for " + def.os.arch +
                                 " qemu domain on x86_64 host is not supported by hypervisor");
    VA_XML_CHECK(check_value("cpu mode", def.cpu->mode, {"custom", "maximum"}));
    if (def.cpu->mode == "custom")
      VA_XML_CHECK(check_value("cpu model", def.cpu->model, {"qemu64"}));
    if (!def.cpu->check.empty())
      VA_XML_CHECK(check_value("cpu check", def.cpu->check, {"none"}));
  }
  VA_XML_CHECK(check_value("clock offset", def.clock_offset, {"utc", "localtime", "variable"}));
  if (def.clock_adjustment == "reset")
    return not_supported("clock adjustment 'reset'");
  // libvirt itself refuses coredump-* for on_poweroff and on_reboot.
  for (const auto* action : {&def.on_poweroff, &def.on_reboot})
    if (!action->starts_with("coredump-"))
      VA_XML_CHECK(check_value("lifecycle action", *action, {"destroy", "restart", "preserve"}));
  VA_XML_CHECK(check_value("on_crash action", def.on_crash, {"destroy", "restart", "preserve"}));
  VA_XML_CHECK(check_disks(def));
  VA_XML_CHECK(check_chardevs(def));
  VA_XML_CHECK(check_controllers(def));
  VA_XML_CHECK(check_interfaces(def));
  return check_other_devices(def);
}

} // namespace virtactor::drivers::qemu::detail
