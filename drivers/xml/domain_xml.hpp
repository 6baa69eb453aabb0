/// The domain XML model: the supported subset of libvirt's `<domain>` document,
/// parsed and validated into `domain_def`, and formatted back the way libvirt
/// prints it (defaults filled in, canonical element order).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/xml/uuid.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::xml {

/// A device's `<address>`: `type` is "pci", "drive" or "usb" (usb only with
/// `domain_parse::extended_subset`); the fields of the other types stay zero.
/// Printed as libvirt does (pci numbers in hex).
struct device_address {
  std::string type;
  // type='pci'
  uint32_t domain = 0;
  uint32_t bus = 0; // also type='drive'
  uint32_t slot = 0;
  uint32_t function = 0;
  std::optional<bool> multifunction;
  // type='drive'
  uint32_t controller = 0;
  uint32_t target = 0;
  uint32_t unit = 0;
  // type='usb': `bus` above and the port path ("1", "1.2")
  std::string port;

  bool operator==(const device_address&) const = default;
};

/// `<memory>`, `<currentMemory>` and `<maxMemory>`, all in KiB.
struct domain_memory {
  uint64_t max_kib = 0;                    ///< `<memory>`: the boot-time maximum.
  uint64_t current_kib = 0;                ///< `<currentMemory>`: the balloon target.
  std::optional<uint64_t> hotplug_max_kib; ///< `<maxMemory>`
  uint32_t hotplug_slots = 0;              ///< `<maxMemory slots='N'>`

  bool operator==(const domain_memory&) const = default;
};

/// `<vcpu placement='...' cpuset='...' current='N'>MAX</vcpu>`.
struct domain_vcpu {
  uint32_t max = 1;
  uint32_t current = 1;
  std::string placement = "static"; ///< "static" or "auto"
  std::string cpuset;               ///< empty: not printed

  bool operator==(const domain_vcpu&) const = default;
};

/// `<os>`: guest type and boot configuration.
struct domain_os {
  std::string type;    ///< "hvm", "xen", "linux", "exe", "uml" or "xenpvh"
  std::string arch;    ///< filled in from `domain_parse::default_arch` when absent
  std::string machine; ///< empty: not printed
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> cmdline;
  std::vector<std::string> boot_devs; ///< "fd", "hd", "cdrom", "network"
  std::optional<bool> bootmenu;       ///< `<bootmenu enable='yes|no'/>`
  std::optional<std::string> init;    ///< `<init>`: required for type "exe"

  bool operator==(const domain_os&) const = default;
};

/// `<features>`: the empty-element features of the subset.
struct domain_features {
  bool acpi = false;
  bool apic = false;
  bool pae = false;
  std::string apic_eoi; ///< `<apic eoi='on|off'/>`; empty: not printed

  bool any() const { return acpi || apic || pae; }
  bool operator==(const domain_features&) const = default;
};

/// `<feature policy='...' name='...'/>` of a `<cpu>`.
struct cpu_feature {
  std::string policy; ///< "force", "require", "optional", "disable", "forbid"
  std::string name;

  bool operator==(const cpu_feature&) const = default;
};

/// `<cpu>`: the mode, an optional model name and (printed only) features.
struct domain_cpu {
  std::string mode;                  ///< "custom", "host-model", "host-passthrough", "maximum"
  std::string match;                 ///< custom mode only: "minimum", "exact", "strict"
  std::string check;                 ///< "none", "partial", "full"; empty: not printed
  std::string model;                 ///< `<model>` text; empty: none
  std::string model_fallback;        ///< "allow" or "forbid" (printed with a model)
  std::string migratable;            ///< "on" or "off"; empty: not printed
  std::vector<cpu_feature> features; ///< printed after the model; not parsed

  bool operator==(const domain_cpu&) const = default;
};

/// `<disk type='file|block' device='disk|cdrom|floppy'>`.
struct disk_def {
  std::string type = "file";
  std::string device = "disk";
  std::string driver_name;  ///< `<driver name=...>`; empty: not printed
  std::string driver_type;  ///< `<driver type=...>`; empty: not printed
  std::string driver_cache; ///< `<driver cache=...>`; empty: not printed
  std::string source;       ///< file or dev path; empty: no `<source>`
  std::string target_dev;
  std::string target_bus; ///< filled in from the target name when absent
  bool readonly = false;
  bool shareable = false;
  uint32_t boot_order = 0;   ///< `<boot order='N'/>`; 0: none
  uint32_t source_index = 0; ///< live: `<source index='N'>` and `<backingStore/>`; 0: none
  std::string alias;         ///< live: `<alias name=...>`; empty: none
  std::optional<device_address> address;

