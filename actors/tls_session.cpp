#include "actors/tls_session.hpp"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

namespace virtactor::tls {

namespace {

// --- a socket BIO that never raises SIGPIPE --------------------------------------

int socket_of(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

int bio_write(BIO* b, const char* buf, int len) {
  BIO_clear_retry_flags(b);
  auto n = ::send(socket_of(b), buf, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0) {
    if (would_block(errno))
      BIO_set_retry_write(b);
    return -1;
  }
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* buf, int len) {
  BIO_clear_retry_flags(b);
  auto n = ::recv(socket_of(b), buf, static_cast<size_t>(len), 0);
  if (n < 0) {
    if (would_block(errno))
      BIO_set_retry_read(b);
    return -1;
  }
  if (n == 0)
    BIO_set_flags(b, BIO_FLAGS_IN_EOF);
  return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long, void* ptr) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    case BIO_C_GET_FD:
      if (ptr)
        *static_cast<int*>(ptr) = socket_of(b);
      return socket_of(b);
    default:
      return 0;
  }
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    auto m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                          "virtactor socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    return m;
  }();
  return method;
}

// --- blocking steps with a deadline -----------------------------------------------

struct step_result {
  int rc = 0;
  /// SSL_get_error's verdict when `rc` <= 0.
  int ssl_error = SSL_ERROR_NONE;
  /// errno after a failed system call.
  int sys_errno = 0;
  bool timed_out = false;
  /// The cancel descriptor became readable.
  bool cancelled = false;
  /// OpenSSL's reason, when it gave one.
  std::string reason;

  bool ok() const { return rc > 0; }
};

/// Repeats `step` (an SSL_* call on the non-blocking `fd`) until it succeeds,
/// fails, `deadline` passes or `cancel_fd` (if not -1) becomes readable,
/// waiting with poll for what OpenSSL needs.
template <class Step>
step_result drive(SSL* ssl, int fd, clock::time_point deadline, int cancel_fd, Step step) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    step_result r;
    r.rc = step();
    if (r.rc > 0)
      return r;
    r.ssl_error = SSL_get_error(ssl, r.rc);
    r.sys_errno = errno;
    short events = 0;
    if (r.ssl_error == SSL_ERROR_WANT_READ)
      events = POLLIN;
    else if (r.ssl_error == SSL_ERROR_WANT_WRITE)
      events = POLLOUT;
    if (events == 0) {
      r.reason = last_openssl_error();
      return r;
    }
    for (;;) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) {
        r.timed_out = true;
        return r;
      }
      pollfd p[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
      int n = ::poll(p, cancel_fd >= 0 ? 2 : 1, static_cast<int>(left));
      if (n > 0 && p[1].revents != 0) {
        r.cancelled = true;
        return r;
      }
      if (n > 0)
        break;
      if (n < 0 && errno != EINTR) {
        r.sys_errno = errno;
        r.ssl_error = SSL_ERROR_SYSCALL;
        return r;
      }
    }
  }
}

/// Why a handshake step failed, in a few words.
std::string describe(const step_result& r) {
  if (r.timed_out)
    return std::strerror(ETIMEDOUT);
  if (r.cancelled)
    return "abandoned: the server is stopping";
  if (r.ssl_error == SSL_ERROR_ZERO_RETURN)
    return "the peer closed the connection";
  if (!r.reason.empty())
    return r.reason;
  if (r.sys_errno != 0)
    return std::strerror(r.sys_errno);
  return "the peer closed the connection";
}

virt_error auth_failed(const std::string& what) {
  return make_virt_error(error_code::auth_failed, error_domain::rpc,
                         "authentication failed: " + what);
}

virt_error peer_refused(const peer_check& check) {
  auto what = "Failed to verify peer's certificate: " + check.failure;
  if (!check.dn.empty())
    what += " (certificate DN '" + check.dn + "')";
  return auth_failed(what);
}

} // namespace

std::string peer_address_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto sa = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    return std::string{host} + ":" + std::to_string(ntohs(sa->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto sa = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
    return "[" + std::string{host} + "]:" + std::to_string(ntohs(sa->sin6_port));
  }
  return "local";
}

