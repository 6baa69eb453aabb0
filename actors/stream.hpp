/// A connected byte stream, as every transport (unix, tcp, tls, ssh, libssh2,
/// ext) hands it to a frame broker: a socket the broker adopts as it is, or a
/// custom scribe (TLS over a socket), plus whatever must live exactly as long
/// as the stream (a child process to reap, a pump thread, a TLS session).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <caf/io/fwd.hpp>

#include "actors/fd.hpp"

namespace virtactor {

/// Makes the scribe of a custom stream on the broker's multiplexer.
using scribe_factory = std::function<caf::io::scribe_ptr(caf::io::abstract_broker* broker)>;

/// What is known of the two ends of a stream, for SASL (libvirt's address
/// strings): "IP;PORT" of each end, "127.0.0.1;0" on unix sockets.
struct stream_peer {
  std::string local_addr;
  std::string remote_addr;
  /// The key size in bits of the TLS session carrying the stream (SASL's
  /// external SSF); 0 without TLS.
  int tls_ssf = 0;
  /// The transport itself keeps the stream private (unix socket, TLS, SSH);
  /// false on plain TCP, where SASL must bring a security layer.
  bool secure = true;
};

/// The addresses of connected socket `fd` as SASL wants them.
stream_peer describe_socket(int fd, int tls_ssf = 0);

/// One connected stream, ready for a frame broker.
struct stream_endpoint {
  /// A connected stream socket (a socketpair end for process and pump
  /// transports). Used when `make_scribe` is empty.
  unique_fd fd;
  /// A custom scribe instead of `fd` (e.g. OpenSSL over a socket).
  scribe_factory make_scribe;
  /// Released when the stream ends: reaps child processes, stops pump
  /// threads, frees TLS state. May be null.
  std::shared_ptr<void> owner;
  /// For messages and logs: "unix:/run/libvirt/libvirt-sock", "tls:host:16514".
  std::string description;
  /// Why the stream ended, when the transport knows more than "end of file"
  /// (what a helper process wrote to stderr, a remote exit status). Asked
  /// once the stream has ended; cheap and non-blocking. May be empty (its
  /// `{}` keeps brace-initialisers that stop at `description` warning-free).
  std::function<std::optional<virt_error>()> explain_end{};
  /// The two ends, for authentication.
  stream_peer peer{};
};

} // namespace virtactor
