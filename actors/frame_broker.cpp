#include "actors/frame_broker.hpp"
#include "actors/frame_conn.hpp"

#include <algorithm>

#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/scribe.hpp>

#include "actors/atoms.hpp"
#include "actors/flow_stream.hpp"
#include "actors/inspect.hpp"
#include "actors/stream_codec.hpp"
#include "protocol/header.hpp"
#include "protocol/xdr.hpp"

namespace virtactor {

using caf::io::receive_policy;

namespace {

/// The first piece of a message body is read with at most this many bytes;
/// later pieces grow with what arrived, up to `max_piece`.
constexpr size_t first_piece = 4096;
constexpr size_t max_piece = 256 * 1024;
/// Reads under a security layer (the decoder takes what arrives).
constexpr size_t codec_read = 64 * 1024;
/// Buffers larger than this are given back once empty.
constexpr size_t keep_capacity = 64 * 1024;

/// Drops the storage of `buf` when it is empty and large.
void trim(xdr::buffer& buf) {
  if (buf.empty() && buf.capacity() > keep_capacity)
    xdr::buffer{}.swap(buf);
}

/// CAF reuses the read buffer; give a large one back after a large body.
void trim_read_buffer(xdr::buffer& data) {
  if (data.capacity() > keep_capacity) {
    data.clear();
    trim(data);
  }
}

} // namespace

frame_conn::frame_conn(caf::io::abstract_broker* self, caf::io::connection_handle hdl,
                       stream_limits limits, frame_sink* sink)
    : self_(self), hdl_(hdl), sink_(sink), limits_(limits) {}

frame_conn::~frame_conn() {
  if (in_batch_)
    batch_->forget(this);
}

void frame_conn::flush_direct() {
  if (in_batch_) {
    in_batch_ = false;
    batch_->forget(this);
  }
  if (done_ || direct_.empty())
    return;
  xdr::buffer msg;
  msg.swap(direct_);
  auto n = ::send(static_cast<int>(hdl_.id()), msg.data(), msg.size(),
                  MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(msg.size()))
    return;
  // The rest (or all of it, on an error CAF will then see) goes through
  // CAF, in slices of the output window as any other output.
  if (n > 0)
    msg.erase(msg.begin(), msg.begin() + n);
  enqueue(std::move(msg));
  update_flow();
}

/// Queues `msg` behind what waits for CAF's window and hands on what fits.
void frame_conn::enqueue(xdr::buffer msg) {
  queued_ += msg.size();
  if (!out_)
    out_ = std::make_unique<std::deque<xdr::buffer>>();
  out_->push_back(std::move(msg));
  pump();
}

void write_batch::add(frame_conn* c) {
  conns_.push_back(c);
  if (!posted_) {
    posted_ = true;
    caf::anon_send(caf::actor_cast<caf::actor>(self_), write_batch_atom::value);
  }
}

void write_batch::forget(frame_conn* c) {
  std::erase(conns_, c);
}

void write_batch::flush() {
  posted_ = false;
  auto all = std::move(conns_);
  conns_.clear();
  for (auto* c : all)
    c->flush_direct();
}

void frame_conn::start() {
  self_->ack_writes(hdl_, true);
  expect_length();
}

/// Ends the stream and tells the sink why. A `hard` end drops unsent output
/// and shuts the socket down at once: a graceful close would wait for a peer
/// that does not read (and keep its descriptor and buffers).
void frame_conn::finish(std::string reason, bool hard, bool eof) {
  if (done_)
    return;
  if (hard)
    drop();
  else
    close();
  sink_->on_end(stream_end{eof, std::move(reason)});
}

/// Discards what is not yet written and closes the socket for both
/// directions. (In CAF 0.17 a connection handle's id is its socket.)
void frame_conn::drop() {
  if (done_)
    return;
  done_ = true;
  out_.reset();
  queued_ = 0;
  direct_ = xdr::buffer{};
  if (in_batch_) {
    in_batch_ = false;
    batch_->forget(this);
  }
  self_->wr_buf(hdl_).clear();
  ::shutdown(static_cast<int>(hdl_.id()), SHUT_RDWR);
  self_->close(hdl_);
}

void frame_conn::close() {
  if (done_)
    return;
  flush_direct();
  pump(true);
  done_ = true;
  self_->flush(hdl_);
  self_->close(hdl_);
}

/// Stops or restarts reading as the bounds say; drops a peer that leaves
/// too much output unread.
void frame_conn::update_flow() {
  if (done_)
    return;
  if (limits_.drop_unsent_bytes && unsent() > limits_.drop_unsent_bytes) {
    finish("the client does not read its replies (more than " +
             std::to_string(limits_.drop_unsent_bytes) + " bytes unsent)",
           true, false);
    return;
  }
  bool over = (limits_.max_pending_messages && pending_messages_ >= limits_.max_pending_messages) ||
              (limits_.max_pending_bytes && pending_bytes_ >= limits_.max_pending_bytes) ||
              (limits_.max_unsent_bytes && unsent() > limits_.max_unsent_bytes);
  if (over && !paused_) {
    paused_ = true;
    self_->halt(hdl_);
  } else if (!over && paused_) {
    paused_ = false;
    self_->trigger(hdl_);
  }
}

void frame_conn::release(uint32_t bytes) {
  if (pending_messages_ > 0) {
    --pending_messages_;
    pending_bytes_ -= std::min<uint64_t>(pending_bytes_, bytes);
  }
  update_flow();
}

void frame_conn::deliver(xdr::buffer frame) {
  ++pending_messages_;
  pending_bytes_ += frame.size() + protocol::length_size;
  sink_->on_frame(frame);
}

// --- output ---

/// Hands queued output to CAF while its buffer holds less than the window.
/// With `all`, everything (the stream is about to close).
void frame_conn::pump(bool all) {
  if (!out_)
    return;
  bool wrote = false;
  auto& wr = self_->wr_buf(hdl_);
  auto& out = *out_;
  while (!out.empty() && (all || in_caf_ < output_window)) {
    auto& front = out.front();
    size_t left = front.size() - out_offset_;
    size_t take = all ? left : std::min(left, output_window - std::min<uint64_t>(in_caf_, output_window));
    if (codec_)
      take = std::min(take, codec_->max_encode());
    if (take == 0)
      break;
    auto before = wr.size();
    if (codec_) {
      if (auto ok = codec_->encode(front.data() + out_offset_, take, wr); !ok) {
        finish("cannot encode under the security layer: " + ok.error().message, true, false);
        return;
      }
    } else {
      wr.insert(wr.end(), front.data() + out_offset_, front.data() + out_offset_ + take);
    }
    in_caf_ += wr.size() - before;
    queued_ -= take;
    out_offset_ += take;
    wrote = true;
    if (out_offset_ == front.size()) {
      out.pop_front();
      out_offset_ = 0;
    }
  }
  if (out.empty())
    out_.reset();
  if (wrote)
    self_->flush(hdl_);
}

void frame_conn::write(xdr::buffer msg, uint32_t released) {
  if (released)
    release(released);
  if (done_)
    return;
  if (batch_ && (!direct_.empty() || (!out_ && !codec_ && in_caf_ == 0))) {
    // Nothing of ours is left in CAF: gathered, then written straight.
    if (direct_.empty())
      direct_.swap(msg);
    else
      direct_.insert(direct_.end(), msg.begin(), msg.end());
    if (!in_batch_) {
      in_batch_ = true;
      batch_->add(this);
    }
    update_flow();
    return;
  }
  if (!out_ && !codec_ && in_caf_ + msg.size() <= output_window) {
    // The common case: straight into CAF's buffer.
    auto& wr = self_->wr_buf(hdl_);
    in_caf_ += msg.size();
    if (wr.empty())
      wr.swap(msg);
    else
      wr.insert(wr.end(), msg.begin(), msg.end());
    self_->flush(hdl_);
  } else {
    enqueue(std::move(msg));
  }
  update_flow();
}

void frame_conn::on_transferred(size_t remaining_in_caf) {
  if (done_)
    return;
  in_caf_ = remaining_in_caf;
  if (in_caf_ == 0)
    trim(self_->wr_buf(hdl_));
  pump();
  update_flow();
}

void frame_conn::on_closed() {
  finish("end of file", false, true);
}

// --- input ---

/// The read size for the rest of the current body: pieces grow with what
/// already arrived, so a length word alone never costs its length.
size_t frame_conn::next_piece() const {
  size_t grown = std::clamp(body_.size(), first_piece, max_piece);
  return std::min<size_t>(remaining_, grown);
}

void frame_conn::expect_length() {
  want_length_ = true;
  self_->configure_read(hdl_, receive_policy::exactly(protocol::length_size));
}

void frame_conn::on_data(xdr::buffer& data) {
  if (done_)
    return;
  if (codec_)
    on_encoded(data);
  else
    on_bytes(data);
}

/// Bytes of the plain stream (no codec).
void frame_conn::on_bytes(xdr::buffer& data) {
  if (want_length_) {
    auto len = protocol::parse_length(data.data());
    if (!len) {
      finish("message length word outside libvirt's limits", true, false);
      return;
    }
    want_length_ = false;
    remaining_ = *len - protocol::length_size;
    self_->configure_read(hdl_, receive_policy::at_most(next_piece()));
    return;
  }
  remaining_ -= static_cast<uint32_t>(data.size());
  xdr::buffer frame;
  if (body_.empty() && remaining_ == 0) {
    // The whole body in one read: hand CAF's buffer over as it is.
    frame.swap(data);
  } else {
    body_.insert(body_.end(), data.begin(), data.end());
    trim_read_buffer(data);
    if (remaining_ > 0) {
      self_->configure_read(hdl_, receive_policy::at_most(next_piece()));
      return;
    }
    frame.swap(body_);
  }
  // Ready for the next message before the sink sees this one: it may end
  // the stream or install a security layer (which starts between messages).
  expect_length();
  deliver(std::move(frame));
  update_flow();
}

/// Bytes under a codec: decode, then cut every whole message out.
void frame_conn::on_encoded(xdr::buffer& data) {
  if (auto ok = codec_->decode(data.data(), data.size(), plain_); !ok) {
    finish("cannot decode under the security layer: " + ok.error().message, true, false);
    return;
  }
  size_t pos = 0;
  while (plain_.size() - pos >= protocol::length_size) {
    auto len = protocol::parse_length(plain_.data() + pos);
    if (!len) {
      finish("message length word outside libvirt's limits", true, false);
      return;
    }
    if (plain_.size() - pos < *len)
      break;
    deliver(xdr::buffer(plain_.begin() + static_cast<ptrdiff_t>(pos + protocol::length_size),
                        plain_.begin() + static_cast<ptrdiff_t>(pos + *len)));
    if (done_)
      return;
    pos += *len;
  }
  plain_.erase(plain_.begin(), plain_.begin() + static_cast<ptrdiff_t>(pos));
  trim(plain_);
  update_flow();
}

/// From now on every byte goes through `c`. Bytes of a message already
/// begun in clear stay clear (libvirt switches between messages).
void frame_conn::install(std::shared_ptr<stream_codec> c) {
  if (!c || codec_ || done_)
    return;
  flush_direct();
  pump(true);
  codec_ = std::move(c);
  if (!want_length_ || !body_.empty()) {
    finish("a security layer cannot start inside a message", true, false);
    return;
  }
  self_->configure_read(hdl_, receive_policy::at_most(codec_read));
}

namespace {

/// The sink of a broker that carries one connection for a peer actor.
struct actor_sink final : frame_sink {
  caf::io::broker* self = nullptr;
  caf::actor peer;
  void on_frame(xdr::buffer& frame) override {
    caf::anon_send(peer, frame_atom::value, std::move(frame), self->id());
  }
  void on_end(stream_end end) override {
    caf::anon_send(peer, closed_atom::value, std::move(end), self->id());
    self->quit();
  }
};

struct broker_state {
  actor_sink sink;
  std::unique_ptr<frame_conn> conn;
};

} // namespace

caf::behavior frame_broker(caf::io::broker* self, caf::io::connection_handle hdl,
                           peer_factory make_peer, stream_limits limits) {
  auto peer = make_peer(caf::actor{self});
  if (!peer) {
    self->close(hdl);
    self->quit();
    return {};
  }
  self->monitor(peer);
  auto st = std::make_shared<broker_state>();
  st->sink.self = self;
  st->sink.peer = peer;
  st->conn = std::make_unique<frame_conn>(self, hdl, limits, &st->sink);
  self->set_down_handler([st, self](const caf::down_msg&) {
    // The peer is gone: nothing left to carry.
    st->conn->close();
    self->quit();
  });
  st->conn->start();
  auto end_if_done = [st, self] {
    if (st->conn->done())
      self->quit();
  };
  return {
    [st](caf::io::new_data_msg& msg) { st->conn->on_data(msg.buf); },
    [st](const caf::io::data_transferred_msg& msg) { st->conn->on_transferred(msg.remaining); },
    [st](frame_atom, xdr::buffer& out) { st->conn->write(std::move(out)); },
    [st](frame_atom, xdr::buffer& out, uint32_t released) {
      st->conn->write(std::move(out), released);
    },
    [st](frame_atom, xdr::buffer& out, uint32_t released, std::shared_ptr<stream_codec>& codec) {
      st->conn->write(std::move(out), released);
      st->conn->install(std::move(codec)); // the reply goes out in clear, all of it
    },
    [st](release_atom, uint32_t released) { st->conn->release(released); },
    [st](codec_atom, std::shared_ptr<stream_codec>& codec) { st->conn->install(std::move(codec)); },
    [st, end_if_done](close_atom) {
      st->conn->close();
      end_if_done();
    },
    [st, end_if_done](drop_atom) {
      st->conn->drop();
      end_if_done();
    },
    [st](const caf::io::connection_closed_msg&) { st->conn->on_closed(); },
  };
}

caf::actor spawn_frame_broker(caf::actor_system& sys, stream_endpoint stream,
                              peer_factory make_peer, stream_limits limits) {
  if (!stream.make_scribe && !stream.owner)
    return spawn_frame_broker(sys, stream.fd.release(), std::move(make_peer), limits);
  auto impl = [](caf::io::broker* self, std::shared_ptr<stream_endpoint> s, peer_factory make_peer,
                 stream_limits limits) -> caf::behavior {
    caf::io::scribe_ptr scribe = s->make_scribe ? s->make_scribe(self)
                                                : flow::make_socket_scribe(self, s->fd.release());
    auto hdl = scribe->hdl();
    self->add_scribe(std::move(scribe));
    // Keep the owner (child process, pump, TLS state) until the broker ends.
    self->attach_functor([owner = std::move(s->owner)]() mutable { owner.reset(); });
    return frame_broker(self, hdl, std::move(make_peer), limits);
  };
  return sys.middleman().spawn_broker(impl, std::make_shared<stream_endpoint>(std::move(stream)),
                                      std::move(make_peer), limits);
}

caf::actor spawn_frame_broker(caf::actor_system& sys, int fd, peer_factory make_peer,
                              stream_limits limits) {
  auto impl = [](caf::io::broker* self, int fd, peer_factory make_peer,
                 stream_limits limits) -> caf::behavior {
    auto scribe = flow::make_socket_scribe(self, fd);
    auto hdl = scribe->hdl();
    self->add_scribe(std::move(scribe));
    return frame_broker(self, hdl, std::move(make_peer), limits);
  };
  return sys.middleman().spawn_broker(impl, fd, std::move(make_peer), limits);
}

} // namespace virtactor
