#include "drivers/qemu/addresses.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "drivers/qemu/support.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::qemu::detail {

namespace {

// What a bus accepts and what a device needs (libvirt's connect flags).
enum flag : unsigned {
  pci_device = 1u << 0,
  pcie_device = 1u << 1,
  root_port = 1u << 2,
  pcie_to_pci_bridge = 1u << 3,
  pci_bridge = 1u << 4,
  dmi_to_pci_bridge = 1u << 5,
  hotplug = 1u << 6,
  autoassign = 1u << 7,
  aggregate_slot = 1u << 8,
};
constexpr unsigned types_mask =
    pci_device | pcie_device | root_port | pcie_to_pci_bridge | pci_bridge | dmi_to_pci_bridge;

constexpr unsigned pci_flags = pci_device | hotplug | autoassign;
constexpr unsigned pcie_flags = pcie_device | hotplug | autoassign;

struct slot_state {
  uint8_t functions = 0; ///< bit N: function N in use
  bool aggregate = false;
};

struct bus {
  std::string model;
  unsigned flags = 0;
  uint32_t min_slot = 0;
  uint32_t max_slot = 31;
  std::array<slot_state, 32> slots{};
};

bus make_bus(const std::string& model) {
  bus b;
  b.model = model;
  if (model == "pci-root") {
    b.flags = autoassign | pci_device | pci_bridge | hotplug;
    b.min_slot = 1;
  } else if (model == "pcie-root") {
    b.flags = pcie_device | root_port | dmi_to_pci_bridge;
    b.min_slot = 1;
  } else if (model == "pcie-root-port") {
    b.flags = autoassign | pcie_device | pcie_to_pci_bridge | hotplug;
    b.max_slot = 0;
  } else if (model == "pcie-to-pci-bridge") {
    b.flags = autoassign | pci_device | pci_bridge | hotplug;
    b.min_slot = 1;
  }
  return b;
}

std::string address_string(uint32_t bus_nr, uint32_t slot, uint32_t function) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0000:%02x:%02x.%x", bus_nr, slot, function);
  return buf;
}

/// A device that lives on PCI, with what it needs.
struct pci_user {
  std::optional<xml::device_address>* address;
  unsigned flags;
};

bool wanted(const std::optional<xml::device_address>& a) {
  return !a || (a->type == "pci" && a->domain == 0 && a->bus == 0 && a->slot == 0);
}

class address_set {
public:
  address_set(std::vector<bus> buses, bool dry_run, bool q35)
      : buses_(std::move(buses)), dry_run_(dry_run), q35_(q35) {}

  size_t size() const { return buses_.size(); }
  const bus& at(size_t i) const { return buses_[i]; }

  /// Reserves an address the definition gives (libvirt's "from config").
  result<void> reserve_given(const xml::device_address& a, unsigned flags) {
    auto where = address_string(a.bus, a.slot, a.function);
    auto xml_error = [](const std::string& msg) {
      return xml::make_error(error_code::xml_error, error_domain::domain, msg);
    };
    if (a.domain != 0)
      return xml_error("Invalid PCI address " + where + ". Only PCI domain 0 is available");
    // libvirt adds the pci-bridges a given bus number needs; not built here.
    if (a.bus >= buses_.size())
      return not_supported("PCI address " + where + " on a bus the domain does not have");
    auto& b = buses_[a.bus];
    unsigned bus_flags = b.flags;
    // Devices integrated in a PCIe root complex (the q35 SATA controller, the
    // primary video) are not hotpluggable.
    if (b.model == "pcie-root")
      flags &= ~unsigned{hotplug};
    // Given addresses may put a PCI device in a PCIe slot and back.
    if (bus_flags & (pci_device | pcie_device))
      bus_flags |= pci_device | pcie_device;
    if ((flags & hotplug) && !(b.flags & hotplug))
      return xml_error("The device at PCI address " + where +
                       " requires hotplug capability, but the PCI controller with index='" +
                       std::to_string(a.bus) + "' doesn't support hotplug");
    if (!(flags & bus_flags & types_mask))
      return xml_error("The device at PCI address " + where +
                       " cannot be plugged into the PCI controller with index='" +
                       std::to_string(a.bus) + "'");
    if (b.min_slot && a.slot < b.min_slot)
      return xml_error("Invalid PCI address " + where +
                       ". slot must be >= " + std::to_string(b.min_slot));
    if (a.slot > b.max_slot)
      return xml_error("Invalid PCI address " + where +
                       ". slot must be <= " + std::to_string(b.max_slot));
    auto& s = b.slots[a.slot];
    if (s.functions & (1u << a.function))
      return xml_error("Attempted double use of PCI Address " + where);
    if (!s.functions && (flags & aggregate_slot))
      s.aggregate = true;
    s.functions |= static_cast<uint8_t>(1u << a.function);
    return {};
  }

