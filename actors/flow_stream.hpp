/// Streams whose reading a broker may stop and restart at any moment. CAF
/// 0.17's own scribes lose a `trigger` that follows a `halt` within one
/// event-loop iteration (the queued removal from the poll set wins and the
/// stream never reads again), so every stream a frame broker carries is one of
/// these, in a `stream_scribe`: a socket, or TLS over a socket
/// (actors/tls_scribe.cpp). Internal to
/// actors/ and daemon/ sources: it pulls in `caf::io::network` internals.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/doorman.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>
#include <caf/policy/tcp.hpp>

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

/// Where a listener reports trouble: `level` as the daemon's log_level (2
/// info, 3 warning); may be empty.
using log_function = std::function<void(int level, const std::string& message)>;

/// A doorman that survives running out of descriptors. CAF 0.17's acceptor
/// ignores a failed accept(): with the process at its descriptor limit
/// (EMFILE) the pending connection stays in the backlog, the listening socket
/// stays readable, and the level-triggered multiplexer thread spins at 100%
/// CPU without ever telling anyone. This one keeps a spare descriptor
/// (/dev/null) for that moment: it closes the spare, accepts the pending
/// connection, closes it at once (the client sees its connection end, not a
/// hang) and opens the spare again, so every pending connection costs one
/// accept and the loop sleeps when the backlog is empty; it accepts as usual
/// as soon as descriptors are free again. Should the spare be lost (another
/// thread took the freed slot), or accept() fail for want of kernel memory,
/// it stops watching the socket for a quarter of a second instead (a timerfd
/// made up front wakes it). Refusals are logged once when they begin, then at
/// most every 10 s with a count, and once more when accepting resumes.
///
/// Each accepted socket goes to `new_connection()`; this class's makes a
/// restartable scribe (`make_socket_scribe`) and sends the broker CAF's
/// `new_connection_msg`. A subclass may take the socket for itself
/// (`take_accepted()`).
class doorman : public caf::io::doorman {
public:
  /// How long accept pauses when it cannot refuse with the spare.
  static constexpr std::chrono::milliseconds pause_time{250};
  /// The shortest time between two log lines about refusals.
  static constexpr std::chrono::seconds log_interval{10};

  doorman(net::default_multiplexer& mpx, int fd, log_function log);
  ~doorman() override;

  bool new_connection() override;
  void graceful_shutdown() override;
  void launch() override;
  std::string addr() const override;
  uint16_t port() const override;
  void add_to_loop() override;
  void remove_from_loop() override;

protected:
  net::default_multiplexer& backend();
  /// The socket accepted last; the caller owns it (-1 once taken).
  int take_accepted() { return std::exchange(accepted_, -1); }

private:
  struct guard;
  friend struct guard;

  /// One readable event on the listening socket: accept one connection.
  void accept_one();
  void refuse(int err);
  void pause();
  void resume();
  void note_refusal(int err);

  std::unique_ptr<guard> guard_;
  log_function log_;
  int accepted_ = -1;
};

/// Adds the listening socket `fd` to `broker`; each accepted connection
/// arrives as CAF's `new_connection_msg` with a `make_socket_scribe` scribe.
/// Running out of descriptors is survived and reported through `log` (see
/// `doorman`).
caf::io::accept_handle add_listener(caf::io::abstract_broker* broker, int fd,
                                    log_function log = {});

} // namespace virtactor::flow
