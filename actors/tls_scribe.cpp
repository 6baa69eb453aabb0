#include "actors/tls_scribe.hpp"

#include <algorithm>
#include <climits>

#include <caf/io/abstract_broker.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "actors/flow_stream.hpp"
#include "actors/stream_scribe.hpp"

namespace virtactor::tls {

namespace {

namespace net = caf::io::network;

/// `stream_impl`'s policy over OpenSSL: "want read/write" means "nothing
/// now", anything else ends the stream.
class tls_policy {
public:
  explicit tls_policy(std::shared_ptr<session> s) : session_(std::move(s)) {}

  net::rw_state read_some(size_t& n, net::native_socket, void* buf, size_t len) {
    n = 0;
    ERR_clear_error();
    int rc = SSL_read(ssl(), buf, clamp(len));
    if (rc > 0) {
      n = static_cast<size_t>(rc);
      return net::rw_state::success;
    }
    return again(rc) ? net::rw_state::success : net::rw_state::failure;
  }

  net::rw_state write_some(size_t& n, net::native_socket, const void* buf, size_t len) {
    n = 0;
    ERR_clear_error();
    int rc = SSL_write(ssl(), buf, clamp(len));
    if (rc > 0) {
      n = static_cast<size_t>(rc);
      if (closing && n == len)
        session_->notify_close(); // the last bytes before the stream's FIN
      return net::rw_state::success;
    }
    return again(rc) ? net::rw_state::success : net::rw_state::failure;
  }

  /// OpenSSL may hold decrypted bytes the socket will never announce again.
  bool must_read_more(net::native_socket, size_t) { return SSL_pending(ssl()) > 0; }

  void notify_close() { session_->notify_close(); }

  /// Set by the stream while its last output is being written.
  bool closing = false;

private:
  SSL* ssl() const { return session_->native(); }

  static int clamp(size_t len) { return static_cast<int>(std::min<size_t>(len, INT_MAX)); }

  bool again(int rc) {
    int err = SSL_get_error(ssl(), rc);
    ERR_clear_error();
    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE;
  }

  std::shared_ptr<session> session_;
};

/// A CAF stream over `tls_policy` that ends with close_notify; its reading
/// can stop and restart at any time (actors/flow_stream.hpp).
class tls_stream : public flow::stream {
public:
  tls_stream(net::default_multiplexer& mpx, std::shared_ptr<session> s)
      : flow::stream(mpx, s->release_fd()), policy_(std::move(s)) {
    // nop
  }

  void handle_event(net::operation op) override {
    if (op == net::operation::write)
      policy_.closing = state_.shutting_down && wr_buf().empty();
    handle_event_impl(op, policy_);
  }

  void graceful_shutdown() override {
    // With output pending, close_notify follows its last byte (see above).
    if (!state_.shutting_down && !state_.writing)
      policy_.notify_close();
    stream::graceful_shutdown();
  }

private:
  tls_policy policy_;
};

/// The scribe a frame broker adopts.
using tls_scribe = stream_scribe<tls_stream>;

} // namespace

stream_endpoint make_stream(std::shared_ptr<session> s, std::string description) {
  stream_endpoint out;
  out.make_scribe = [s](caf::io::abstract_broker* broker) -> caf::io::scribe_ptr {
    auto& mpx = static_cast<net::default_multiplexer&>(broker->backend());
    return caf::make_counted<tls_scribe>(s->fd(), s->peer_address(), mpx, s);
  };
  out.peer = describe_socket(s->fd(), s->cipher_bits());
  out.owner = std::move(s);
  out.description = std::move(description);
  return out;
}

} // namespace virtactor::tls
