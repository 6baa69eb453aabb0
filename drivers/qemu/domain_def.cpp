#include "drivers/qemu/domain_def.hpp"

#include <algorithm>
#include <cstdio>

#include <pugixml.hpp>

#include "drivers/qemu/addresses.hpp"
#include "drivers/qemu/support.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::qemu {

namespace {

using detail::is_q35;
using detail::not_supported;

constexpr xml::doc_kind domain_doc{"domain", "(domain_definition)", error_domain::domain};

virt_error unsupported_config(std::string msg) {
  return xml::make_error(error_code::config_unsupported, error_domain::qemu, msg);
}

bool is_i440fx(std::string_view machine) {
  return machine == "pc" || machine.starts_with("pc-i440fx-");
}

void add_controller(xml::domain_def& def, const std::string& type, const std::string& model) {
  auto& list = def.devices.controllers;
  if (std::any_of(list.begin(), list.end(),
                  [&](const xml::controller_def& c) { return c.type == type && c.index == 0; }))
    return;
  xml::controller_def c;
  c.type = type;
  c.model = model;
  list.push_back(std::move(c));
}

void add_input(xml::domain_def& def, const std::string& type, const std::string& bus) {
  auto& list = def.devices.inputs;
  if (std::any_of(list.begin(), list.end(),
                  [&](const xml::input_def& in) { return in.type == type && in.bus == bus; }))
    return;
  xml::input_def in;
  in.type = type;
  in.bus = bus;
  list.push_back(std::move(in));
}

result<void> check_guest(const xml::domain_def& def, const emulator_facts& emulator);

/// The machine of the document, resolved; refuses machines outside i440fx and q35.
result<void> resolve_machine(xml::domain_def& def, const emulator_facts& emulator) {
  if (def.os.machine.empty()) {
    def.os.machine = emulator.default_machine();
    return {};
  }
  auto full = emulator.resolve_machine(def.os.machine);
  if (!full.empty()) {
    if (!is_i440fx(full) && !full.starts_with("pc-q35-"))
      return not_supported("machine type '" + def.os.machine + "'");
    def.os.machine = full;
    return {};
  }
  if (is_i440fx(def.os.machine) || def.os.machine.starts_with("pc-q35-"))
    return not_supported("machine type '" + def.os.machine + "'");
  // Unknown to the emulator: libvirt adds no PCI root for it, and its address
  // assignment refuses the domain later ("No PCI buses available").
  return {};
}

/// libvirt's qemu post-parse (qemuDomainDefPostParse and friends): runs before
/// the generic defaults and implicit devices.
result<void> post_parse(xml::domain_def& def, const emulator_facts& emulator) {
  // libvirt looks the guest up in the emulator's capabilities first.
  VA_XML_CHECK(check_guest(def, emulator));
  auto& d = def.devices;
  if (d.emulator.empty())
    d.emulator = emulator.path;
  VA_XML_CHECK(resolve_machine(def, emulator));
  bool q35 = is_q35(def);
  bool known = q35 || is_i440fx(def.os.machine);
  // Input buses are known at parse time in libvirt.
  for (auto& in : d.inputs)
    if (in.bus.empty())
      in.bus = in.type == "tablet" ? "usb" : "ps2";
  if (known) {
    add_controller(def, "usb", "");
    if (q35)
      add_controller(def, "sata", "");
    add_controller(def, "pci", q35 ? "pcie-root" : "pci-root");
  }
  for (auto& c : d.controllers)
    if (c.type == "usb" && c.model.empty())
      c.model = q35 ? "qemu-xhci" : "piix3-uhci";
  add_input(def, "mouse", "ps2");
  add_input(def, "keyboard", "ps2");
  if (d.audios.empty())
    d.audios.push_back(xml::audio_def{});
  if (!d.memballoon) {
    xml::memballoon_def balloon;
    balloon.model = "virtio";
    d.memballoon = balloon;
  }
  if (!def.cpu) {
    xml::domain_cpu cpu;
    cpu.mode = "custom";
    cpu.match = "exact";
    cpu.model = "qemu64";
    cpu.model_fallback = "forbid";
    def.cpu = cpu;
  }
  if (def.cpu->check.empty())
    def.cpu->check = "none";
  return {};
}

/// The virtualization and OS types the emulator offers.
result<void> check_guest(const xml::domain_def& def, const emulator_facts& emulator) {
  if (def.type != "qemu" && !(def.type == "kvm" && emulator.kvm))
    return unsupported_config("Emulator '" + emulator.path + "' does not support virt type '" +
                              def.type + "'");
  if (def.os.type != "hvm")
    return unsupported_config("Emulator '" + emulator.path + "' does not support os type '" +
                              def.os.type + "'");
  return {};
}

/// libvirt's qemu validation of the domain as a whole (qemu_validate.c).
result<void> validate(const xml::domain_def& def) {
  if (def.memory.hotplug_max_kib)
    return unsupported_config(
        "At least one numa node has to be configured when enabling memory hotplug");
  if (def.on_reboot == "preserve" || def.on_poweroff == "preserve")
    return unsupported_config("qemu driver doesn't support the 'preserve' action for "
                              "'on_reboot'/'on_poweroff'");
  if (def.on_reboot == "destroy" && def.on_poweroff == "restart")
    return unsupported_config("qemu driver doesn't support 'onReboot' set to 'destroy and "
                              "'onPoweroff' set to 'reboot'");
  for (const auto& c : def.devices.controllers) {
    if (c.type != "ide")
      continue;
    if (is_q35(def))
      return unsupported_config(
          "IDE controllers are unsupported for this QEMU binary or machine type");
    if (c.index != 0)
      return xml::make_error(error_code::internal_error, error_domain::qemu,
                             "Only 1 IDE controller is supported");
  }
  return {};
}

/// libvirt's qemu device post-parse defaults.
void device_defaults(xml::domain_def& def) {
  auto& d = def.devices;
  for (auto& disk : d.disks) {
    if (disk.driver_name.empty())
      disk.driver_name = "qemu";
    if (disk.driver_type.empty())
      disk.driver_type = "raw";
  }
  for (auto& c : d.controllers)
    if (c.type == "scsi" && c.model.empty())
      c.model = "lsilogic";
  for (auto& net : d.interfaces)
    if (net.model.empty())
      net.model = "rtl8139";
  for (auto& s : d.serials) {
    if (s.target_type.empty())
      s.target_type = "isa-serial";
    if (s.target_model.empty())
      s.target_model = "isa-serial";
  }
}

result<void> finish(xml::domain_def& def, const emulator_facts& emulator) {
  (void)emulator;
  VA_XML_CHECK(validate(def));
  VA_XML_CHECK(detail::check_values(def));
  device_defaults(def);
  return detail::assign_addresses(def);
}

std::string disk_alias(const xml::domain_def& def, const xml::disk_def& disk) {
  char buf[64];
  if (disk.target_bus == "virtio") {
    // The index of the name: vda -> 0, vdz -> 25, vdaa -> 26.
    std::string_view name = disk.target_dev;
    for (std::string_view prefix : {"xvd", "ubd", "fd", "hd", "vd", "sd"})
      if (name.starts_with(prefix)) {
        name.remove_prefix(prefix.size());
        break;
      }
    int index = 0;
    for (char c : name) {
      if (c < 'a' || c > 'z')
        break;
      index = index * 26 + (c - 'a') + 1;
    }
    std::snprintf(buf, sizeof buf, "virtio-disk%d", index - 1);
    return buf;
  }
  if (!disk.address)
    return {};
  const auto& a = *disk.address;
  if (disk.target_bus == "scsi") {
    bool virtio_scsi = std::any_of(def.devices.controllers.begin(), def.devices.controllers.end(),
                                   [&](const xml::controller_def& c) {
                                     return c.type == "scsi" && c.index == a.controller &&
                                            c.model == "virtio-scsi";
                                   });
    if (virtio_scsi)
      std::snprintf(buf, sizeof buf, "scsi%u-%u-%u-%u", a.controller, a.bus, a.target, a.unit);
    else
      std::snprintf(buf, sizeof buf, "scsi%u-%u-%u", a.controller, a.bus, a.unit);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%s%u-%u-%u", disk.target_bus.c_str(), a.controller, a.bus,
                a.unit);
  return buf;
}

std::string controller_alias(const xml::domain_def& def, const xml::controller_def& c) {
  auto n = std::to_string(c.index);
  if (c.type == "pci")
    return c.model == "pcie-root" ? "pcie.0" : "pci." + n;
  if (c.type == "sata" && c.index == 0 && is_q35(def))
    return "ide"; // the ICH9 AHCI controller QEMU builds in
  if ((c.type == "usb" || c.type == "ide") && c.index == 0)
    return c.type;
  return c.type + n;
}

} // namespace

