#include "drivers/qemu/command_line.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "drivers/qemu/addresses.hpp"
#include "drivers/qemu/support.hpp"
#include "drivers/xml/uuid.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::drivers::qemu {

namespace {

using detail::not_supported;

// --- JSON objects with the key order libvirt prints

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class json {
public:
  json& str(std::string_view key, std::string_view value) { return raw(key, json_string(value)); }
  json& num(std::string_view key, int64_t value) { return raw(key, std::to_string(value)); }
  json& boolean(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
  json& null(std::string_view key) { return raw(key, "null"); }
  json& object(std::string_view key, const json& value) { return raw(key, value.text()); }
  json& raw(std::string_view key, std::string_view value) {
    if (!body_.empty())
      body_ += ',';
    body_ += json_string(key) + ":" + std::string{value};
    return *this;
  }
  std::string text() const { return "{" + body_ + "}"; }

private:
  std::string body_;
};

std::string hex(uint32_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", n);
  return buf;
}

// --- the builder

class builder {
public:
  builder(const xml::domain_def& def, const runtime_facts& rt) : def_(def), rt_(rt) {}

  result<command_line> run() {
    VA_XML_CHECK(check());
    environment();
    out_.argv.push_back(def_.devices.emulator);
    add("-name", "guest=" + def_.name + ",debug-threads=on");
    add("-S");
    if (!rt_.master_key.empty())
      add("-object", json{}
                         .str("qom-type", "secret")
                         .str("id", "masterKey0")
                         .str("format", "raw")
                         .str("file", rt_.master_key)
                         .text());
    add("-machine", def_.os.machine + ",usb=off,dump-guest-core=off,memory-backend=pc.ram");
    add("-accel", def_.type == "kvm" ? "kvm" : "tcg");
    add("-cpu", def_.cpu && def_.cpu->mode == "maximum" ? "max" : "qemu64");
    auto mib = (def_.memory.max_kib + 1023) / 1024;
    add("-m", std::to_string(mib));
    add("-object", json{}
                       .str("qom-type", "memory-backend-ram")
                       .str("id", "pc.ram")
                       .num("size", static_cast<int64_t>(mib * 1024 * 1024))
                       .text());
    add("-overcommit", "mem-lock=off");
    smp();
    add("-uuid", xml::format_uuid(def_.uuid));
    if (def_.devices.graphics.empty())
      add("-display", "none");
    add("-no-user-config");
    add("-nodefaults");
    out_.fds.push_back(
        {passed_fd::kind::monitor, rt_.monitor_fd, rt_.domain_dir + "/monitor.sock", {}});
    add("-chardev",
        "socket,id=charmonitor,fd=" + std::to_string(rt_.monitor_fd) + ",server=on,wait=off");
    add("-mon", "chardev=charmonitor,id=monitor,mode=control");
    add("-rtc", "base=" + rtc_base());
    add("-no-shutdown");
    if (!def_.features.acpi)
      add("-no-acpi");
    add("-boot", "strict=on");
    controllers();
    boot_indexes();
    disks();
    interfaces();
    serials();
    inputs();
    add("-audiodev", json{}.str("id", "audio1").str("driver", "none").text());
    graphics();
    videos();
    watchdog();
    balloon();
    rngs();
    if (rt_.sandbox)
      add("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    add("-msg", "timestamp=on");
    return std::move(out_);
  }

private:
  void add(std::string opt) { out_.argv.push_back(std::move(opt)); }
  void add(std::string opt, std::string value) {
    out_.argv.push_back(std::move(opt));
    out_.argv.push_back(std::move(value));
  }

  result<void> check() const {
    if (def_.devices.emulator.empty())
      return not_supported("a domain without an emulator");
    if (def_.devices.audios.size() != 1 || def_.devices.audios[0].id != 1 ||
        def_.devices.audios[0].type != "none")
      return not_supported("an audio configuration other than <audio id='1' type='none'/>");
    // Device ids are the live definition's aliases.
    bool live = !def_.devices.controllers.empty();
    for (const auto& c : def_.devices.controllers)
      live = live && !c.alias.empty();
    for (const auto& disk : def_.devices.disks)
      live = live && !disk.alias.empty();
    // A tap needs its name, and a network's interface its bridge.
    for (const auto& net : def_.devices.interfaces)
      if (net.type != "user" &&
          (net.target_dev.empty() || (net.type == "network" && net.actual_bridge.empty())))
        return not_supported("an interface of type '" + net.type +
                             "' without its tap device and bridge (see live_definition)");
    if (!live)
      return not_supported("a definition without device aliases (not a live definition)");
    return {};
  }

  void environment() {
    const auto& dir = rt_.domain_dir;
    out_.env = {{"LC_ALL", "C"},
                {"PATH", rt_.path_env},
                {"HOME", dir},
                {"XDG_DATA_HOME", dir + "/.local/share"},
                {"XDG_CACHE_HOME", dir + "/.cache"},
                {"XDG_CONFIG_HOME", dir + "/.config"}};
  }

  void smp() {
    auto cur = def_.vcpu.current;
    auto max = def_.vcpu.max;
    std::string s = std::to_string(cur);
    if (cur != max)
      s += ",maxcpus=" + std::to_string(max);
    s += ",sockets=" + std::to_string(max) + ",cores=1,threads=1";
    add("-smp", s);
  }

  std::string rtc_base() const {
    if (def_.clock_offset != "variable")
      return def_.clock_offset; // "utc" or "localtime"
    // live_definition() has folded a 'localtime' basis into the adjustment.
    int64_t t = rt_.now + std::stoll(def_.clock_adjustment.empty() ? "0" : def_.clock_adjustment);
    auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
  }

  // --- PCI placement

  std::string bus_name(uint32_t bus) const {
    if (bus == 0)
      return detail::is_q35(def_) ? "pcie.0" : "pci.0";
    return "pci." + std::to_string(bus);
  }

  /// "bus", ["multifunction"], "addr" of a PCI device.
  json& pci(json& j, const std::optional<xml::device_address>& a) const {
    if (!a || a->type != "pci")
      return j;
    j.str("bus", bus_name(a->bus));
    if (a->multifunction)
      j.boolean("multifunction", *a->multifunction);
    std::string addr = hex(a->slot);
    if (a->function)
      addr += "." + hex(a->function);
    return j.str("addr", addr);
  }

  void device(const json& j) { add("-device", j.text()); }

  // --- devices

  void controllers() {
    const auto& list = def_.devices.controllers;
    std::vector<const xml::controller_def*> pci_list;
    for (const auto& c : list)
      if (c.type == "pci")
        pci_list.push_back(&c);
    std::sort(pci_list.begin(), pci_list.end(),
              [](const auto* a, const auto* b) { return a->index < b->index; });
    for (const auto* c : pci_list) {
      json j;
      if (c->model == "pcie-root-port") {
        j.str("driver", "pcie-root-port")
            .num("port", c->target_port.value_or(0))
            .num("chassis", c->target_chassis.value_or(c->index))
            .str("id", c->alias);
      } else if (c->model == "pcie-to-pci-bridge") {
        j.str("driver", "pcie-pci-bridge").str("id", c->alias);
      } else {
        continue; // the root buses are the machine's own
      }
      device(pci(j, c->address));
    }
    // Then by type, as libvirt orders them.
    for (std::string_view type : {"usb", "scsi", "ide", "sata"}) {
      for (const auto& c : list) {
        if (c.type != type)
          continue;
        std::string driver;
        if (c.type == "usb")
          driver = c.model == "qemu-xhci" ? "qemu-xhci" : "piix3-usb-uhci";
        else if (c.type == "scsi")
          driver = c.model == "virtio-scsi" ? "virtio-scsi-pci" : "lsi";
        else if (c.type == "sata" && !(c.index == 0 && detail::is_q35(def_)))
          driver = "ahci";
        if (driver.empty())
          continue; // built into the machine (pc's IDE, q35's SATA)
        json j;
        j.str("driver", driver).str("id", c.alias);
        device(pci(j, c.address));
      }
    }
  }

  void boot_indexes() {
    const auto& d = def_.devices;
    disk_boot_.assign(d.disks.size(), 0);
    net_boot_.assign(d.interfaces.size(), 0);
    bool per_device = false;
    for (size_t i = 0; i < d.disks.size(); ++i)
      if ((disk_boot_[i] = d.disks[i].boot_order))
        per_device = true;
    for (size_t i = 0; i < d.interfaces.size(); ++i)
      if ((net_boot_[i] = d.interfaces[i].boot_order))
        per_device = true;
    if (per_device)
      return;
    uint32_t index = 0;
    for (const auto& dev : def_.os.boot_devs) {
      ++index;
      if (dev == "network") {
        if (!d.interfaces.empty() && !net_boot_[0])
          net_boot_[0] = index;
        continue;
      }
      std::string_view want = dev == "hd" ? "disk" : dev == "cdrom" ? "cdrom" : "floppy";
      for (size_t i = 0; i < d.disks.size(); ++i)
        if (d.disks[i].device == want) {
          if (!disk_boot_[i])
            disk_boot_[i] = index;
          break;
        }
    }
  }

  /// libvirt's cache modes: {write-cache, direct, no-flush}.
  struct cache_mode {
    bool writeback, direct, no_flush;
  };
  static std::optional<cache_mode> cache_of(const std::string& mode) {
    if (mode == "none")
      return cache_mode{true, true, false};
    if (mode == "writethrough")
      return cache_mode{false, false, false};
    if (mode == "writeback")
      return cache_mode{true, false, false};
    if (mode == "directsync")
      return cache_mode{false, true, false};
    if (mode == "unsafe")
      return cache_mode{true, false, true};
    return std::nullopt;
  }

  const xml::controller_def* controller(const std::string& type, uint32_t index) const {
    for (const auto& c : def_.devices.controllers)
      if (c.type == type && c.index == index)
        return &c;
    return nullptr;
  }

  void disks() {
    const auto& list = def_.devices.disks;
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& disk = list[i];
      auto node = "libvirt-" + std::to_string(list.size() - i);
      auto cache = cache_of(disk.driver_cache);
      json cache_json;
      if (cache)
        cache_json.boolean("direct", cache->direct).boolean("no-flush", cache->no_flush);
      bool has_media = !disk.source.empty();
      if (has_media) {
        json storage;
        storage.str("driver", disk.type == "block" ? "host_device" : "file")
            .str("filename", disk.source)
            .str("node-name", node + "-storage");
        if (cache)
          storage.object("cache", cache_json);
        storage.boolean("auto-read-only", true).str("discard", "unmap");
        add("-blockdev", storage.text());
        json format;
        format.str("node-name", node + "-format").boolean("read-only", disk.readonly);
        if (cache)
          format.object("cache", cache_json);
        format.str("driver", disk.driver_type).str("file", node + "-storage");
        if (disk.driver_type == "qcow2")
          format.null("backing");
        add("-blockdev", format.text());
      }
      json dev;
      bool cdrom = disk.device == "cdrom";
      const auto& a = disk.address;
      if (disk.target_bus == "virtio") {
        dev.str("driver", "virtio-blk-pci");
        pci(dev, a);
      } else if (disk.target_bus == "ide") {
        dev.str("driver", cdrom ? "ide-cd" : "ide-hd")
            .str("bus", "ide." + std::to_string(a->bus))
            .num("unit", a->unit);
      } else if (disk.target_bus == "sata") {
        const auto* c = controller("sata", a->controller);
        dev.str("driver", cdrom ? "ide-cd" : "ide-hd")
            .str("bus", (c ? c->alias : "sata" + std::to_string(a->controller)) + "." +
                            std::to_string(a->unit));
      } else if (disk.target_bus == "scsi") {
        const auto* c = controller("scsi", a->controller);
        auto ctrl = c ? c->alias : "scsi" + std::to_string(a->controller);
        dev.str("driver", cdrom ? "scsi-cd" : "scsi-hd").str("bus", ctrl + ".0");
        if (c && c->model == "virtio-scsi")
          dev.num("channel", a->bus).num("scsi-id", a->target).num("lun", a->unit);
        else
          dev.num("scsi-id", a->unit);
        dev.str("device_id", "drive-" + disk.alias);
      }
      if (disk.shareable)
        dev.boolean("share-rw", true);
      if (has_media)
        dev.str("drive", node + "-format");
      dev.str("id", disk.alias);
      if (disk_boot_[i])
        dev.num("bootindex", disk_boot_[i]);
      if (cache)
        dev.str("write-cache", cache->writeback ? "on" : "off");
      device(dev);
    }
  }

  void interfaces() {
    const auto& list = def_.devices.interfaces;
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& net = list[i];
      auto netdev = "host" + net.alias;
      if (net.type == "user") {
        add("-netdev", json{}.str("type", "user").str("id", netdev).text());
      } else {
        // No vhost-net: libvirt adds "vhost" and "vhostfd" where
        // /dev/vhost-net exists; the driver does not use it.
        int fd = next_fd();
        out_.fds.push_back({passed_fd::kind::tap, fd, net.target_dev,
                            net.type == "bridge" ? net.source : net.actual_bridge});
        add("-netdev",
            json{}.str("type", "tap").str("fd", std::to_string(fd)).str("id", netdev).text());
      }
      json dev;
      std::string driver = net.model == "virtio" ? "virtio-net-pci" : net.model;
      dev.str("driver", driver).str("netdev", netdev).str("id", net.alias).str("mac", net.mac);
      if (net_boot_[i])
        dev.num("bootindex", net_boot_[i]);
      device(pci(dev, net.address));
    }
  }

  void serials() {
    int fdset = 0;
    for (const auto& s : def_.devices.serials) {
      auto id = "char" + s.alias;
      if (s.type == "pty") {
        add("-chardev", "pty,id=" + id);
      } else if (s.type == "unix") {
        int fd = next_fd();
        out_.fds.push_back({passed_fd::kind::unix_listen, fd, s.source_path, {}});
        add("-chardev", "socket,id=" + id + ",fd=" + std::to_string(fd) + ",server=on,wait=off");
      } else if (s.type == "file") {
        int fd = next_fd();
        out_.fds.push_back({passed_fd::kind::file_append, fd, s.source_path, {}});
        add("-add-fd", "set=" + std::to_string(fdset) + ",fd=" + std::to_string(fd) +
                           ",opaque=" + s.alias + "-source");
        add("-chardev",
            "file,id=" + id + ",path=/dev/fdset/" + std::to_string(fdset) + ",append=on");
        ++fdset;
      }
      device(json{}
                 .str("driver", "isa-serial")
                 .str("chardev", id)
                 .str("id", s.alias)
                 .num("index", s.target_port));
    }
  }

  void inputs() {
    for (const auto& in : def_.devices.inputs) {
      if (in.bus != "usb")
        continue; // ps2 devices are the machine's own
      std::string driver = in.type == "tablet"  ? "usb-tablet"
                           : in.type == "mouse" ? "usb-mouse"
                                                : "usb-kbd";
      json j;
      j.str("driver", driver).str("id", in.alias).str("bus", "usb.0");
      if (in.address && in.address->type == "usb")
        j.str("port", in.address->port);
      device(j);
    }
  }

  void graphics() {
    const auto& list = def_.devices.graphics;
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& g = list[i];
      int port =
          i < rt_.graphics_ports.size() && rt_.graphics_ports[i] ? rt_.graphics_ports[i] : g.port;
      add("-vnc", g.listen + ":" + std::to_string(port - 5900) + ",audiodev=audio1");
    }
  }

