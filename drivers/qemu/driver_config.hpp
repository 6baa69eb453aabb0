/// The qemu driver's settings: where it keeps definitions, status files,
/// domain directories and logs (virtactor's own directories by default, so
/// that it never fights an installed libvirtd), the emulator, and the
/// deadlines that keep a hung QEMU from hanging anything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace virtactor::drivers::qemu {

/// The account QEMU runs as (libvirt's qemu.conf `user` and `group`).
struct qemu_account {
  std::string user; ///< the name, when the account has one
  std::string group;
  uint32_t uid = 0;
  uint32_t gid = 0;
  /// Supplementary groups, as initgroups would set them for `user`
  /// (`gid` alone when the uid has no name).
  std::vector<uint32_t> groups;

  /// "+UID:+GID": the DAC seclabel's label.
  std::string label() const { return "+" + std::to_string(uid) + ":+" + std::to_string(gid); }

  bool operator==(const qemu_account&) const = default;
};

struct driver_config {
  /// A root daemon serves qemu:///system, a user's serves qemu:///session.
  bool privileged = true;
  /// Persistent definitions NAME.xml, and autostart/NAME.xml links.
  std::string config_dir;
  /// Status files NAME.xml and pid files NAME.pid of running domains.
  std::string run_dir;
  /// Domain directories domain-ID-NAME (monitor socket, QEMU's HOME).
  std::string lib_dir;
  /// QEMU's output, NAME.log, appended per start.
  std::string log_dir;
  /// The emulator for domains whose definition names none.
  std::string emulator = "/usr/bin/qemu-system-x86_64";
  /// Every QMP command's deadline (VIR_ERR_OPERATION_TIMEOUT after it).
  std::chrono::milliseconds monitor_timeout{30'000};
  /// How long bulk statistics wait for one domain's QEMU before its record
  /// goes out with what the daemon knows without the monitor (never longer
  /// than `monitor_timeout`). libvirt waits 30 s for the domain's job.
  std::chrono::milliseconds stats_timeout{5'000};
  /// How long destroy waits after SIGTERM before SIGKILL (libvirt: 10 s).
  std::chrono::milliseconds destroy_grace{10'000};
  /// Start autostart domains when the driver initializes.
  bool autostart = true;
  /// Who QEMU runs as. Privileged: `libvirt-qemu` when that account exists,
  /// else root; a user's daemon: the user (dac.hpp, `resolve_qemu_account`).
  qemu_account account;
  /// Privileged only: the files QEMU opens by path belong to `account`
  /// while the domain runs, and go back to their owner when it stops
  /// (libvirt's qemu.conf `dynamic_ownership`).
  bool dynamic_ownership = true;

  /// The defaults: for a privileged daemon /etc/virtactor/qemu,
  /// /run/virtactor/qemu, /var/lib/virtactor/qemu, /var/log/virtactor/qemu;
  /// for a user's, $XDG_CONFIG_HOME/virtactor/qemu (config and lib),
  /// $XDG_RUNTIME_DIR/virtactor/qemu/run, $XDG_CACHE_HOME/virtactor/qemu/log
  /// (with GLib's fallbacks under $HOME).
  static driver_config defaults(bool privileged);
};

} // namespace virtactor::drivers::qemu
