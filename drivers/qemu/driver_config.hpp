/// The qemu driver's settings: where it keeps definitions, status files,
/// domain directories and logs (virtactor's own directories by default, so
/// that it never fights an installed libvirtd), the emulator, and the
/// deadlines that keep a hung QEMU from hanging anything else.
#pragma once

#include <chrono>
#include <string>

namespace virtactor::drivers::qemu {

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
  /// How long destroy waits after SIGTERM before SIGKILL (libvirt: 10 s).
  std::chrono::milliseconds destroy_grace{10'000};
  /// Start autostart domains when the driver initializes.
  bool autostart = true;

  /// The defaults: for a privileged daemon /etc/virtactor/qemu,
  /// /run/virtactor/qemu, /var/lib/virtactor/qemu, /var/log/virtactor/qemu;
  /// for a user's, $XDG_CONFIG_HOME/virtactor/qemu (config and lib),
  /// $XDG_RUNTIME_DIR/virtactor/qemu/run, $XDG_CACHE_HOME/virtactor/qemu/log
  /// (with GLib's fallbacks under $HOME).
  static driver_config defaults(bool privileged);
};

} // namespace virtactor::drivers::qemu
