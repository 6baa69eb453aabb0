/// Small owners for file descriptors, and socket helpers shared by the daemon's
/// listeners and the client transports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "protocol/error.hpp"

namespace virtactor {

/// Owns one file descriptor and closes it.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  /// Gives up ownership.
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

private:
  int fd_ = -1;
};

/// A listening unix socket at `path` with permissions `mode` (e.g. 0777) and,
/// when given, group `group`; the socket never exists with other
/// permissions. A stale socket file is replaced; a live one (another daemon
/// answers) is an error.
result<unique_fd> listen_unix(const std::string& path, unsigned mode,
                              std::optional<uint32_t> group = std::nullopt);

/// A listening TCP socket on `addr` (empty: all addresses) and `port` (0: any
/// free port). Returns the socket; `bound_port` receives the actual port.
result<unique_fd> listen_tcp(const std::string& addr, uint16_t port, uint16_t& bound_port);

/// Connects a unix stream socket to `path`, blocking for at most `timeout_ms`.
result<unique_fd> connect_unix(const std::string& path, int timeout_ms);

/// Connects a TCP socket to `host`:`port` (name resolution included), trying
/// each address for at most `timeout_ms`.
result<unique_fd> connect_tcp(const std::string& host, uint16_t port, int timeout_ms);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t raise_fd_limit();

} // namespace virtactor
