/// A `caf::io` scribe over any `caf::io::network::stream` subclass, for
/// streams with their own read/write policy (TLS; a QEMU monitor socket that
/// remembers why it ended; the restartable streams of actors/flow_stream.hpp).
/// CAF's own `scribe_impl` only takes its default policy; this is the same
/// shape around another stream.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>

namespace virtactor {

/// A stream whose reading may stop and restart at any moment (see
/// `flow::stream`): it starts with `launch` and restarts with
/// `resume_reading` instead of CAF's `start`/`activate`.
template <class Stream>
concept restartable_stream = requires(Stream& s, caf::io::network::stream_manager* mgr) {
  s.launch(mgr);
  s.resume_reading(mgr);
};

template <class Stream>
class stream_scribe : public caf::io::scribe {
public:
  /// A scribe for socket `fd` (named `address` for `addr()`), whose stream
  /// is `Stream(xs...)`.
  template <class... Ts>
  stream_scribe(caf::io::network::native_socket fd, std::string address, Ts&&... xs)
      : scribe(caf::io::network::conn_hdl_from_socket(fd)),
        address_(std::move(address)),
        stream_(std::forward<Ts>(xs)...) {
    // nop
  }

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      if constexpr (restartable_stream<Stream>)
        stream_.launch(this);
      else
        stream_.start(this);
    }
  }

  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override { stream_.flush(this); }

  std::string addr() const override { return address_; }
  // The peer's port, where there is one, is in `addr()`; nothing calls this.
  uint16_t port() const override { return 0; }

  void add_to_loop() override {
    if constexpr (restartable_stream<Stream>) {
      if (launched_)
        stream_.resume_reading(this);
    } else {
      stream_.activate(this);
    }
  }
  void remove_from_loop() override { stream_.passivate(); }

private:
  bool launched_ = false;
  std::string address_;
  Stream stream_;
};

} // namespace virtactor
