#include "daemon/security.hpp"

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/accounts.hpp"
#include "actors/sasl.hpp"
#include "drivers/xml/limits.hpp"

namespace virtactor::daemon {

namespace {

virt_error system_error(const std::string& what, int err) {
  return make_system_error(error_domain::none, what, err);
}

} // namespace

result<std::optional<uint32_t>> socket_group(const daemon_config& cfg) {
  if (!cfg.unix_sock_group)
    return std::optional<uint32_t>{};
  const auto& name = *cfg.unix_sock_group;
  // libvirt's virGetGroupID: a name first, then a number ("+N" forces one).
  auto g = parse_group(name);
  if (!g)
    return make_virt_error(error_code::invalid_arg, error_domain::none,
                           "invalid argument: Failed to parse group '" + name + "'");
  return std::optional<uint32_t>{g->id};
}

// --- pid file ----------------------------------------------------------------

result<pid_file> pid_file::acquire(const std::string& path) {
  // libvirt's virPidFileAcquirePath: open, lock, make sure the file we
  // locked is still the one at `path` (a daemon going away unlinks it),
  // then write the pid.
  for (int attempt = 0; attempt < 10; ++attempt) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return system_error("Failed to open pid file '" + path + "'", errno);
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    lk.l_start = 0;
    lk.l_len = 1;
    if (::fcntl(fd, F_SETLK, &lk) != 0) {
      int err = errno;
      ::close(fd);
      return system_error("Failed to acquire pid file '" + path + "'", err);
    }
    struct stat by_fd {}, by_path {};
    if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0 ||
        by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev) {
      ::close(fd);
      continue; // lost a race with the file's removal: take the new one
    }
    if (::ftruncate(fd, 0) != 0) {
      int err = errno;
      ::close(fd);
      return system_error("Failed to write pid file '" + path + "'", err);
    }
    pid_file out;
    out.path_ = path;
    out.fd_ = fd;
    return out;
  }
  return make_virt_error(error_code::system_error, error_domain::none,
                         "Failed to acquire pid file '" + path + "': it keeps being replaced");
}

result<void> pid_file::write_pid() {
  if (fd_ < 0)
    return {};
  auto text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return system_error("Failed to write pid file '" + path_ + "'", errno);
  return {};
}

pid_file::pid_file(pid_file&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

pid_file& pid_file::operator=(pid_file&& other) noexcept {
  if (this != &other) {
    this->~pid_file();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

pid_file::~pid_file() {
  if (fd_ < 0)
    return;
  ::unlink(path_.c_str()); // still holding the lock: nobody else owns it
  ::close(fd_);
  fd_ = -1;
}

// --- authentication and sessions ---------------------------------------------

result<void> prepare_authentication(const daemon_config& cfg) {
  bool sasl = cfg.auth_unix_rw == auth_method::sasl || cfg.auth_unix_ro == auth_method::sasl ||
              cfg.auth_tcp == auth_method::sasl || cfg.auth_tls == auth_method::sasl;
  if (!sasl)
    return {};
  // Opens SASL's library (and its configuration) now, as libvirtd does, so
  // that a broken set-up stops the start rather than every client.
  auto probe = sasl::server::make(stream_peer{"127.0.0.1;0", "127.0.0.1;0", 0}, {});
  if (!probe)
    return probe.error();
  return {};
}

void apply_security(const daemon_config& cfg, session_options& opts) {
  opts.sasl_allowed_usernames = cfg.sasl_allowed_username_list;
  opts.tcp_min_ssf = static_cast<int>(cfg.tcp_min_ssf);
  opts.limits.max_pending_messages = cfg.max_client_pending_calls;
  opts.limits.max_pending_bytes = cfg.max_client_pending_bytes;
  opts.limits.max_unsent_bytes = cfg.max_client_unsent_bytes;
  opts.limits.drop_unsent_bytes = cfg.max_client_unsent_bytes_hard;
  opts.allow_test_driver_files = cfg.allow_test_driver_files;
  opts.max_test_driver_file_size = cfg.max_test_driver_file_size;
  opts.max_error_length = cfg.max_error_length;
  drivers::xml::set_document_limits({cfg.max_xml_size, cfg.max_xml_depth});
}

} // namespace virtactor::daemon
