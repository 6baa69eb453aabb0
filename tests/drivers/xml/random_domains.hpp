/// Random domain documents for differential tests against the real libvirt:
/// every element of the subset, in random order and combination, with some
/// invalid pieces mixed in so that error precedence is exercised too.
#pragma once

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace virtactor::drivers::xml::test {

class random_domains {
public:
  explicit random_domains(uint32_t seed, double bad_rate = 0.2) : rng_(seed), bad_(bad_rate) {}

  /// The document with number `n` (its name is "rnd" + n when it has one).
  std::string next(int n) {
    macs_ = 0;
    std::string devices;
    for (int i = 0, count = below(6); i < count; ++i)
      devices += device();
    auto name = chance(bad_) ? pick({"", "<name>a/b</name>", "<name></name>"})
                             : "<name>rnd" + std::to_string(n) + "</name>";
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "<uuid>11111111-2222-3333-4444-%012d</uuid>", n);
    std::string id = chance(bad_ / 2) ? std::string{"<uuid>zz</uuid>"} : uuid;
    std::string type = chance(bad_ / 2) ? pick({"zz", "kvm"}) : "test";
    std::vector<std::string> parts = {
        maybe({"<memory>1024</memory>",
               "<memory unit='MiB'>1</memory><currentMemory unit='KiB'>100</currentMemory>",
               "<memory unit='G'>2</memory><maxMemory slots='4' unit='G'>8</maxMemory>"},
              {"<memory>zz</memory>", "<memory unit='zz'>1</memory>", "", "<memory>0</memory>",
               "<memory>1</memory><maxMemory unit='G'>1</maxMemory>",
               "<memory unit='G'>4</memory><maxMemory slots='2' unit='G'>1</maxMemory>"}),
        maybe({"", "<vcpu>2</vcpu>", "<vcpu current='1'>3</vcpu>", "<vcpu cpuset='1-3,^2'>2</vcpu>",
               "<vcpu placement='auto'>4</vcpu>"},
              {"<vcpu>zz</vcpu>", "<vcpu>0</vcpu>", "<vcpu current='9'>2</vcpu>",
               "<vcpu placement='zz'>1</vcpu>", "<vcpu cpuset='zz'>1</vcpu>"}),
        maybe({"<os><type>hvm</type></os>",
               "<os><type arch='x86_64'>hvm</type><boot dev='cdrom'/></os>",
               "<os><type>xen</type></os>",
               "<os><type>hvm</type><kernel>/k</kernel><boot dev='network'/><boot dev='hd'/></os>"},
              {"<os><type>zz</type></os>", "<os><type arch='zz'>hvm</type></os>",
               "<os><type>hvm</type><boot dev='zz'/></os>", "", "<os><type>exe</type></os>"}),
        maybe({"", "<features><acpi/></features>", "<features><apic/><pae/></features>"},
              {"<features><zz/></features>", "<features><apic eoi='zz'/></features>"}),
        maybe({"", "<cpu mode='host-model'/>", "<cpu><model>qemu64</model></cpu>",
               "<cpu mode='maximum' check='none'/>"},
              {"<cpu mode='zz'/>", "<cpu match='zz'><model>m</model></cpu>",
               "<cpu mode='host-model' check='zz'/>"}),
        maybe({"", "<clock offset='localtime'/>", "<clock offset='variable' adjustment='5'/>",
               "<clock offset='utc' adjustment='reset'/>"},
              {"<clock offset='zz'/>", "<clock offset='timezone'/>",
               "<clock offset='utc' adjustment='zz'/>", "<clock offset='variable' basis='zz'/>"}),
        maybe({"", "<on_crash>preserve</on_crash>",
               "<on_reboot>destroy</on_reboot><on_poweroff>restart</on_poweroff>"},
              {"<on_crash>zz</on_crash>", "<on_poweroff>coredump-destroy</on_poweroff>",
               "<on_reboot>zz</on_reboot>"})};
    std::shuffle(parts.begin(), parts.end(), rng_);
    std::string body;
    for (const auto& p : parts)
      body += p;
    return "<domain type='" + type + "'>" + name + id + body + "<devices>" + devices +
           "</devices></domain>";
  }

private:
  int below(int n) { return std::uniform_int_distribution<int>{0, n - 1}(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>{0, 1}(rng_) < p; }
  std::string pick(std::vector<std::string> options) {
    return options[static_cast<size_t>(below(static_cast<int>(options.size())))];
  }
  std::string maybe(std::vector<std::string> good, std::vector<std::string> bad) {
    return chance(bad_) ? pick(std::move(bad)) : pick(std::move(good));
  }
  std::string mac() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "52:54:00:00:00:%02x", ++macs_);
    return buf;
  }

  std::string device() {
    if (chance(bad_))
      return pick(
          {"<disk type='zz'/>",
           "<disk type='file'><source file='/a'/></disk>",
           "<disk type='file'><target dev='vdq'/></disk>",
           "<disk type='file'><source file='/a'/><target dev='zz'/></disk>",
           "<interface type='zz'/>",
           "<interface type='network'><mac address='zz'/><source network='d'/></interface>",
           "<interface type='network'><mac address='52:54:00:aa:aa:aa'/></interface>",
           "<controller type='zz'/>",
           "<controller type='scsi' model='zz'/>",
           "<serial type='zz'/>",
           "<console type='pty'><target type='zz'/></console>",
           "<input type='zz'/>",
           "<input type='mouse' bus='zz'/>",
           "<input type='tablet' bus='ps2'/>",
           "<graphics type='zz'/>",
           "<graphics type='vnc' port='zz'/>",
           "<video><model type='zz'/></video>",
           "<video><model type='vga' primary='yes'/></video>",
           "<memballoon/>",
           "<memballoon model='zz'/>",
           "<disk type='file'><source file='/a'/><target dev='vda'/>"
           "<address type='pci' slot='99'/></disk>",
           "<disk type='file'><source file='/a'/><target dev='hda'/>"
           "<address type='pci' slot='3'/></disk>",
           "<disk type='file' device='floppy'><source file='/a'/><target dev='hda'/></disk>",
           "<console type='pty'/>"});
    auto dev =
        pick({"hda", "hdb", "hdc", "hdd", "sda", "sdb", "sdh", "vda", "vdb", "vdc", "fda", "xvda"});
    auto bus =
        pick({"", "", " bus='virtio'", " bus='ide'", " bus='scsi'", " bus='sata'", " bus='usb'"});
    switch (below(12)) {
      case 0:
      case 1:
      case 2: {
        auto kind = pick({"disk", "disk", "cdrom", "floppy"});
        auto source = kind != "disk" && chance(0.5) ? "" : "<source file='/img/" + dev + "'/>";
        return "<disk type='file' device='" + kind + "'>" + source + "<target dev='" + dev + "'" +
               bus + "/>" + pick({"", "<readonly/>", "<shareable/>"}) + "</disk>";
      }
      case 3:
        return pick({"<controller type='scsi' index='" + std::to_string(below(3)) + "'/>",
                     "<controller type='ide'/>", "<controller type='usb' model='ehci'/>",
                     "<controller type='sata' index='1'/>"});
      case 4: {
        auto type = pick({"network", "bridge", "user"});
        std::string source = type == "network"  ? "<source network='default'/>"
                             : type == "bridge" ? "<source bridge='br0'/>"
                                                : "";
        return "<interface type='" + type + "'><mac address='" + mac() + "'/>" + source +
               pick({"", "", "<target dev='vnet1'/>", "<target dev='testnet1'/>",
                     "<target dev='tap0'/>"}) +
               pick({"", "<model type='virtio'/>", "<model type='e1000'/>"}) + "</interface>";
      }
      case 5:
        return pick(
            {"<serial type='pty'/>",
             "<serial type='pty'><target port='" + std::to_string(below(3)) + "'/></serial>",
             "<serial type='pty'><target type='usb-serial'/></serial>"});
      case 6:
        return pick(
            {"<console type='pty'/>", "<console type='pty'><target type='virtio'/></console>"});
      case 7:
        return pick({"<input type='mouse'/>", "<input type='tablet'/>",
                     "<input type='keyboard' bus='usb'/>"});
      case 8:
        return pick({"<graphics type='vnc'/>", "<graphics type='spice'/>",
                     "<graphics type='vnc' port='5901' listen='0.0.0.0' passwd='pw'/>",
                     "<graphics type='spice' autoport='yes'/>"});
      case 9:
        return pick({"<video/>", "<video><model type='vga'/></video>",
                     "<video><model type='qxl' heads='2'/></video>",
                     "<video><model type='virtio' primary='yes'/></video>"});
      case 10:
        return pick({"<memballoon model='virtio'/>", "<memballoon model='none'/>"});
      default:
        return "<disk type='block'><source dev='/dev/sd" + pick({"b", "c", "d"}) +
               "'/><target dev='" + dev + "'" + bus + "/></disk>";
    }
  }

  std::mt19937 rng_;
  double bad_;
  int macs_ = 0;
};

} // namespace virtactor::drivers::xml::test