  void videos() {
    for (const auto& v : def_.devices.videos) {
      json j;
      if (v.model == "cirrus") {
        j.str("driver", "cirrus-vga").str("id", v.alias);
      } else if (v.model == "vga") {
        j.str("driver", v.primary ? "VGA" : "secondary-vga")
            .str("id", v.alias)
            .num("vgamem_mb", v.vram / 1024);
      } else if (v.model == "virtio") {
        j.str("driver", v.primary ? "virtio-vga" : "virtio-gpu-pci")
            .str("id", v.alias)
            .num("max_outputs", v.heads ? v.heads : 1);
      } else {
        continue;
      }
      device(pci(j, v.address));
    }
  }

  void watchdog() {
    const auto& w = def_.devices.watchdog;
    if (!w)
      return;
    json j;
    j.str("driver", w->model).str("id", w->alias);
    device(pci(j, w->address));
    add("-watchdog-action", w->action);
  }

  void balloon() {
    const auto& b = def_.devices.memballoon;
    if (!b || b->model == "none")
      return;
    json j;
    j.str("driver", "virtio-balloon-pci").str("id", b->alias);
    device(pci(j, b->address));
  }

  void rngs() {
    for (const auto& r : def_.devices.rngs) {
      auto obj = "obj" + r.alias;
      add("-object", json{}
                         .str("qom-type", "rng-random")
                         .str("id", obj)
                         .str("filename", r.backend.empty() ? "/dev/random" : r.backend)
                         .text());
      json j;
      j.str("driver", "virtio-rng-pci").str("rng", obj).str("id", r.alias);
      device(pci(j, r.address));
    }
  }

