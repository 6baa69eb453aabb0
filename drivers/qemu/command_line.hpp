/// The QEMU command line of a domain: from a live `domain_def` (qemu::
/// live_definition) and the facts of this start to argv, environment and the
/// descriptors QEMU inherits, in libvirt 9.0's order and syntax (JSON
/// `-blockdev`, `-device`, `-netdev`, `-object`). Pure code: no CAF, no I/O.
///
/// Deliberate differences from libvirt (docs/qemu.md): the master key secret
/// is printed only when the caller has created one (`runtime_facts::
/// master_key`); no cgroups, no namespaces and no seclabel relabelling come
/// with the command line; everything else, including `-sandbox` and `-msg
/// timestamp=on`, is what libvirt passes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"

namespace virtactor::drivers::qemu {

/// A descriptor QEMU inherits. The launcher opens it and places it at `fd`
/// in the child (dup2), with close-on-exec cleared.
struct passed_fd {
  enum class kind {
    monitor,     ///< the QMP socket: bound and listening (backlog 1) at `path`
    unix_listen, ///< a serial of type unix, mode bind: bound and listening at `path`
    file_append, ///< a serial of type file: `path` opened O_WRONLY|O_APPEND|O_CREAT (0600)
    /// an interface of type bridge or network: the tap device `path`
    /// (made before the command line by tap.hpp: IFF_TAP|IFF_NO_PI, with
    /// IFF_VNET_HDR for virtio, its MAC the guest's with fe as first byte,
    /// attached to `bridge` and up, what libvirt does)
    tap,
  };
  kind what;
  int fd;
  std::string path;
  std::string bridge; ///< tap only

  bool operator==(const passed_fd&) const = default;
};

/// The facts of one start that the definition does not hold. (The machine,
/// the emulator and KVM come from the definition; QEMU's stdout and stderr
/// go to the domain log, which is the launcher's business, not the argv's.)
struct runtime_facts {
  /// The domain's private directory (libvirt: /var/lib/libvirt/qemu/domain-ID-NAME):
  /// HOME and XDG_* of QEMU, and the monitor socket `monitor.sock` in it.
  std::string domain_dir;
  std::string path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int monitor_fd = 3; ///< the monitor socket's descriptor in QEMU
  int first_fd = 4;   ///< further descriptors get numbers from here on
  /// A file of 32 random bytes for QEMU's `masterKey0` secret (libvirt:
  /// DIR/master-key.aes); empty: no secret object.
  std::string master_key;
  bool sandbox = true; ///< `-sandbox on,...` (QEMU's seccomp filter), as libvirt
  /// The TCP port of each `<graphics>` (VNC: 5900 + display), chosen before
  /// start for autoport; 0 or missing: the definition's port.
  std::vector<int> graphics_ports;
  int64_t now = 0; ///< seconds since the epoch, UTC (clock offset 'variable')
};

/// What to exec.
struct command_line {
  std::vector<std::pair<std::string, std::string>> env; ///< the whole environment
  std::vector<std::string> argv;                        ///< argv[0]: the emulator
  std::vector<passed_fd> fds;                           ///< the monitor first
};

/// Builds the command line of `live`. Errors: VIR_ERR_CONFIG_UNSUPPORTED for
/// a definition outside the driver's subset (which `qemu::parse_domain`
/// refuses before).
result<command_line> build_command_line(const xml::domain_def& live, const runtime_facts& rt);

/// The command line as libvirt logs it in NAME.log: environment and argv, an
/// option with its value per line, lines joined by " \\\n", values quoted for
/// a shell where needed; no final newline.
std::string format_for_log(const command_line& cmd);

} // namespace virtactor::drivers::qemu
