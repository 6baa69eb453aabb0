/// The RPC engine: libvirt's remote protocol as both ends speak it, without
/// actors (in the spirit of CAF's basp::instance). It says what an inbound
/// message is (keepalive, a call, a reply, an event, something to ignore, a
/// header that ends the connection), keeps libvirt's keepalive timeline,
/// numbers calls and matches replies, and builds the bytes libvirtd sends:
/// replies, RPC-layer errors, events. Time is passed in, so tests drive it.
///
/// The daemon's session and the client's remote connection are its two users;
/// everything here is plain data in, plain data (or bytes) out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/events.hpp"
#include "protocol/error.hpp"
#include "protocol/header.hpp"
#include "protocol/procedure_numbers.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::rpc {

// --- libvirt's feature numbers ---------------------------------------------------

/// libvirt's internal `virDrvFeature` numbers that the RPC layer itself deals
/// with (CONNECT_SUPPORTS_FEATURE): the daemon answers them, the client probes.
namespace feature {
inline constexpr int32_t fd_passing = 8;             // VIR_DRV_FEATURE_FD_PASSING
inline constexpr int32_t program_keepalive = 10;     // VIR_DRV_FEATURE_PROGRAM_KEEPALIVE
inline constexpr int32_t remote_event_callback = 14; // VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK
inline constexpr int32_t remote_close_callback = 15; // VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK
} // namespace feature

/// The daemon's own answer to SUPPORTS_FEATURE(`f`) (1 or 0), or nullopt when
/// the feature is the driver's to answer. FD passing works on unix sockets only.
std::optional<int32_t> daemon_feature_answer(int32_t f, bool unix_socket);

// --- inbound classification ------------------------------------------------------

/// Which end reads the message.
enum class role { server, client };

/// What an inbound message is.
enum class kind {
  malformed,     ///< the header does not decode: end the connection
  ping,          ///< keepalive PING: send `answer` (a PONG)
  pong,          ///< keepalive PONG: it only proves the peer alive
  call,          ///< server: a call to the remote program, version 1: dispatch it
  wrong_program, ///< server: a call to another program or version: send `answer`
  reply,         ///< client: a reply of the remote program: match its serial
  event,         ///< client: a message (event) of the remote program, version 1
  ignored,       ///< anything else, ignored as libvirt ignores it
};

/// One classified message. `body` points into the caller's buffer (the bytes
/// after the header): valid as long as that buffer is.
struct inbound {
  kind what = kind::malformed;
  protocol::header hdr;
  size_t body_offset = 0;
  std::span<const char> body;
  /// The bytes to send back at once, whole (with the length word): the PONG
  /// for `ping`, the error reply for `wrong_program`; empty otherwise.
  xdr::buffer answer;
  /// Why, for `malformed`.
  std::string error;
};

/// Decodes the header of `data` (one message without its length word) once
/// and says what it is for `r`, the way libvirt's server or client would:
/// - keepalive (program KEEPALIVE, version 1, type MESSAGE): PING or PONG;
///   other keepalive procedures are ignored;
/// - server: anything but a CALL is ignored; a CALL to a program other than
///   REMOTE version 1 is `wrong_program` with libvirtd's reply ("Cannot find
///   program P version V", VIR_ERR_RPC, bounded by `max_error_length`);
/// - client: of the REMOTE program, REPLYs and version-1 MESSAGEs (events);
///   the rest is ignored.
/// Every message, whatever its kind (bar `malformed`), counts as received for
/// keepalive (`keepalive::on_receive`).
inbound classify(role r, std::span<const char> data, size_t max_error_length = 4096);

// --- keepalive (libvirt's virKeepAlive) ------------------------------------------

/// libvirt's keepalive: after `interval` with nothing received, PING, and again
/// every `interval`; any message received resets; when `count` PINGs went
/// unanswered the peer is dead. With interval 2 s and count 3, a silent peer
/// gets PINGs at 2, 4 and 6 s and is dead at 8 s.
///
/// Drive it with one timer: arm it for `next_deadline()`, call `on_timer` when
/// it fires, re-arm for the new `next_deadline()` (receiving moves the
/// deadline later; a timer that fires early answers `none`).
class keepalive {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  enum class action { none, ping, dead };