// --- session ----------------------------------------------------------------------

session::session(std::shared_ptr<context> ctx, unique_fd fd, SSL* ssl)
    : ctx_(std::move(ctx)), fd_(std::move(fd)), ssl_(ssl),
      peer_address_(peer_address_of(fd_.get())) {
  // nop
}

session::~session() {
  SSL_free(ssl_);
}

result<std::shared_ptr<session>> session::make(std::shared_ptr<context> ctx, unique_fd fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           std::string{"Unable to set socket non-blocking: "} +
                               std::strerror(errno));
  SSL* ssl = SSL_new(ctx->native());
  BIO* bio = ssl ? BIO_new(socket_method()) : nullptr;
  if (!bio) {
    SSL_free(ssl);
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Failed to initialize TLS session: " + last_openssl_error());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd.get())));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  return std::shared_ptr<session>{new session(std::move(ctx), std::move(fd), ssl)};
}

void session::notify_close() {
  if (ssl_ && SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
}

// --- libvirt's opening sequence ---------------------------------------------------

result<void> session::handshake(clock::time_point deadline,
                                const std::optional<std::string>& hostname, int cancel_fd) {
  const bool server = ctx_->options().role == role::server;
  SSL* ssl = ssl_;
  if (server)
    SSL_set_accept_state(ssl);
  else
    SSL_set_connect_state(ssl);
  auto hs = drive(ssl, fd(), deadline, cancel_fd, [ssl] { return SSL_do_handshake(ssl); });
  if (!hs.ok())
    return auth_failed("TLS handshake failed " + describe(hs));
  auto check = ctx_->check_peer(ssl, hostname);
  peer_dn_ = check.dn;
  peer_failure_ = check.failure;
  if (!check.failure.empty() && ctx_->options().require_valid_peer) {
    // A refused client gets no confirmation byte: it learns that, nothing more.
    if (server)
      notify_close();
    return peer_refused(check);
  }
  return {};
}

result<std::shared_ptr<session>> connect(std::shared_ptr<context> ctx, unique_fd fd,
                                         const std::string& hostname, clock::time_point deadline) {
  auto s = session::make(std::move(ctx), std::move(fd));
  if (!s)
    return s.error();
  if (auto ok = (*s)->handshake(deadline, hostname); !ok)
    return ok.error();
  // Now the server checks our certificate; it answers 0x01 or closes.
  SSL* ssl = (*s)->native();
  unsigned char confirm = 0;
  auto rd =
      drive(ssl, (*s)->fd(), deadline, -1, [ssl, &confirm] { return SSL_read(ssl, &confirm, 1); });
  if (rd.ok() ? confirm != 1 : rd.ssl_error == SSL_ERROR_ZERO_RETURN && !rd.timed_out)
    return make_virt_error(error_code::rpc, error_domain::rpc,
                           "server verification (of our certificate or IP address) failed");
  if (!rd.ok())
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           std::string{"Unable to read TLS confirmation: "} +
                               std::strerror(rd.timed_out ? ETIMEDOUT : EIO));
  return s;
}

result<std::shared_ptr<session>> accept(std::shared_ptr<context> ctx, unique_fd fd,
                                        clock::time_point deadline, int cancel_fd) {
  auto s = session::make(std::move(ctx), std::move(fd));
  if (!s)
    return s.error();
  if (auto ok = (*s)->handshake(deadline, std::nullopt, cancel_fd); !ok)
    return ok.error();
  SSL* ssl = (*s)->native();
  const unsigned char confirm = 1;
  auto wr = drive(ssl, (*s)->fd(), deadline, cancel_fd,
                  [ssl, &confirm] { return SSL_write(ssl, &confirm, 1); });
  if (!wr.ok())
    return make_virt_error(error_code::system_error, error_domain::rpc,
                           "Unable to send TLS confirmation: " + describe(wr));
  return s;
}

int session::cipher_bits() const {
  return SSL_get_cipher_bits(ssl_, nullptr);
}

} // namespace virtactor::tls
