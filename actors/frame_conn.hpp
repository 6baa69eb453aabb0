/// The framing of one connection inside a `caf::io` broker, as a plain
/// object: it cuts libvirt RPC messages out of the bytes CAF hands the broker,
/// writes whole messages back, bounds what is pending, and tells its `sink`
/// about each message and about the end of the stream. A broker may carry
/// one (`frame_broker`, the client's connections) or thousands (the daemon's
/// listeners host every client's connection and session in one broker: no
/// actor per connection, see docs/architecture.md).
///
/// Memory follows what arrives: a body is read in pieces that grow with the
/// bytes received so far (a length word alone costs a few KiB, not the
/// length it announces), and buffers drop back once a message is through.
/// Output goes straight to CAF's write buffer while less than
/// `output_window` bytes are unwritten; only beyond that is it queued here.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/io/fwd.hpp>

#include "actors/events.hpp"
#include "protocol/xdr.hpp"

namespace virtactor {

class stream_codec;
class frame_conn;

/// Replies for plain sockets gathered during one round of a broker's event
/// loop and written straight to their sockets once the round is through:
/// the first reply of a round sends the broker one `(write_batch_atom)`,
/// whose handler calls `flush`. Written straight, a reply saves CAF's two
/// epoll_ctl calls and a loop round; written at the end of the round, the
/// clients it wakes do not preempt the reading of the others.
using write_batch_atom = caf::atom_constant<caf::atom("va_wbatch")>;

class write_batch {
public:
  explicit write_batch(caf::io::abstract_broker* self) : self_(self) {}
  void add(frame_conn* c);
  void forget(frame_conn* c);
  /// Writes every gathered reply (from the broker's `write_batch_atom` handler).
  void flush();

private:
  caf::io::abstract_broker* self_;
  std::vector<frame_conn*> conns_;
  bool posted_ = false;
};

/// What a broker bounds for its peer; a zero turns that bound off (the
/// client's brokers bound nothing: their peer releases nothing).
struct stream_limits {
  /// Messages handed to the peer and not yet released: reading stops at
  /// this many, and resumes below it.
  uint32_t max_pending_messages = 0;
  /// Bytes of those messages: reading stops at this many.
  uint64_t max_pending_bytes = 0;
  /// Output not yet written to the socket: reading stops above this (the
  /// peer does not read what it asked for) and resumes below it.
  uint64_t max_unsent_bytes = 0;
  /// Output not yet written above which the connection is dropped.
  uint64_t drop_unsent_bytes = 0;
};

/// Output bytes handed to CAF's socket buffer at most at once.
inline constexpr size_t output_window = 128 * 1024;

/// Where a connection's messages go.
class frame_sink {
public:
  virtual ~frame_sink() = default;
  /// One whole message, without its length word. The sink may take the
  /// buffer's storage.
  virtual void on_frame(xdr::buffer& frame) = 0;
  /// The stream ended by itself (end of file, a length word outside
  /// libvirt's limits, a security-layer failure, a bound passed). Not called
  /// for `close` and `drop`, which the owner asks for.
  virtual void on_end(stream_end end) = 0;
};

class frame_conn {
public:
  frame_conn(caf::io::abstract_broker* self, caf::io::connection_handle hdl, stream_limits limits,
             frame_sink* sink);
  frame_conn(const frame_conn&) = delete;
  frame_conn& operator=(const frame_conn&) = delete;
  ~frame_conn();

  caf::io::connection_handle handle() const { return hdl_; }

  /// Starts reading (the length word of the first message).
  void start();
  /// For a plain socket (not a TLS or other custom scribe): while CAF has
  /// nothing of this connection left to write, messages are gathered in
  /// `batch` and written straight to the socket at the end of the round;
  /// what the socket does not take goes through CAF as before.
  void write_directly(write_batch* batch) { batch_ = batch; }
  /// Writes what was gathered for the batch (called by it).
  void flush_direct();
  /// True once the stream ended, closed or was dropped.
  bool done() const { return done_; }

  // --- from the broker's handlers ---
  void on_data(xdr::buffer& data);
  void on_transferred(size_t remaining_in_caf);
  void on_closed();

  // --- from the owner ---
  /// Writes one whole message (length word included); with `released`,
  /// also releases one received message of that many bytes (a reply
  /// releases its call).
  void write(xdr::buffer msg, uint32_t released = 0);
  /// Releases one received message that gets no reply.
  void release(uint32_t bytes);
  /// Writes everything queued in clear, then puts every later byte through
  /// `codec` (SASL: libvirt switches after the reply that ends the exchange).
  void install(std::shared_ptr<stream_codec> codec);
  /// Flushes and closes.
  void close();
  /// Closes at once, dropping unsent output (a dead or hostile peer).
  void drop();

private:
  void finish(std::string reason, bool hard, bool eof);
  void shut();
  void update_flow();
  void deliver(xdr::buffer frame);
  void pump(bool all = false);
  void enqueue(xdr::buffer msg);
  size_t next_piece() const;
  void expect_length();
  void on_bytes(xdr::buffer& data);
  void on_encoded(xdr::buffer& data);
  uint64_t unsent() const { return queued_ + in_caf_ + direct_.size(); }

  caf::io::abstract_broker* self_;
  caf::io::connection_handle hdl_;
  frame_sink* sink_;
  stream_limits limits_;
  // --- input ---
  bool want_length_ = true;
  bool paused_ = false;
  bool done_ = false;
  bool in_batch_ = false;
  write_batch* batch_ = nullptr;
  xdr::buffer direct_; // gathered for the batch, in order
  uint32_t remaining_ = 0; // body bytes still to come
  uint32_t pending_messages_ = 0;
  uint64_t pending_bytes_ = 0;
  xdr::buffer body_; // the body so far, when it arrives in pieces
  std::shared_ptr<stream_codec> codec_;
  xdr::buffer plain_; // decoded bytes not yet cut into messages (under a codec)
  // --- output: only what CAF's buffer cannot take yet; allocated on need ---
  std::unique_ptr<std::deque<xdr::buffer>> out_;
  size_t out_offset_ = 0; // of out_->front()
  uint64_t queued_ = 0;   // bytes in out_ not yet handed over
  uint64_t in_caf_ = 0;   // handed to CAF, not yet written
};

} // namespace virtactor
