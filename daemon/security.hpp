/// Where virtactord's configuration meets its security at start-up: the unix
/// sockets' group, the locked pid file, what authentication needs before the
/// first client (SASL's library), and the settings every session gets
/// (authentication per socket, bounds per client, the test-driver file
/// policy, XML limits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/config.hpp"
#include "daemon/session.hpp"
#include "protocol/error.hpp"

namespace virtactor::daemon {

/// `unix_sock_group` as a group id (a name, or a number); nothing when unset.
/// An unknown group is libvirtd's "invalid argument: Failed to parse group 'X'".
result<std::optional<uint32_t>> socket_group(const daemon_config& cfg);

/// The pid file, locked (fcntl) for as long as the daemon runs: a second
/// daemon given the same file is refused with libvirtd's "Failed to acquire
/// pid file '<path>': ..." and leaves it alone. Removed when released.
class pid_file {
public:
  /// Locks `path` (creating it, empty) before the daemon touches anything.
  static result<pid_file> acquire(const std::string& path);

  /// Writes this process's pid, once the daemon serves.
  result<void> write_pid();

  pid_file() = default;
  pid_file(pid_file&& other) noexcept;
  pid_file& operator=(pid_file&& other) noexcept;
  pid_file(const pid_file&) = delete;
  pid_file& operator=(const pid_file&) = delete;
  /// Removes the file, then drops the lock.
  ~pid_file();

private:
  std::string path_;
  int fd_ = -1;
};

/// Makes ready what the configured authentication needs before any client
/// comes (SASL's library, with the "libvirt" application name).
result<void> prepare_authentication(const daemon_config& cfg);

/// Fills in what `cfg` says about security for every socket: client bounds,
/// the test-driver file policy, error length, the SASL username list; and
/// sets the XML limits of the drivers' parsers (process-wide).
void apply_security(const daemon_config& cfg, session_options& opts);

} // namespace virtactor::daemon