emulator_facts emulator_facts::qemu_7_2() {
  emulator_facts f;
  f.machines = {{"pc-i440fx-7.2", "pc", true}, {"pc-q35-7.2", "q35", false}};
  return f;
}

std::string emulator_facts::resolve_machine(std::string_view machine) const {
  for (const auto& m : machines)
    if (m.name == machine || (!m.alias.empty() && m.alias == machine))
      return m.name;
  return {};
}

std::string emulator_facts::default_machine() const {
  for (const auto& m : machines)
    if (m.is_default)
      return m.name;
  return machines.empty() ? std::string{"pc-i440fx-7.2"} : machines.front().name;
}

xml::domain_parse parse_options(const emulator_facts& emulator) {
  xml::domain_parse opts;
  opts.default_arch = "x86_64";
  opts.extended_subset = true;
  opts.post_parse = [&emulator](xml::domain_def& def) { return post_parse(def, emulator); };
  opts.finish = [&emulator](xml::domain_def& def) { return finish(def, emulator); };
  return opts;
}

result<xml::domain_def> parse_domain(std::string_view xml, const emulator_facts& emulator) {
  pugi::xml_document doc;
  VA_XML_CHECK(xml::load_document(doc, xml, domain_doc));
  VA_XML_CHECK(detail::check_elements(doc.document_element()));
  return xml::parse_domain(xml, parse_options(emulator));
}

