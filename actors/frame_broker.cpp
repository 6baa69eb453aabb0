#include "actors/frame_broker.hpp"

#include <algorithm>
#include <deque>

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

struct broker_state {
  caf::io::broker* self = nullptr;
  caf::io::connection_handle hdl;
  caf::actor peer;
  stream_limits limits;
  // --- input ---
  bool want_length = true;
  uint32_t remaining = 0; // body bytes still to come
  xdr::buffer body;       // the body so far, when it arrives in pieces
  std::shared_ptr<stream_codec> codec;
  xdr::buffer plain; // decoded bytes not yet cut into messages (under a codec)
  // --- flow ---
  uint64_t pending_messages = 0;
  uint64_t pending_bytes = 0;
  bool paused = false;
  bool done = false;
  // --- output ---
  std::deque<xdr::buffer> out; // whole messages not yet handed to CAF
  size_t out_offset = 0;       // of out.front()
  uint64_t queued = 0;         // bytes in `out` not yet handed over
  uint64_t in_caf = 0;         // handed to CAF, not yet written

  uint64_t unsent() const { return queued + in_caf; }

  /// Ends the stream and tells the peer why. A `hard` end drops unsent
  /// output and shuts the socket down at once: a graceful close would wait
  /// for a peer that does not read (and keep its descriptor and buffers).
  void finish(std::string reason, bool hard = true, bool eof = false) {
    if (done)
      return;
    done = true;
    caf::anon_send(peer, closed_atom::value, stream_end{eof, std::move(reason)}, self->id());
    if (hard)
      drop();
    else
      self->close(hdl);
    self->quit();
  }

  /// Discards what is not yet written and closes the socket for both
  /// directions. (In CAF 0.17 a connection handle's id is its socket.)
  void drop() {
    out.clear();
    queued = 0;
    self->wr_buf(hdl).clear();
    ::shutdown(static_cast<int>(hdl.id()), SHUT_RDWR);
    self->close(hdl);
  }

  /// Stops or restarts reading as the bounds say; drops a peer that leaves
  /// too much output unread.
  void update_flow() {
    if (done)
      return;
    if (limits.drop_unsent_bytes && unsent() > limits.drop_unsent_bytes) {
      finish("the client does not read its replies (more than " +
             std::to_string(limits.drop_unsent_bytes) + " bytes unsent)");
      return;
    }
    bool over = (limits.max_pending_messages && pending_messages >= limits.max_pending_messages) ||
                (limits.max_pending_bytes && pending_bytes >= limits.max_pending_bytes) ||
                (limits.max_unsent_bytes && unsent() > limits.max_unsent_bytes);
    if (over && !paused) {
      paused = true;
      self->halt(hdl);
    } else if (!over && paused) {
      paused = false;
      self->trigger(hdl);
    }
  }

  void release(uint32_t bytes) {
    if (pending_messages > 0) {
      --pending_messages;
      pending_bytes -= std::min<uint64_t>(pending_bytes, bytes);
    }
  }

  void deliver(xdr::buffer frame) {
    ++pending_messages;
    pending_bytes += frame.size() + protocol::length_size;
    caf::anon_send(peer, frame_atom::value, std::move(frame), self->id());
  }

  // --- output ---

  /// Hands queued output to CAF while its buffer holds less than the window.
  /// With `all`, everything (the stream is about to close).
  void pump(bool all = false) {
    bool wrote = false;
    auto& wr = self->wr_buf(hdl);
    while (!out.empty() && (all || in_caf < output_window)) {
      auto& front = out.front();
      size_t left = front.size() - out_offset;
      size_t take = all ? left : std::min(left, output_window - std::min(in_caf, output_window));
      if (codec)
        take = std::min(take, codec->max_encode());
      if (take == 0)
        break;
      auto before = wr.size();
      if (codec) {
        if (auto ok = codec->encode(front.data() + out_offset, take, wr); !ok) {
          finish("cannot encode under the security layer: " + ok.error().message);
          return;
        }
      } else {
        wr.insert(wr.end(), front.data() + out_offset, front.data() + out_offset + take);
      }
      in_caf += wr.size() - before;
      queued -= take;
      out_offset += take;
      wrote = true;
      if (out_offset == front.size()) {
        out.pop_front();
        out_offset = 0;
      }
    }
    if (wrote)
      self->flush(hdl);
  }

  void write(xdr::buffer msg) {
    queued += msg.size();
    out.push_back(std::move(msg));
    pump();
  }

  void transferred(size_t remaining_in_caf) {
    in_caf = remaining_in_caf;
    if (in_caf == 0)
      trim(self->wr_buf(hdl));
    pump();
    update_flow();
  }

  // --- input ---

