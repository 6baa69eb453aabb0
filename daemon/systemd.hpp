/// virtactord under systemd, through libsystemd: readiness notification
/// (`sd_notify`, Type=notify units) and socket activation (`sd_listen_fds`:
/// the sockets of virtactord.socket and virtactord-ro.socket, or of any
/// socket unit whose addresses match the configuration).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/fd.hpp"

namespace virtactor::daemon {

/// Sends `state` ("READY=1", "STOPPING=1", ...) to systemd when it asked for
/// notifications (NOTIFY_SOCKET); does nothing otherwise.
void notify_systemd(const std::string& state);

/// The sockets systemd passed, sorted by what they serve.
struct activated_sockets {
  std::optional<unique_fd> unix_rw;
  std::optional<unique_fd> unix_ro;
  std::optional<unique_fd> tcp;
  std::optional<unique_fd> tls;
  /// Passed sockets that match none of the above (closed; named for the log).
  std::vector<std::string> unclaimed;
  /// True if systemd passed any socket at all.
  bool any = false;
};

/// Takes the sockets systemd passed (LISTEN_PID/LISTEN_FDS, which are then
/// unset) and sorts them by address: the unix sockets at `rw_path` and
/// `ro_path`, the TCP sockets on `tcp_port` and `tls_port` (0: none).
activated_sockets take_activated_sockets(const std::string& rw_path, const std::string& ro_path,
                                         uint16_t tcp_port, uint16_t tls_port);

} // namespace virtactor::daemon