  /// Marks an address as taken without checks (chipset functions).
  void mark(uint32_t bus_nr, uint32_t slot, uint32_t function) {
    buses_[bus_nr].slots[slot].functions |= static_cast<uint8_t>(1u << function);
  }

  bool slot_in_use(uint32_t bus_nr, uint32_t slot) const {
    return buses_[bus_nr].slots[slot].functions != 0;
  }

  /// Finds and reserves the next free address for `flags` (growing the
  /// topology in a dry run), or fails.
  result<xml::device_address> reserve_next(unsigned flags) {
    for (uint32_t b = 0; b < buses_.size(); ++b) {
      auto& bs = buses_[b];
      if (!compatible(bs.flags, flags))
        continue;
      for (uint32_t slot = bs.min_slot; slot <= bs.max_slot; ++slot) {
        auto& s = bs.slots[slot];
        if (s.functions == 0)
          return take(b, slot, 0, flags);
        if ((flags & aggregate_slot) && s.aggregate)
          for (uint32_t fn = 0; fn < 8; ++fn)
            if (!(s.functions & (1u << fn)))
              return take(b, slot, fn, flags);
      }
    }
    if (!dry_run_)
      return xml::make_error(error_code::internal_error, error_domain::domain,
                             "No more available PCI slots");
    VA_XML_TRY(b, grow(flags));
    return take(b, buses_[b].min_slot, 0, flags);
  }

  /// The buses added by growing, with their models.
  std::vector<bus> release() && { return std::move(buses_); }

private:
  static bool compatible(unsigned bus_flags, unsigned dev_flags) {
    if ((dev_flags & autoassign) && !(bus_flags & autoassign))
      return false;
    if ((dev_flags & hotplug) && !(bus_flags & hotplug))
      return false;
    return (dev_flags & bus_flags & types_mask) != 0;
  }

  xml::device_address take(uint32_t b, uint32_t slot, uint32_t fn, unsigned flags) {
    auto& s = buses_[b].slots[slot];
    if (!s.functions && (flags & aggregate_slot))
      s.aggregate = true;
    s.functions |= static_cast<uint8_t>(1u << fn);
    xml::device_address a;
    a.type = "pci";
    a.bus = b;
    a.slot = slot;
    a.function = fn;
    return a;
  }

  result<uint32_t> grow(unsigned flags) {
    auto first = static_cast<uint32_t>(buses_.size());
    if (flags & pci_device) {
      bool has_bridge_slot = std::any_of(buses_.begin(), buses_.end(),
                                         [](const bus& b) { return b.flags & pci_bridge; });
      if (has_bridge_slot || !q35_)
        // A pci-bridge: libvirt adds one when pci.0 is full. Not built here.
        return not_supported("a guest with more PCI devices than its PCI buses hold");
      // A pcie-root-port that takes only the pcie-to-pci-bridge, then the bridge.
      auto port = make_bus("pcie-root-port");
      port.flags = pcie_to_pci_bridge;
      buses_.push_back(port);
      buses_.push_back(make_bus("pcie-to-pci-bridge"));
      return first + 1;
    }
    if (flags & pcie_device) {
      buses_.push_back(make_bus("pcie-root-port"));
      return first;
    }
    return xml::make_error(error_code::internal_error, error_domain::qemu,
                           "Cannot automatically add a new PCI bus for a device");
  }

  std::vector<bus> buses_;
  bool dry_run_;
  bool q35_;
};

const xml::controller_def* find_controller(const xml::domain_def& def, const std::string& type,
                                           uint32_t index) {
  for (const auto& c : def.devices.controllers)
    if (c.type == type && c.index == index)
      return &c;
  return nullptr;
}

/// The devices on PCI in libvirt's assignment order, with their flags.
std::vector<pci_user> pci_devices(xml::domain_def& def) {
  bool pcie = is_q35(def);
  unsigned virtio = pcie ? pcie_flags : pci_flags;
  unsigned express = pcie ? pcie_flags : pci_flags;
  auto& d = def.devices;
  std::vector<pci_user> out;
  for (auto& c : d.controllers) {
    if (c.type != "pci" || c.model == "pci-root" || c.model == "pcie-root")
      continue;
    out.push_back({&c.address, c.model == "pcie-root-port" ? (root_port | aggregate_slot)
                                                           : unsigned{pcie_to_pci_bridge}});
  }
  for (auto& net : d.interfaces)
    out.push_back({&net.address, net.model == "virtio"   ? virtio
                                 : net.model == "e1000e" ? express
                                                         : pci_flags});
  for (auto& c : d.controllers) {
    if (c.type == "pci" || (c.type == "ide" && c.index == 0))
      continue;
    unsigned flags = pci_flags;
    if (c.type == "usb" && c.model == "qemu-xhci")
      flags = express;
    else if (c.type == "scsi" && c.model == "virtio-scsi")
      flags = virtio;
    else if (c.type == "sata")
      flags = express;
    out.push_back({&c.address, flags});
  }
  for (auto& disk : d.disks)
    if (disk.target_bus == "virtio")
      out.push_back({&disk.address, virtio});
  if (d.memballoon && d.memballoon->model != "none")
    out.push_back({&d.memballoon->address, virtio});
  for (auto& r : d.rngs)
    out.push_back({&r.address, virtio});
  if (d.watchdog && d.watchdog->model == "i6300esb")
    out.push_back({&d.watchdog->address, pci_flags});
  for (auto& v : d.videos)
    if (v.model != "none")
      out.push_back({&v.address, v.model == "virtio" ? virtio : pci_flags});
  return out;
}

