#include "actors/fd.hpp"

#include <arpa/inet.h>

#include "actors/stream.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace virtactor {

void unique_fd::reset(int fd) {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = fd;
}

namespace {

virt_error sys_error(const std::string& what, int err) {
  return make_system_error(error_domain::rpc, what, err);
}

bool make_unix_addr(const std::string& path, sockaddr_un& sa) {
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return false;
  std::memcpy(sa.sun_path, path.data(), path.size());
  return true;
}

/// Finishes a non-blocking connect within `timeout_ms`; leaves `fd` blocking.
int finish_connect(int fd, const sockaddr* sa, socklen_t len, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, sa, len);
  // A unix socket whose listener's backlog is full answers EAGAIN: no
  // connection was started (nothing to poll for), so try again until the
  // listener takes it or the time is up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  while (rc != 0 && errno == EAGAIN && sa->sa_family == AF_UNIX &&
         std::chrono::steady_clock::now() < deadline) {
    ::poll(nullptr, 0, 5);
    rc = ::connect(fd, sa, len);
  }
  int err = rc == 0 ? 0 : errno;
  if (rc != 0 && errno == EAGAIN && sa->sa_family == AF_UNIX)
    err = ETIMEDOUT;
  else if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int n;
    do
      n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
      err = ETIMEDOUT;
    } else if (n < 0) {
      err = errno;
    } else {
      socklen_t el = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    }
  }
  fcntl(fd, F_SETFL, flags);
  return err;
}

} // namespace

result<unique_fd> listen_unix(const std::string& path, unsigned mode,
                              std::optional<uint32_t> group) {
  sockaddr_un sa;
  if (!make_unix_addr(path, sa))
    return make_virt_error(error_code::internal_error, error_domain::rpc,
                           "internal error: UNIX socket path '" + path + "' too long");
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return sys_error("Failed to create socket", errno);
  // The socket file is born with `mode` at most (libvirt sets the umask
  // around bind): no moment in which anyone else may connect. The daemon is
  // still single-threaded here.
  auto bind_restricted = [&] {
    auto old_mask = ::umask(~mode & 0777);
    int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    int err = errno;
    ::umask(old_mask);
    errno = err;
    return rc;
  };
  if (bind_restricted() != 0) {
    if (errno != EADDRINUSE)
      return sys_error("Failed to bind socket to '" + path + "'", errno);
    // Someone left a socket file. Replace it unless a daemon still answers.
    if (connect_unix(path, 1000))
      return make_virt_error(error_code::system_error, error_domain::rpc,
                             "another daemon is already listening on '" + path + "'");
    ::unlink(path.c_str());
    if (bind_restricted() != 0)
      return sys_error("Failed to bind socket to '" + path + "'", errno);
  }
  if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0)
    return sys_error("Failed to change group ID of '" + path + "' to " + std::to_string(*group),
                     errno);
  if (::chmod(path.c_str(), mode) != 0)
    return sys_error("Failed to change permissions of '" + path + "'", errno);
  if (::listen(fd.get(), 128) != 0)
    return sys_error("Failed to listen on '" + path + "'", errno);
  return fd;
}

result<unique_fd> listen_tcp(const std::string& addr, uint16_t port, uint16_t& bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  int rc = ::getaddrinfo(addr.empty() ? nullptr : addr.c_str(), service.c_str(), &hints, &res);
  if (rc != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Cannot resolve listen address '" + addr + "': " + gai_strerror(rc));
  virt_error last = make_virt_error(error_code::system_error, error_domain::rpc,
                                    "No usable listen address for '" + addr + "'");
  // Prefer IPv6 "any" (it takes IPv4 too) when no address is given.
  for (auto ai = res; ai; ai = ai->ai_next) {
    unique_fd fd{::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)};
    if (!fd) {
      last = sys_error("Failed to create socket", errno);
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
      int zero = 0;
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 128) != 0) {
      last = sys_error("Failed to bind socket to port " + service, errno);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    bound_port = ss.ss_family == AF_INET6
                   ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return last;
}

result<unique_fd> connect_unix(const std::string& path, int timeout_ms) {
  sockaddr_un sa;
  if (!make_unix_addr(path, sa))
    return make_virt_error(error_code::internal_error, error_domain::rpc,
                           "internal error: UNIX socket path '" + path + "' too long");
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return sys_error("Failed to create socket", errno);
  if (int err = finish_connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa, timeout_ms))
    return sys_error("Failed to connect socket to '" + path + "'", err);
  return fd;
}

result<unique_fd> connect_tcp(const std::string& host, uint16_t port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "unable to resolve '" + host + "': " + gai_strerror(rc));
  int err = 0;
  for (auto ai = res; ai; ai = ai->ai_next) {
    unique_fd fd{::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)};
    if (!fd) {
      err = errno;
      continue;
    }
    err = finish_connect(fd.get(), ai->ai_addr, ai->ai_addrlen, timeout_ms);
    if (err == 0) {
      int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(res);
      return fd;
    }
  }
  freeaddrinfo(res);
  return sys_error("unable to connect to server at '" + host + ":" + service + "'", err);
}

uint64_t raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    auto want = rl.rlim_max;
    if (want == RLIM_INFINITY) {
      // Linux refuses an infinite descriptor limit; its ceiling is nr_open.
      want = 1048576;
      if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
        unsigned long long n = 0;
        if (std::fscanf(f, "%llu", &n) == 1 && n > 0)
          want = static_cast<rlim_t>(n);
        std::fclose(f);
      }
    }
    rlimit up{want, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
      rl.rlim_cur = want;
  }
  return rl.rlim_cur;
}

namespace {

/// "IP;PORT" (libvirt's virSocketAddrFormatFull with ";"); a unix socket
/// counts as "127.0.0.1;0", as in libvirt.
std::string sasl_address(const sockaddr_storage& sa) {
  char host[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET) {
    auto& in = reinterpret_cast<const sockaddr_in&>(sa);
    ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    return std::string{host} + ";" + std::to_string(ntohs(in.sin_port));
  }
  if (sa.ss_family == AF_INET6) {
    auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
    return std::string{host} + ";" + std::to_string(ntohs(in6.sin6_port));
  }
  return "127.0.0.1;0";
}

} // namespace

stream_peer describe_socket(int fd, int tls_ssf) {
  stream_peer out;
  out.tls_ssf = tls_ssf;
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    out.local_addr = sasl_address(sa);
  sa = {};
  len = sizeof sa;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    out.remote_addr = sasl_address(sa);
  return out;
}

} // namespace virtactor