result<void> check_startable(const xml::domain_def& def, const emulator_facts& emulator) {
  if (def.type == "kvm" && !emulator.kvm)
    return unsupported_config("Emulator '" + emulator.path + "' does not support virt type 'kvm'");
  return {};
}

xml::domain_def live_definition(const xml::domain_def& def, const start_facts& facts) {
  auto live = def;
  live.resource_partition = facts.resource_partition;
  live.seclabel = facts.seclabel;
  // QEMU gets whole MiB (libvirt aligns the size to 1 MiB on x86).
  live.memory.max_kib = (live.memory.max_kib + 1023) / 1024 * 1024;
  if (live.clock_offset == "variable" && live.clock_basis == "localtime") {
    auto adjustment = std::stoll(live.clock_adjustment.empty() ? "0" : live.clock_adjustment);
    live.clock_adjustment = std::to_string(adjustment + facts.utc_offset);
    live.clock_basis = "utc";
  }
  for (auto& g : live.devices.graphics)
    if (g.listen.empty()) {
      g.listen = facts.vnc_listen;
      g.listen_type = "address";
    }
  // Under TCG QEMU's qemu64 has two features libvirt's model lacks; libvirt
  // reads them back and pins them.
  if (live.type == "qemu" && live.cpu && live.cpu->mode == "custom" &&
      live.cpu->model == "qemu64") {
    live.cpu->check = "full";
    live.cpu->model_fallback = "forbid";
    live.cpu->features = {{"require", "hypervisor"}, {"require", "lahf_lm"}};
  }
  auto& d = live.devices;
  for (size_t i = 0; i < d.disks.size(); ++i) {
    auto& disk = d.disks[i];
    disk.alias = disk_alias(live, disk);
    // libvirt numbers the disks' storage from the last one.
    disk.source_index = static_cast<uint32_t>(d.disks.size() - i);
    if (disk.source.empty())
      disk.driver_type.clear();
  }
  for (auto& c : d.controllers)
    c.alias = controller_alias(live, c);
  for (size_t i = 0; i < d.interfaces.size(); ++i)
    d.interfaces[i].alias = "net" + std::to_string(i);
  for (size_t i = 0; i < d.serials.size(); ++i)
    d.serials[i].alias = "serial" + std::to_string(i);
  for (size_t i = 0; i < d.consoles.size(); ++i)
    d.consoles[i].alias = "console" + std::to_string(i);
  for (size_t i = 0; i < d.inputs.size(); ++i)
    d.inputs[i].alias = "input" + std::to_string(i);
  for (size_t i = 0; i < d.videos.size(); ++i)
    d.videos[i].alias = "video" + std::to_string(i);
  if (d.watchdog)
    d.watchdog->alias = "watchdog0";
  if (d.memballoon && d.memballoon->model != "none")
    d.memballoon->alias = "balloon0";
  for (size_t i = 0; i < d.rngs.size(); ++i)
    d.rngs[i].alias = "rng" + std::to_string(i);
  return live;
}

std::string chardev_id(std::string_view alias) {
  return "char" + std::string{alias};
}

void set_chardev_paths(xml::domain_def& live, const std::map<std::string, std::string>& chardevs) {
  for (auto& s : live.devices.serials) {
    if (s.type != "pty")
      continue;
    auto it = chardevs.find(chardev_id(s.alias));
    if (it != chardevs.end() && it->second.starts_with("pty:"))
      s.source_path = it->second.substr(4);
  }
}

} // namespace virtactor::drivers::qemu