  /// The read size for the rest of the current body: pieces grow with what
  /// already arrived, so a length word alone never costs its length.
  size_t next_piece() const {
    size_t grown = std::clamp(body.size(), first_piece, max_piece);
    return std::min<size_t>(remaining, grown);
  }

  void expect_length() {
    want_length = true;
    self->configure_read(hdl, receive_policy::exactly(protocol::length_size));
  }

  /// Bytes of the plain stream (no codec).
  void on_bytes(xdr::buffer& data) {
    if (want_length) {
      auto len = protocol::parse_length(data.data());
      if (!len) {
        finish("message length word outside libvirt's limits");
        return;
      }
      want_length = false;
      remaining = *len - protocol::length_size;
      self->configure_read(hdl, receive_policy::at_most(next_piece()));
      return;
    }
    remaining -= static_cast<uint32_t>(data.size());
    if (body.empty() && remaining == 0) {
      // The whole body in one read: hand CAF's buffer over as it is.
      xdr::buffer frame;
      frame.swap(data);
      deliver(std::move(frame));
    } else {
      body.insert(body.end(), data.begin(), data.end());
      trim_read_buffer(data);
      if (remaining > 0) {
        self->configure_read(hdl, receive_policy::at_most(next_piece()));
        return;
      }
      deliver(std::move(body));
      body = xdr::buffer{};
    }
    expect_length();
    update_flow();
  }

  /// CAF reuses the read buffer; give a large one back after a large body.
  static void trim_read_buffer(xdr::buffer& data) {
    if (data.capacity() > keep_capacity) {
      data.clear();
      trim(data);
    }
  }

  /// Bytes under a codec: decode, then cut every whole message out.
  void on_encoded(xdr::buffer& data) {
    if (auto ok = codec->decode(data.data(), data.size(), plain); !ok) {
      finish("cannot decode under the security layer: " + ok.error().message);
      return;
    }
    size_t pos = 0;
    while (plain.size() - pos >= protocol::length_size) {
      auto len = protocol::parse_length(plain.data() + pos);
      if (!len) {
        finish("message length word outside libvirt's limits");
        return;
      }
      if (plain.size() - pos < *len)
        break;
      deliver(xdr::buffer(plain.begin() + static_cast<ptrdiff_t>(pos + protocol::length_size),
                          plain.begin() + static_cast<ptrdiff_t>(pos + *len)));
      pos += *len;
    }
    plain.erase(plain.begin(), plain.begin() + static_cast<ptrdiff_t>(pos));
    trim(plain);
    update_flow();
  }

  /// From now on every byte goes through `c`. Bytes of a message already
  /// begun in clear stay clear (libvirt switches between messages).
  void install(std::shared_ptr<stream_codec> c) {
    if (!c || codec)
      return;
    codec = std::move(c);
    if (!want_length || !body.empty()) {
      finish("a security layer cannot start inside a message");
      return;
    }
    self->configure_read(hdl, receive_policy::at_most(codec_read));
  }
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
  st->self = self;
  st->hdl = hdl;
  st->peer = peer;
  st->limits = limits;
  self->set_down_handler([st](const caf::down_msg&) {
    // The peer is gone: nothing left to carry.
    st->done = true;
    st->self->close(st->hdl);
    st->self->quit();
  });
  self->ack_writes(hdl, true);
  st->expect_length();
  return {
    [st](caf::io::new_data_msg& msg) {
      if (st->done)
        return;
      if (st->codec)
        st->on_encoded(msg.buf);
      else
        st->on_bytes(msg.buf);
    },
    [st](const caf::io::data_transferred_msg& msg) { st->transferred(msg.remaining); },
    [st](frame_atom, xdr::buffer& out) {
      st->write(std::move(out));
      st->update_flow();
    },
    [st](frame_atom, xdr::buffer& out, uint32_t released) {
      st->release(released);
      st->write(std::move(out));
      st->update_flow();
    },
    [st](frame_atom, xdr::buffer& out, uint32_t released, std::shared_ptr<stream_codec>& codec) {
      st->release(released);
      st->write(std::move(out));
      st->pump(true); // the reply goes out in clear, all of it
      st->install(std::move(codec));
      st->update_flow();
    },
    [st](release_atom, uint32_t released) {
      st->release(released);
      st->update_flow();
    },
    [st](codec_atom, std::shared_ptr<stream_codec>& codec) {
      st->pump(true);
      st->install(std::move(codec));
    },
    [st](close_atom) {
      st->done = true;
      st->pump(true);
      st->self->flush(st->hdl);
      st->self->close(st->hdl);
      st->self->quit();
    },
    [st](drop_atom) {
      st->done = true;
      st->drop();
      st->self->quit();
    },
    [st](const caf::io::connection_closed_msg&) { st->finish("end of file", false, true); },
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
