/// A blocking, byte-level libvirt RPC client for tests: sends well-formed or
/// deliberately broken frames and reads whole messages with deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>

#include "actors/fd.hpp"
#include "protocol/header.hpp"
#include "protocol/procedures.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::interop {

using namespace std::chrono_literals;

/// One message as received: its header and the payload after it.
struct raw_message {
  protocol::header hdr;
  xdr::buffer payload;

  bool is_reply() const { return hdr.type == protocol::msg_type::reply; }
  bool is_error() const { return is_reply() && hdr.status == protocol::msg_status::error; }
  bool is_keepalive(protocol::keepalive_proc p) const {
    return hdr.prog == protocol::program::keepalive && hdr.type == protocol::msg_type::message &&
           hdr.proc == static_cast<int32_t>(p);
  }
  /// The `remote_error` of an error reply (throws when it does not decode).
  protocol::remote_error error() const;
  /// Decodes the payload as `T` (throws when it does not decode).
  template <class T>
  T value() const {
    T out;
    if (auto err = xdr::decode(payload, out); !err.empty())
      throw std::runtime_error("reply payload does not decode: " + err);
    return out;
  }
};

/// "code 39 domain 7: unknown procedure: 9999" for test messages.
std::string describe(const protocol::remote_error& e);

/// What a read found.
enum class read_status : uint8_t {
  message,  ///< a whole message arrived
  closed,   ///< the peer closed the connection (EOF or reset)
  timed_out ///< nothing complete before the deadline
};

/// "message", "closed" or "timed out", for test messages.
std::ostream& operator<<(std::ostream& out, read_status st);

class raw_client {
public:
  /// Connects to a unix socket or to 127.0.0.1:`port`; throws when it cannot.
  static raw_client unix_socket(const std::string& path);
  static raw_client tcp(uint16_t port);

  raw_client(raw_client&&) = default;
  raw_client& operator=(raw_client&&) = default;

  /// Sends bytes as they are; false when the connection refused them.
  bool send_bytes(const void* data, size_t size);
  bool send_bytes(const xdr::buffer& bytes) { return send_bytes(bytes.data(), bytes.size()); }

  /// Encodes a whole message (length word included) without sending it.
  static xdr::buffer frame(const protocol::header& hdr, const xdr::buffer& payload);

  /// A CALL header for `proc` with the next serial.
  protocol::header next_call(int32_t proc);

  /// Sends a CALL of `proc` with an already encoded payload; returns its serial.
  uint32_t send_call(int32_t proc, const xdr::buffer& payload = {});

  /// Sends a keepalive message (PING or PONG).
  bool send_keepalive(protocol::keepalive_proc p);

  /// Reads the next message; with `answer_pings`, PINGs are answered (and
  /// counted) and reading goes on.
  read_status read(raw_message& out, std::chrono::milliseconds timeout);

  /// Waits for the reply to `serial`, answering PINGs and skipping other
  /// messages; nullopt when the connection closes or the deadline passes.
  std::optional<raw_message> wait_reply(uint32_t serial, std::chrono::milliseconds timeout = 30s);

  /// A call and its reply; throws if no reply comes.
  raw_message call(int32_t proc, const xdr::buffer& payload = {},
                   std::chrono::milliseconds timeout = 30s);

  /// A typed call: the decoded return struct, or the error of the reply.
  template <protocol::proc P>
  result<typename protocol::proc_traits<P>::ret>
  call(const typename protocol::proc_traits<P>::args& args = {}) {
    auto reply = call(static_cast<int32_t>(P), xdr::encode(args));
    if (reply.is_error()) {
      auto e = reply.error();
      return make_virt_error(static_cast<error_code>(e.code), static_cast<error_domain>(e.domain),
                             e.message.value_or(""));
    }
    return reply.template value<typename protocol::proc_traits<P>::ret>();
  }

  /// CONNECT_OPEN of `uri`; throws unless it succeeds.
  void open(const std::string& uri = "test:///default");

  /// True when the peer closes the connection within `timeout`; messages
  /// that arrive first are skipped (PINGs are answered if `answer_pings`).
  bool closed_within(std::chrono::milliseconds timeout);

  /// Answer PINGs while reading (on by default).
  bool answer_pings = true;
  /// PINGs received so far.
  int pings_seen = 0;

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

private:
  explicit raw_client(unique_fd fd) : fd_(std::move(fd)) {}
  /// Reads the next message without looking at it.
  read_status read_any(raw_message& out, std::chrono::milliseconds timeout);

  unique_fd fd_;
  uint32_t serial_ = 0;
  xdr::buffer in_; // received bytes not yet returned as messages
};

} // namespace virtactor::interop