  keepalive() = default;
  keepalive(std::chrono::seconds interval, int count) : interval_(interval), count_(count) {}

  /// Starts the timeline at `now` (the daemon: when the client asks
  /// SUPPORTS_FEATURE(PROGRAM_KEEPALIVE); the client: when the server
  /// supports it). No-op when running already or when `interval` is 0.
  void start(time_point now);
  void stop() { running_ = false; }
  bool running() const { return running_; }

  /// A message arrived (any message).
  void on_receive(time_point now);

  /// When `on_timer` should run next; nullopt when not running.
  std::optional<time_point> next_deadline() const;

  /// The timer fired at `now`: nothing yet, send a PING, or the peer is dead
  /// (and the machine stops).
  action on_timer(time_point now);

  /// PINGs still allowed before the peer counts as dead.
  int count_to_death() const { return count_to_death_; }

private:
  std::chrono::seconds interval_{0};
  int count_ = 0;
  bool running_ = false;
  time_point interval_start_{};
  int count_to_death_ = 0;
};

/// A keepalive message (serial 0, status OK, no body), whole.
xdr::buffer keepalive_message(protocol::keepalive_proc p);

// --- calls and replies (client) --------------------------------------------------

/// A CALL of the remote program, whole: header and pre-encoded arguments.
xdr::buffer call_message(int32_t proc, uint32_t serial, std::span<const char> args);

/// The client's calls in flight: serials in order from 0 (per connection),
/// each with its procedure and the caller's `T` (a completion).
template <class T>
class call_table {
public:
  struct entry {
    int32_t proc = 0;
    T value;
  };

  /// Registers a call to `proc`; returns its serial.
  uint32_t add(int32_t proc, T value) {
    auto serial = next_serial_++;
    calls_.emplace(serial, entry{proc, std::move(value)});
    return serial;
  }

  /// The call `hdr` (a REPLY) answers, removed from the table; nullopt for a
  /// reply nobody waits for (timed out, or a serial or procedure that does
  /// not match: a confused peer).
  std::optional<entry> take_reply(const protocol::header& hdr) {
    auto i = calls_.find(hdr.serial);
    if (i == calls_.end() || i->second.proc != hdr.proc)
      return std::nullopt;
    auto out = std::move(i->second);
    calls_.erase(i);
    return out;
  }

  /// The call `serial`, removed (its deadline passed); nullopt if answered.
  std::optional<entry> take(uint32_t serial) {
    auto i = calls_.find(serial);
    if (i == calls_.end())
      return std::nullopt;
    auto out = std::move(i->second);
    calls_.erase(i);
    return out;
  }

  /// Every call in flight, in serial order, and the table emptied (the
  /// connection is gone: fail them all).
  std::vector<entry> take_all() {
    std::vector<entry> out;
    auto calls = std::move(calls_);
    calls_.clear();
    out.reserve(calls.size());
    for (auto& [serial, e] : calls)
      out.push_back(std::move(e));
    return out;
  }

  /// A new connection: serials start at 0 again.
  void restart_serials() { next_serial_ = 0; }

  uint32_t next_serial() const { return next_serial_; }
  size_t size() const { return calls_.size(); }
  bool empty() const { return calls_.empty(); }

private:
  uint32_t next_serial_ = 0;
  std::map<uint32_t, entry> calls_;
};

/// A client's view of a virt_error the daemon sent. libvirt's client turns
/// the daemon's "unknown procedure" (VIR_ERR_RPC from RPC or REMOTE) into
/// VIR_ERR_NO_SUPPORT.
virt_error from_remote_error(const protocol::remote_error& re);

/// The outcome of a REPLY: its body (OK) or the error it carries (ERROR, or
/// an error body that does not decode: "Unable to decode message payload").
result<std::span<const char>> decode_reply(const protocol::header& hdr,
                                           std::span<const char> body);

