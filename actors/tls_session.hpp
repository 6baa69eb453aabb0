/// One TLS connection of the tls transport, and libvirt's opening sequence
/// on both ends: the handshake, the check of the peer's certificate, and the
/// one confirmation byte (0x01) the server sends when it lets the client in.
/// These block (with poll, within a deadline): run them off the actor
/// threads, e.g. on a connector's or a detached actor's thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/fd.hpp"
#include "actors/tls_context.hpp"
#include "protocol/error.hpp"

namespace virtactor::tls {

using clock = std::chrono::steady_clock;

/// An established TLS connection: the socket, the OpenSSL session on it and
/// what was learnt about the peer. The socket stays non-blocking; OpenSSL
/// reaches it through a BIO that sends with MSG_NOSIGNAL, so a peer that
/// has gone never raises SIGPIPE.
class session {
public:
  /// Wraps the connected socket `fd` (made non-blocking here).
  static result<std::shared_ptr<session>> make(std::shared_ptr<context> ctx, unique_fd fd);

  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  ssl_st* native() const { return ssl_; }
  /// The socket, or -1 once `release_fd` handed it on.
  int fd() const { return fd_.get(); }
  /// Hands the socket to whoever closes it from now on (a scribe).
  int release_fd() { return fd_.release(); }
  /// The peer's address, "127.0.0.1:4711" or "[::1]:4711".
  const std::string& peer_address() const { return peer_address_; }
  /// The secret key bits of the negotiated cipher (SASL's external SSF).
  int cipher_bits() const;
  /// The peer certificate's DN; empty without one.
  const std::string& peer_dn() const { return peer_dn_; }
  /// Why the peer's certificate failed the checks ("" if it passed); a
  /// session carries such a peer only with `require_valid_peer` off.
  const std::string& peer_failure() const { return peer_failure_; }
  const context& tls_context() const { return *ctx_; }

  /// Sends close_notify (best effort, without waiting).
  void notify_close();

  /// The handshake and the checks of the peer's certificate, by `deadline`
  /// or until `cancel_fd` (if not -1) becomes readable (the opening up to the
  /// confirmation byte; see `connect` and `accept`). A server that refuses
  /// its client sends close_notify.
  result<void> handshake(clock::time_point deadline, const std::optional<std::string>& hostname,
                         int cancel_fd = -1);

private:
  session(std::shared_ptr<context> ctx, unique_fd fd, ssl_st* ssl);

  std::shared_ptr<context> ctx_;
  unique_fd fd_;
  ssl_st* ssl_;
  std::string peer_address_;
  std::string peer_dn_;
  std::string peer_failure_;
};

/// The peer of socket `fd` as "127.0.0.1:4711" or "[::1]:4711" ("?" if unknown).
std::string peer_address_of(int fd);

/// Client side, over the connected socket `fd` to `hostname`, as libvirt's
/// virNetClientSetTLSSession: handshake (VIR_ERR_AUTH_FAILED "authentication
/// failed: TLS handshake failed ..."), check the server's certificate unless
/// the context does not require it (VIR_ERR_AUTH_FAILED "authentication
/// failed: Failed to verify peer's certificate: <reason>"), then read the
/// server's confirmation byte (VIR_ERR_SYSTEM_ERROR "Unable to read TLS
/// confirmation: ..." when the connection breaks; VIR_ERR_RPC "server
/// verification (of our certificate or IP address) failed" when the server
/// closes it or sends anything but 0x01). Every step ends by `deadline`.
result<std::shared_ptr<session>> connect(std::shared_ptr<context> ctx, unique_fd fd,
                                         const std::string& hostname, clock::time_point deadline);

/// Server side, over the accepted socket `fd`: handshake, check the client's
/// certificate and DN (unless the context lets every client in), send the
/// confirmation byte. A refused client gets close_notify and nothing else;
/// the error (VIR_ERR_AUTH_FAILED) names the client and the reason, for the
/// daemon's log. Every step ends by `deadline`, or as soon as `cancel_fd`
/// (if not -1) becomes readable: a stopping server abandons its openings.
result<std::shared_ptr<session>> accept(std::shared_ptr<context> ctx, unique_fd fd,
                                        clock::time_point deadline, int cancel_fd = -1);

} // namespace virtactor::tls
