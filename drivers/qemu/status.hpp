/// The status file of a running qemu domain (libvirt's /run/libvirt/qemu/NAME.xml,
/// in virtactor's own form): what a restarted daemon needs to find the same
/// QEMU again and rebuild the live definition. Pure code: format and parse.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::drivers::qemu {

/// A file's owner before the DAC relabelling of a start (docs/qemu.md,
/// "Security (DAC)"): what the domain's stop gives back.
struct file_owner {
  std::string path;
  uint32_t uid = 0;
  uint32_t gid = 0;

  bool operator==(const file_owner&) const = default;
};

struct domain_status {
  int32_t id = -1;
  int32_t state = 0;  ///< virDomainState
  int32_t reason = 0; ///< its reason
  int32_t pid = 0;
  /// /proc/PID/stat start time: tells a recycled pid from our QEMU.
  uint64_t start_time = 0;
  std::string monitor_path;
  std::string domain_dir;
  /// The domain has a persistent definition (else it is transient).
  bool persistent = false;
  bool autostart = false;
  /// QMP `query-chardev`: label -> filename ("pty:/dev/pts/3").
  std::map<std::string, std::string> chardevs;
  /// The port of each `<graphics>`, in order.
  std::vector<int> graphics_ports;
  /// What the balloon reports, KiB (0: unknown).
  uint64_t balloon_kib = 0;
  /// A guest shutdown was seen (its end is a shutdown, not a crash).
  bool shutdown_seen = false;
  /// A reboot was asked: the next guest power-off restarts it.
  bool fake_reboot = false;
  /// Files given to QEMU's account at start, with their owners before.
  std::vector<file_owner> owners;
  /// The definition the domain started from, as define printed it
  /// (inactive form); the live definition is derived from it again.
  std::string definition;

  bool operator==(const domain_status&) const = default;
};

/// The document of `s`.
std::string format_status(const domain_status& s);

/// Reads a status document; a broken one gives VIR_ERR_XML_ERROR.
result<domain_status> parse_status(std::string_view text);

} // namespace virtactor::drivers::qemu