/// The chipset's own functions and the fixed addresses libvirt gives.
result<void> reserve_chipset(xml::domain_def& def, address_set& addrs) {
  auto& d = def.devices;
  auto place = [&](std::optional<xml::device_address>& address, uint32_t slot, uint32_t function) {
    xml::device_address a;
    a.type = "pci";
    a.slot = slot;
    a.function = function;
    addrs.mark(0, slot, function);
    address = a;
  };
  auto primary_video = [&](uint32_t slot) -> result<void> {
    if (d.videos.empty() || d.videos[0].model == "none" || !wanted(d.videos[0].address))
      return {};
    if (addrs.slot_in_use(0, slot)) {
      VA_XML_TRY(a, addrs.reserve_next(pci_flags));
      d.videos[0].address = a;
    } else {
      place(d.videos[0].address, slot, 0);
    }
    return {};
  };
  if (is_q35(def)) {
    for (auto& c : d.controllers)
      if (c.type == "sata" && c.index == 0 && wanted(c.address))
        place(c.address, 0x1f, 2);
    if (!addrs.slot_in_use(0, 0x1f))
      addrs.mark(0, 0x1f, 0); // LPC bridge
    return primary_video(1);
  }
  for (auto& c : d.controllers) {
    if (c.type == "ide" && c.index == 0 && wanted(c.address))
      place(c.address, 1, 1);
    if (c.type == "usb" && c.index == 0 && c.model == "piix3-uhci" && wanted(c.address))
      place(c.address, 1, 2);
  }
  if (!addrs.slot_in_use(0, 1) || !(addrs.at(0).slots[1].functions & 1))
    addrs.mark(0, 1, 0); // PIIX3 ISA bridge
  return primary_video(2);
}

/// The buses of the definition's pci controllers, by index.
result<std::vector<bus>> buses_of(const xml::domain_def& def) {
  int max_index = -1;
  for (const auto& c : def.devices.controllers)
    if (c.type == "pci")
      max_index = std::max(max_index, static_cast<int>(c.index));
  std::vector<bus> buses;
  for (int i = 0; i <= max_index; ++i) {
    const auto* c = find_controller(def, "pci", static_cast<uint32_t>(i));
    if (!c)
      return not_supported("a gap in pci controller indexes (no index " + std::to_string(i) + ")");
    buses.push_back(make_bus(c->model));
  }
  return buses;
}

result<address_set> collect(xml::domain_def& def, std::vector<bus> buses, bool dry_run) {
  address_set addrs{std::move(buses), dry_run, is_q35(def)};
  if (addrs.size() == 0)
    return xml::make_error(error_code::xml_error, error_domain::domain, "No PCI buses available");
  for (auto& dev : pci_devices(def)) {
    auto& a = *dev.address;
    if (!a || wanted(a))
      continue;
    if (a->type != "pci")
      continue;
    VA_XML_CHECK(addrs.reserve_given(*a, dev.flags));
  }
  VA_XML_CHECK(reserve_chipset(def, addrs));
  return addrs;
}

result<void> check_address_types(xml::domain_def& def) {
  for (const auto& disk : def.devices.disks)
    if (disk.target_bus == "virtio" && disk.address && disk.address->type != "pci")
      return xml::make_error(error_code::config_unsupported, error_domain::qemu,
                             "virtio disk cannot have an address of type '" + disk.address->type +
                                 "'");
  for (auto& dev : pci_devices(def))
    if (*dev.address && (*dev.address)->type != "pci")
      return not_supported("a PCI device with an address of type '" + (*dev.address)->type + "'");
  return {};
}

result<void> ignore_address(const result<xml::device_address>& r) {
  if (!r)
    return r.error();
  return {};
}