  bool operator==(const disk_def&) const = default;
};

/// The highest drive controller index a disk may need (libvirt has no
/// bound and builds every index up to it); above, the definition is refused.
inline constexpr uint32_t max_drive_controller = 4095;

/// `<controller type='...' index='N' model='...'>`: libvirt adds these
/// implicitly for ide/scsi/sata/fdc disks.
struct controller_def {
  std::string type;
  uint32_t index = 0;
  std::string model;                      ///< empty: not printed
  std::string model_name;                 ///< `<model name=...>` (pci controllers); empty: none
  std::optional<uint32_t> target_chassis; ///< `<target chassis=... port=...>` (pci ports)
  std::optional<uint32_t> target_port;
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const controller_def&) const = default;
};

/// `<interface type='network|bridge|user'>`.
struct interface_def {
  std::string type = "network";
  std::string mac;        ///< "aa:bb:cc:dd:ee:ff"; generated when absent
  std::string source;     ///< network name (network) or bridge name (bridge)
  std::string target_dev; ///< empty: not printed (live: the tap device)
  std::string model;      ///< `<model type=...>`; empty: not printed
  /// Live, type network: the bridge the network gave and the port's UUID;
  /// printed as libvirt does (`<interface type='bridge'>`, `<source
  /// network=... portid=... bridge=...>`). Empty: none.
  std::string actual_bridge;
  std::string portid;
  uint32_t boot_order = 0; ///< `<boot order='N'/>`; 0: none
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const interface_def&) const = default;
};

/// `<graphics type='vnc|spice'>` with its basic attributes.
struct graphics_def {
  std::string type = "vnc";
  int32_t port = 0; ///< 0: none chosen (with autoport: chosen at start)
  bool autoport = true;
  int32_t tls_port = 0; ///< spice only; 0: none
  std::string listen;   ///< listen address; empty: none
  std::string keymap;
  std::string passwd;      ///< printed only with `domain_format::secure`
  std::string listen_type; ///< first `<listen type=...>`: "address" or "none"

  bool operator==(const graphics_def&) const = default;
};

/// `<serial>` or `<console>` of type pty (and, with
/// `domain_parse::extended_subset`, unix and file).
struct chardev_def {
  std::string type = "pty";
  std::string target_type; ///< console: "serial", "virtio", ...; serial: "isa-serial", ...
  int32_t target_port = 0;
  std::string target_model; ///< `<target><model name=...>`; empty: none
  std::string source_path;  ///< file or socket path, or a running pty's path; empty: none
  std::string source_mode;  ///< unix: "bind" or "connect"
  std::string alias;

  bool operator==(const chardev_def&) const = default;
};

/// `<input type='mouse|keyboard|tablet' bus='ps2|usb|virtio'>`.
struct input_def {
  std::string type;
  std::string bus;
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const input_def&) const = default;
};

/// `<video><model type='...' .../></video>`.
struct video_def {
  std::string model;
  uint32_t vram = 0;   ///< KiB; 0: not printed
  uint32_t heads = 0;  ///< 0: not printed
  uint32_t ram = 0;    ///< KiB, qxl only; 0: not printed
  uint32_t vgamem = 0; ///< KiB; 0: not printed
  bool primary = false;
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const video_def&) const = default;
};

/// `<memballoon model='virtio|none'>`.
struct memballoon_def {
  std::string model;
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const memballoon_def&) const = default;
};

/// `<audio id='N' type='...'/>` (extended subset).
struct audio_def {
  uint32_t id = 1;
  std::string type = "none";

  bool operator==(const audio_def&) const = default;
};

/// `<watchdog model='...' action='...'>` (extended subset).
struct watchdog_def {
  std::string model;
  std::string action = "reset";
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const watchdog_def&) const = default;
};

/// `<rng model='virtio'><backend model='random'>PATH</backend></rng>` (extended subset).
struct rng_def {
  std::string model = "virtio";
  std::string backend_model = "random";
  std::string backend; ///< the random source (a path); empty: not printed
  std::string alias;
  std::optional<device_address> address;

  bool operator==(const rng_def&) const = default;
};

/// `<devices>`, each list in libvirt's print order. As in libvirt, console N of
/// an HVM guest with target "serial" stands for serial N and prints from it.
struct domain_devices {
  std::string emulator; ///< empty: not printed
  std::vector<disk_def> disks;
  std::vector<controller_def> controllers;
  std::vector<interface_def> interfaces;
  std::vector<chardev_def> serials;
  std::vector<chardev_def> consoles;
  std::vector<input_def> inputs;
  std::vector<graphics_def> graphics;
  std::vector<audio_def> audios;
  std::vector<video_def> videos;
  std::optional<watchdog_def> watchdog;
  std::optional<memballoon_def> memballoon;
  std::vector<rng_def> rngs;

