#include "daemon/systemd.hpp"

#include <arpa/inet.h>
#include <cstddef>
#include <fcntl.h>
#include <unistd.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>

namespace virtactor::daemon {

void notify_systemd(const std::string& state) {
  // unset_environment = 0: a SIGHUP-reloaded daemon still notifies.
  ::sd_notify(0, state.c_str());
}

namespace {

/// What a passed socket is bound to: a unix path or a TCP port.
std::string describe(int fd, std::string& unix_path, int& port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return "fd " + std::to_string(fd) + " (not a socket)";
  if (ss.ss_family == AF_UNIX) {
    auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
    size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    unix_path.assign(sun->sun_path, strnlen(sun->sun_path, n));
    return "unix socket '" + unix_path + "'";
  }
  if (ss.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  else if (ss.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return "tcp port " + std::to_string(port);
}

} // namespace

activated_sockets take_activated_sockets(const std::string& rw_path, const std::string& ro_path,
                                         uint16_t tcp_port, uint16_t tls_port) {
  activated_sockets out;
  int n = ::sd_listen_fds(1);
  if (n <= 0)
    return out;
  out.any = true;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    std::string path;
    int port = -1;
    auto what = describe(fd, path, port);
    std::optional<unique_fd>* slot = nullptr;
    if (::sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
      if (!path.empty() && path == rw_path)
        slot = &out.unix_rw;
      else if (!path.empty() && path == ro_path)
        slot = &out.unix_ro;
      else if (port > 0 && port == tcp_port)
        slot = &out.tcp;
      else if (port > 0 && port == tls_port)
        slot = &out.tls;
    }
    if (slot == nullptr || slot->has_value()) {
      out.unclaimed.push_back(what);
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    slot->emplace(fd);
  }
  return out;
}

} // namespace virtactor::daemon