result<void> assign_pci(xml::domain_def& def) {
  VA_XML_CHECK(check_address_types(def));
  VA_XML_TRY(initial, buses_of(def));
  auto max_index = static_cast<int>(initial.size()) - 1;
  // The first pass finds the buses that are missing.
  {
    VA_XML_TRY(addrs, collect(def, initial, true));
    if (!is_q35(def)) {
      // libvirt keeps a slot free on pci-root for a future pci-bridge.
      bool full = true;
      for (size_t b = 0; b < addrs.size() && full; ++b)
        for (auto slot = addrs.at(b).min_slot; slot <= addrs.at(b).max_slot; ++slot)
          if (!addrs.at(b).slots[slot].functions) {
            full = false;
            break;
          }
      if (!full)
        VA_XML_CHECK(ignore_address(addrs.reserve_next(pci_flags)));
    }
    for (auto& dev : pci_devices(def))
      if (wanted(*dev.address))
        VA_XML_CHECK(ignore_address(addrs.reserve_next(dev.flags)));
    // New guests whose buses libvirt added get one spare root port for hotplug.
    if (max_index <= 0 && static_cast<int>(addrs.size()) > max_index + 1 && is_q35(def))
      VA_XML_CHECK(ignore_address(addrs.reserve_next(pcie_device | autoassign)));
    auto grown = std::move(addrs).release();
    for (size_t i = initial.size(); i < grown.size(); ++i) {
      xml::controller_def c;
      c.type = "pci";
      c.index = static_cast<uint32_t>(i);
      c.model = grown[i].model;
      def.devices.controllers.push_back(std::move(c));
    }
  }
  // The second pass gives the addresses.
  VA_XML_TRY(buses, buses_of(def));
  VA_XML_TRY(addrs, collect(def, std::move(buses), false));
  for (auto& dev : pci_devices(def)) {
    if (!wanted(*dev.address))
      continue;
    VA_XML_TRY(a, addrs.reserve_next(dev.flags));
    *dev.address = a;
  }
  // Function 0 of a slot with other functions in use is multifunction.
  for (auto& dev : pci_devices(def)) {
    auto& a = *dev.address;
    if (!a || a->function == 0 || a->type != "pci")
      continue;
    for (auto& other : pci_devices(def)) {
      auto& o = *other.address;
      if (o && o->type == "pci" && o->bus == a->bus && o->slot == a->slot && o->function == 0 &&
          !o->multifunction)
        o->multifunction = true;
    }
  }
  for (auto& c : def.devices.controllers) {
    if (c.type != "pci")
      continue;
    if (c.model == "pcie-root-port") {
      if (c.model_name.empty())
        c.model_name = "pcie-root-port";
      if (!c.target_chassis)
        c.target_chassis = c.index;
      if (!c.target_port && c.address)
        c.target_port = (c.address->slot << 3) + c.address->function;
    } else if (c.model == "pcie-to-pci-bridge" && c.model_name.empty()) {
      c.model_name = "pcie-pci-bridge";
    }
  }
  return {};
}

/// USB ports for USB input devices, in order, on the root hub of bus 0.
result<void> assign_usb(xml::domain_def& def) {
  auto& inputs = def.devices.inputs;
  bool any = std::any_of(inputs.begin(), inputs.end(),
                         [](const xml::input_def& in) { return in.bus == "usb"; });
  if (!any)
    return {};
  const auto* usb = find_controller(def, "usb", 0);
  if (!usb)
    return xml::make_error(error_code::config_unsupported, error_domain::qemu,
                           "USB is disabled for this domain, but USB devices are present in the "
                           "domain XML");
  uint32_t ports = usb->model == "qemu-xhci" ? 15 : 2;
  std::vector<bool> used(ports + 1, false);
  for (const auto& in : inputs)
    if (in.bus == "usb" && in.address && in.address->type == "usb" && !in.address->port.empty()) {
      auto n = xml::to_uint(in.address->port, 10);
      if (!n || *n == 0 || *n > ports)
        return not_supported("usb port '" + in.address->port + "'");
      used[*n] = true;
    }
  for (auto& in : inputs) {
    if (in.bus != "usb" || (in.address && !in.address->port.empty()))
      continue;
    uint32_t port = 1;
    while (port <= ports && used[port])
      ++port;
    if (port > ports)
      return not_supported("more USB devices than the USB controller has ports");
    used[port] = true;
    xml::device_address a;
    a.type = "usb";
    a.bus = 0;
    a.port = std::to_string(port);
    in.address = a;
  }
  return {};
}

} // namespace

bool is_q35(const xml::domain_def& def) {
  return def.os.machine == "q35" || def.os.machine.starts_with("pc-q35");
}

result<void> assign_addresses(xml::domain_def& def) {
  VA_XML_CHECK(assign_pci(def));
  return assign_usb(def);
}

} // namespace virtactor::drivers::qemu::detail
