/// The qemu driver's domain definitions: what libvirt 9.0's qemu driver
/// accepts, fills in and refuses for the subset in docs/qemu.md (its
/// post-parse, PCI/USB address assignment and validation), and the live
/// definition of a started domain (aliases, the CPU QEMU runs, pty paths).
/// Pure code over `xml::domain_def`: no CAF, no I/O.
///
/// Define:  `parse_domain(xml, emulator)` -> the persistent definition.
/// Start:   `check_startable(def, emulator)`, then `live_definition(def, facts)`
///          -> the live definition to build the command line from
///          (command_line.hpp); once QEMU runs, `set_chardev_paths` with what
///          QMP `query-chardev` reports and `graphics[i].port` for VNC.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::qemu {

/// One machine type of the emulator (QMP `query-machines`).
struct machine_type {
  std::string name;  ///< e.g. "pc-i440fx-7.2"
  std::string alias; ///< e.g. "pc"; empty: none
  bool is_default = false;
};

/// What the define path needs to know about the emulator and the host
/// (normally from the emulator capabilities).
struct emulator_facts {
  std::string path = "/usr/bin/qemu-system-x86_64";
  std::vector<machine_type> machines; ///< the machine types the emulator offers
  bool kvm = false;                   ///< /dev/kvm is usable: `type='kvm'` is accepted

  /// QEMU 7.2 (Debian 12): pc-i440fx-7.2 (alias pc, default) and
  /// pc-q35-7.2 (alias q35), no KVM.
  static emulator_facts qemu_7_2();
  /// The full name of `machine` (a name or an alias); empty when unknown.
  std::string resolve_machine(std::string_view machine) const;
  /// The default machine's full name.
  std::string default_machine() const;
};

/// The qemu driver's parse defaults (x86_64 guests, the extended subset,
/// and its post-parse and finishing steps for `emulator`). The returned
/// options refer to `emulator`, which must outlive them.
xml::domain_parse parse_options(const emulator_facts& emulator);

/// Parses a domain document for define (or create): refuses what the driver
/// does not implement (VIR_ERR_CONFIG_UNSUPPORTED, naming the element or
/// value), fills in what libvirt's qemu driver fills in (emulator, machine,
/// controllers, inputs, audio, memballoon, CPU, device models, PCI and USB
/// addresses, MAC addresses) and validates as it does. Errors carry
/// libvirt's code, domain and message.
result<xml::domain_def> parse_domain(std::string_view xml, const emulator_facts& emulator);

/// Checks at start what may have changed since define: a `type='kvm'` domain
/// on a host without KVM gives libvirt's VIR_ERR_CONFIG_UNSUPPORTED.
result<void> check_startable(const xml::domain_def& def, const emulator_facts& emulator);

/// What the live definition of a starting domain takes from the daemon.
struct start_facts {
  /// `<resource><partition>`: "/machine" for a privileged daemon (cgroups);
  /// empty: not printed (libvirt's session daemon prints none).
  std::string resource_partition = "/machine";
  /// `<seclabel>` the daemon applies (libvirt's DAC label of QEMU's
  /// uid/gid); none: not printed.
  std::optional<xml::seclabel_def> seclabel;
  /// The VNC listen address when the definition gives none (libvirt's
  /// qemu.conf `vnc_listen`).
  std::string vnc_listen = "127.0.0.1";
  /// The host's local time minus UTC, in seconds: a clock of basis
  /// 'localtime' becomes a UTC one with that much more adjustment.
  int64_t utc_offset = 0;
};

/// The live definition of a domain about to start from `def`: device
/// aliases, disk source indexes, memory rounded up to whole MiB, the CPU TCG
/// really gives (qemu64 plus the features QEMU adds), the clock in UTC, the
/// VNC listen address, the resource partition and the security label.
/// Before the command line is built, the caller gives each interface of type
/// bridge or network its tap device name (`target_dev`, libvirt: vnetN), and
/// each of type network the bridge and port UUID the network gave
/// (`actual_bridge`, `portid`). Once QEMU runs the caller sets
/// `memory.current_kib` from QMP `query-balloon` (libvirt shows what the
/// balloon reports).
xml::domain_def live_definition(const xml::domain_def& def, const start_facts& facts);

/// Sets the pty paths of serials and consoles from QMP `query-chardev`:
/// `label` ("charserial0") to `filename` ("pty:/dev/pts/3").
void set_chardev_paths(xml::domain_def& live, const std::map<std::string, std::string>& chardevs);

/// The id QEMU gives character device `alias` ("serial0" -> "charserial0").
std::string chardev_id(std::string_view alias);

} // namespace virtactor::drivers::qemu
