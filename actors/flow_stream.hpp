/// Streams whose reading a broker may stop and restart at any moment. CAF
/// 0.17's own scribes lose a `trigger` that follows a `halt` within one
/// event-loop iteration (the queued removal from the poll set wins and the
/// stream never reads again), so every stream a frame broker carries is one of
/// these, in a `stream_scribe`: a socket, or TLS over a socket
/// (actors/tls_scribe.cpp). Internal to
/// actors/ and daemon/ sources: it pulls in `caf::io::network` internals.
#pragma once

#include <string>
#include <utility>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>

#include "actors/stream_scribe.hpp"

namespace virtactor::flow {

namespace net = caf::io::network;

/// A CAF stream that remembers whether a reader is registered, so that
/// reading restarts correctly whether or not an earlier stop already took
/// effect in the poll set.
class stream : public net::stream {
public:
  stream(net::default_multiplexer& mpx, net::native_socket fd) : net::stream(mpx, fd) {}

  /// First start (the scribe's first `configure_read`).
  void launch(net::stream_manager* mgr) {
    has_reader_ = true;
    start(mgr);
  }

  /// Reading again after `passivate`: cancels a removal still queued in this
  /// iteration, or registers the reader anew once the removal took effect.
  void resume_reading(net::stream_manager* mgr) {
    if (has_reader_)
      backend().add(net::operation::read, fd(), this);
    else {
      has_reader_ = true;
      activate(mgr);
    }
  }

  void removed_from_loop(net::operation op) override {
    if (op == net::operation::read)
      has_reader_ = false;
    net::stream::removed_from_loop(op);
  }

private:
  bool has_reader_ = false;
};

/// A plain stream socket (CAF's tcp policy works for unix sockets too).
class socket_stream : public stream {
public:
  using stream::stream;
  void handle_event(net::operation op) override { handle_event_impl(op, policy_); }

private:
  caf::policy::tcp policy_;
};

/// A scribe for the connected socket `fd` on `broker`'s multiplexer.
caf::io::scribe_ptr make_socket_scribe(caf::io::abstract_broker* broker, int fd);

/// Adds the listening socket `fd` to `broker`; each accepted connection
/// arrives as CAF's `new_connection_msg` with a `make_socket_scribe` scribe.
caf::io::accept_handle add_listener(caf::io::abstract_broker* broker, int fd);

} // namespace virtactor::flow