// --- replies and errors (server) -------------------------------------------------

/// The header of the reply to `call`: the call's program, version, procedure
/// and serial, type REPLY, `status`.
protocol::header reply_header(const protocol::header& call, protocol::msg_status status);

/// An OK reply to `call` with a pre-encoded payload.
xdr::buffer reply_ok(const protocol::header& call, std::span<const char> payload);

/// An OK reply to `call` carrying `ret`.
template <class T>
xdr::buffer reply_value(const protocol::header& call, const T& ret) {
  return protocol::make_message(reply_header(call, protocol::msg_status::ok), ret);
}

/// `text` cut to at most `max` bytes on a UTF-8 character boundary, marked
/// " [truncated]" (as much of the mark as fits).
std::string bounded(std::string text, size_t max);

/// `e` as the daemon sends it: the message (bounded to `max_length`) also in
/// str1, as libvirtd's virNetMessageSaveError does.
protocol::remote_error to_remote_error(const virt_error& e, size_t max_length);

/// An ERROR reply to `call` carrying `e`.
xdr::buffer reply_error(const protocol::header& call, const virt_error& e, size_t max_length);

/// An error as libvirtd's RPC layer words it: domain RPC, the text in str2
/// behind `format` ("%s" or "prefix: %s") in str1.
protocol::remote_error rpc_layer_error(error_code code, std::string format, std::string detail,
                                       std::string message);

/// An ERROR reply to `call` carrying an RPC-layer error.
xdr::buffer reply_rpc_error(const protocol::header& call, error_code code, std::string format,
                            std::string detail, std::string message);

/// libvirtd's answer to a procedure it does not know (code RPC, domain RPC,
/// "unknown procedure: N", str1 "%s"); virsh's fallbacks depend on it.
xdr::buffer reply_unknown_proc(const protocol::header& call);

/// A call before authentication (VIR_ERR_RPC "authentication required").
xdr::buffer reply_auth_required(const protocol::header& call);

/// Any failed authentication step, as libvirtd answers it
/// (VIR_ERR_AUTH_FAILED "authentication failed: authentication failed").
xdr::buffer reply_auth_failed(const protocol::header& call);

/// A call to a program or version the daemon does not serve ("Cannot find
/// program P version V", VIR_ERR_RPC from RPC).
xdr::buffer reply_wrong_program(const protocol::header& call, size_t max_length);

/// VIR_ERR_RPC from the RPC domain with `message`.
virt_error rpc_error(std::string message);

/// A CALL whose status is not OK: "Unexpected message status N".
virt_error unexpected_status_error(protocol::msg_status status);

/// Arguments that do not decode: "Unable to decode message payload".
virt_error payload_error();

// --- events ------------------------------------------------------------------------

/// A MESSAGE of the remote program with a pre-encoded body (serial 1, as
/// libvirtd 9.0 sends events), whole.
xdr::buffer event_message(int32_t proc, std::span<const char> body);

/// `ev` as the daemon sends it: the legacy procedure (LIFECYCLE 107, REBOOT
/// 169, CONTROL_ERROR 224: no callback id) or the callback one (318, 319,
/// 325: `ev.callback_id` names the subscription); nullopt for an event id
/// without a wire form here.
std::optional<xdr::buffer> encode_event(const domain_event& ev, bool legacy);

/// CONNECT_EVENT_CONNECTION_CLOSED (362).
xdr::buffer encode_event(const connection_closed& cc);

/// A decoded event message. For the callback procedures `callback_id` is the
/// daemon's subscription id; the legacy ones carry none (`legacy`, id 0).
struct event {
  std::variant<domain_event, connection_closed> value;
  bool legacy = false;
  bool operator==(const event&) const = default;
};

/// Decodes the body of event procedure `proc`; nullopt for procedures not
/// handled here and bodies that do not decode (the client ignores both).
std::optional<event> decode_event(int32_t proc, std::span<const char> body);

} // namespace virtactor::rpc