  int next_fd() { return rt_.first_fd + static_cast<int>(out_.fds.size()) - 1; }

  const xml::domain_def& def_;
  const runtime_facts& rt_;
  command_line out_;
  std::vector<uint32_t> disk_boot_;
  std::vector<uint32_t> net_boot_;
};

/// libvirt's virBufferEscapeShell: quote when a shell would read it otherwise.
std::string shell_quote(std::string_view s) {
  if (!s.empty() && s.find_first_of("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") == std::string_view::npos)
    return std::string{s};
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

} // namespace

result<command_line> build_command_line(const xml::domain_def& live, const runtime_facts& rt) {
  return builder{live, rt}.run();
}

std::string format_for_log(const command_line& cmd) {
  std::vector<std::string> lines;
  for (const auto& [k, v] : cmd.env)
    lines.push_back(k + "=" + shell_quote(v));
  for (size_t i = 0; i < cmd.argv.size(); ++i) {
    const auto& arg = cmd.argv[i];
    // An option starts a line; its value stays on it.
    if (i == 0 || arg.starts_with("-") || lines.empty())
      lines.push_back(shell_quote(arg));
    else
      lines.back() += " " + shell_quote(arg);
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i)
      out += " \\\n";
    out += lines[i];
  }
  return out;
}

} // namespace virtactor::drivers::qemu
