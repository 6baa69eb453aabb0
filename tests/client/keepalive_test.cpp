// The remote connection's keepalive, end to end, against a scripted daemon on
// a unix socket (written with the RPC engine's server side): the client
// answers the daemon's PING with the PONG virsh sends, and once the daemon
// goes silent it PINGs `keepalive_count` times and then drops the connection
// with reason "keepalive" (libvirt's virKeepAlive, as in actors/rpc_engine).
#define BOOST_TEST_MODULE client_keepalive
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/rpc_engine.hpp"
#include "client/blocking.hpp"

using namespace virtactor;
using namespace std::chrono_literals;
using protocol::proc;

namespace {

/// Reads exactly `n` bytes, waiting at most 30 s in all; false on EOF,
/// error or timeout.
bool read_exact(int fd, char* out, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (n > 0) {
    pollfd p{fd, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 200) < 0)
      return false;
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    auto got = ::read(fd, out, n);
    if (got <= 0)
      return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool write_all(int fd, const xdr::buffer& b) {
  size_t off = 0;
  while (off < b.size()) {
    auto put = ::write(fd, b.data() + off, b.size() - off);
    if (put <= 0)
      return false;
    off += static_cast<size_t>(put);
  }
  return true;
}

/// A daemon that answers the remote driver's handshake, then PINGs the
/// client once and answers nothing more.
class silent_daemon {
public:
  silent_daemon() {
    char tmpl[] = "/tmp/va-keepalive-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    BOOST_REQUIRE(listen_fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    BOOST_REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(listen_fd_, 4) == 0);
    thread_ = std::thread([this] { run(); });
  }

  ~silent_daemon() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string uri() const { return "test+unix:///default?socket=" + path_; }

  /// What the daemon saw, in order: "call N", "ping", "pong", "eof".
  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return log_;
  }

  /// The client's answer to the daemon's PING, whole.
  xdr::buffer pong() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return pong_;
  }

private:
  void note(std::string what) {
    std::lock_guard<std::mutex> guard{mtx_};
    log_.push_back(std::move(what));
  }

  void run() {
    int fd = -1;
    while (!stop_ && fd < 0) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0)
        fd = ::accept(listen_fd_, nullptr, nullptr);
    }
    if (fd < 0)
      return;
    for (;;) {
      char word[4];
      if (!read_exact(fd, word, 4))
        break;
      auto len = protocol::parse_length(word);
      if (!len)
        break;
      xdr::buffer frame(*len - protocol::length_size);
      if (!read_exact(fd, frame.data(), frame.size()))
        break;
      auto in = rpc::classify(rpc::role::server, frame);
      switch (in.what) {
        case rpc::kind::ping:
          note("ping"); // silent: no PONG
          break;
        case rpc::kind::pong: {
          note("pong");
          std::lock_guard<std::mutex> guard{mtx_};
          pong_.assign(word, word + 4);
          pong_.insert(pong_.end(), frame.begin(), frame.end());
          break;
        }
        case rpc::kind::call:
          note("call " + std::to_string(in.hdr.proc));
          write_all(fd, answer(in));
          if (in.hdr.proc == static_cast<int32_t>(proc::connect_register_close_callback))
            write_all(fd, rpc::keepalive_message(protocol::keepalive_proc::ping));
          break;
        default:
          note("other");
          break;
      }
    }
    note("eof");
    ::close(fd);
  }

  static xdr::buffer answer(const rpc::inbound& in) {
    switch (static_cast<proc>(in.hdr.proc)) {
      case proc::auth_list:
        return rpc::reply_value(in.hdr, protocol::auth_list_ret{{protocol::auth_type::none}});
      case proc::connect_supports_feature: {
        protocol::connect_supports_feature_args a;
        BOOST_REQUIRE(xdr::decode(in.body.data(), in.body.size(), a).empty());
        return rpc::reply_value(in.hdr, protocol::connect_supports_feature_ret{
                                          rpc::daemon_feature_answer(a.feature, true).value_or(0)});
      }
      case proc::connect_open:
      case proc::connect_register_close_callback:
      case proc::connect_unregister_close_callback:
      case proc::connect_close:
        return rpc::reply_value(in.hdr, xdr::empty{});
      default:
        return rpc::reply_unknown_proc(in.hdr);
    }
  }

  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mtx_;
  std::vector<std::string> log_;
  xdr::buffer pong_;
};

} // namespace

BOOST_AUTO_TEST_CASE(client_answers_ping_then_drops_a_silent_daemon_after_count_pings) {
  silent_daemon daemon;
  open_options opts;
  opts.keepalive_interval = 1;
  opts.keepalive_count = 2;
  auto opened = client::blocking_connection::open(daemon.uri(), 0, opts);
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened ? "" : opened.error().message));
  auto& c = *opened;
  // Waits for the loss; no timing is asserted, only that it happens.
  for (int i = 0; i < 300 && !c->closed(); ++i)
    std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE(c->closed());
  BOOST_REQUIRE(c->lost_reason().has_value());
  BOOST_TEST(*c->lost_reason() == static_cast<int32_t>(close_reason::keepalive));
  // The daemon sees the end of the stream.
  for (int i = 0; i < 100; ++i) {
    auto log = daemon.log();
    if (!log.empty() && log.back() == "eof")
      break;
    std::this_thread::sleep_for(100ms);
  }
  auto log = daemon.log();
  std::string seen;
  for (auto& l : log)
    seen += l + "; ";
  BOOST_TEST_MESSAGE("daemon saw: " << seen);
  // The handshake: auth list, the keepalive probe, open, the callback
  // probes and the close-callback registration.
  std::vector<std::string> handshake{"call 66", "call 60", "call 1", "call 60", "call 60",
                                     "call 360"};
  BOOST_REQUIRE(log.size() >= handshake.size());
  BOOST_TEST(std::vector<std::string>(log.begin(), log.begin() + 6) == handshake,
             boost::test_tools::per_element());
  // The rest: the PONG to the daemon's PING (what virsh sends), exactly
  // `keepalive_count` PINGs, the end.
  std::vector<std::string> rest(log.begin() + 6, log.end());
  std::vector<std::string> expected{"pong", "ping", "ping", "eof"};
  BOOST_TEST(rest == expected, boost::test_tools::per_element());
  BOOST_TEST(daemon.pong() == rpc::keepalive_message(protocol::keepalive_proc::pong));
}