  bool operator==(const domain_devices&) const = default;
};

/// `<seclabel type='...' model='...' relabel='...'>` (printed only: live data a
/// driver fills in).
struct seclabel_def {
  std::string type = "dynamic";
  std::string model; ///< e.g. "dac"
  bool relabel = true;
  std::string label;       ///< empty: not printed
  std::string image_label; ///< empty: not printed

  bool operator==(const seclabel_def&) const = default;
};

/// A parsed, validated domain definition.
struct domain_def {
  std::string type; ///< virtualization type: "test", "kvm", "qemu", ...
  std::string name;
  xdr::uuid uuid{};
  std::optional<std::string> title;
  std::optional<std::string> description;
  domain_memory memory;
  domain_vcpu vcpu;
  domain_os os;
  domain_features features;
  std::optional<domain_cpu> cpu;
  std::string clock_offset = "utc"; ///< "utc", "localtime", "timezone", "variable"
  std::string clock_timezone;       ///< offset "timezone": the zone name
  std::string clock_adjustment;     ///< "reset", or seconds for offset "variable"
  std::string clock_basis;          ///< offset "variable": "utc" or "localtime"
  std::string on_poweroff = "destroy";
  std::string on_reboot = "restart";
  std::string on_crash = "destroy";
  domain_devices devices;
  std::string resource_partition;       ///< `<resource><partition>`; empty: none (printed only)
  std::optional<seclabel_def> seclabel; ///< printed after `<devices>` (printed only)

  /// Sets `<memory>`; the current memory is lowered to it when above.
  void set_max_memory(uint64_t kib);
  /// Sets `<currentMemory>` (the caller checks it against the maximum).
  void set_current_memory(uint64_t kib) { memory.current_kib = kib; }
  /// Sets the maximum vCPU count; the current count is lowered to it when above.
  void set_max_vcpus(uint32_t n);
  /// Sets the current vCPU count (the caller checks it against the maximum).
  void set_vcpus(uint32_t n) { vcpu.current = n; }
  void set_name(std::string n) { name = std::move(n); }
  void set_uuid(const xdr::uuid& u) { uuid = u; }

  bool operator==(const domain_def&) const = default;
};

/// How to parse: what the driver fills in that the document leaves out
/// (libvirt's per-driver post-parse defaults). Each driver supplies its own
/// (e.g. `test::parse_options()`); the XML model holds no driver's policy.
struct domain_parse {
  /// The UUID to use when the document has none; a random one when empty.
  std::optional<xdr::uuid> uuid_if_absent;
  /// The guest architecture when `<os><type>` names none: the first one the
  /// driver's capabilities offer. Empty: such a document is refused.
  std::string default_arch;
  /// Parse the parts of the subset added for hypervisor drivers: serial and
  /// console types unix and file, `<target><model>` of serials, `<boot
  /// order>` of disks and interfaces, usb addresses, `<model name>` and
  /// `<target chassis port>` of pci controllers, and the `<audio>`,
  /// `<watchdog>` and `<rng>` devices. Off (the test driver), these are
  /// refused or dropped as before, so that its output never changes.
  bool extended_subset = false;
  /// libvirt's driver post-parse callback: runs on the parsed document before
  /// the generic defaults and implicit devices (memory, consoles, implicit
  /// controllers and video) are filled in. Its error fails the parse.
  std::function<result<void>(domain_def&)> post_parse;
  /// Runs after the generic post-parse and validation: the driver's device
  /// defaults, address assignment and validation. Its error fails the parse.
  std::function<result<void>(domain_def&)> finish;
};

/// How to print a domain.
struct domain_format {
  int32_t id = -1;       ///< -1: no `id` attribute; else `id='N'` on `<domain>`
  bool secure = false;   ///< VIR_DOMAIN_XML_SECURE: print passwords
  bool inactive = false; ///< VIR_DOMAIN_XML_INACTIVE: drop live-only data
};

/// Parses and validates `xml`. Errors carry libvirt's code, domain and message;
/// nothing is returned for a document with any error.
result<domain_def> parse_domain(std::string_view xml, const domain_parse& opts);

/// Prints `def` as `virsh dumpxml` does, ending with a newline.
std::string format_domain(const domain_def& def, const domain_format& opts = {});

} // namespace virtactor::drivers::xml
