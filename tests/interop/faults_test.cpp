// Faults against one virtactord, in one test: broken frames, broken calls,
// silent keepalive peers and a full client table. Each fault may end the
// connection that caused it, never another one: a healthy client keeps
// calling over tcp the whole time, and the daemon stays up. Expected replies
// are those of the real libvirtd 9.0 (see notes/libvirt-protocol.md §1.3-§3;
// the same raw frames were sent to a libvirtd started with start-libvirtd.sh).
#define BOOST_TEST_MODULE interop_faults
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {

constexpr int max_clients = 6;

/// A client on its own thread that makes calls until told to stop.
class healthy_client {
public:
  explicit healthy_client(uint16_t port) : client_(raw_client::tcp(port)) {
    client_.open();
    thread_ = std::thread([this] { run(); });
  }
  ~healthy_client() { stop(); }

  /// Waits for three more successful calls; false if they do not come or a
  /// call failed.
  bool makes_progress() {
    auto start = calls_.load();
    wait_until([&] { return calls_.load() >= start + 3 || !failure().empty(); }, 30s);
    return calls_.load() >= start + 3 && failure().empty();
  }

  std::string failure() {
    std::lock_guard<std::mutex> guard{mtx_};
    return failure_;
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

private:
  void fail(std::string why) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (failure_.empty())
      failure_ = std::move(why);
  }

  void run() {
    try {
      while (!stop_) {
        auto listed = client_.call<proc::connect_list_all_domains>({1, 0});
        if (!listed || listed->ret != 1 || listed->domains.size() != 1) {
          fail(listed ? "LIST_ALL_DOMAINS returned " + std::to_string(listed->ret) + " domains"
                      : "LIST_ALL_DOMAINS failed: " + listed.error().message);
          return;
        }
        ++calls_;
        auto found = client_.call<proc::domain_lookup_by_name>({"test"});
        if (!found || found->dom.name != "test") {
          fail(found ? "lookup found " + found->dom.name
                     : "DOMAIN_LOOKUP_BY_NAME failed: " + found.error().message);
          return;
        }
        ++calls_;
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  raw_client client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> calls_{0};
  std::mutex mtx_;
  std::string failure_;
};

/// True when a fresh client on `socket` gets its AUTH_LIST answered: the
/// daemon accepted it.
std::optional<raw_client> try_accepted(const std::string& socket) {
  auto c = raw_client::unix_socket(socket);
  auto serial = c.send_call(static_cast<int32_t>(proc::auth_list));
  if (!c.wait_reply(serial, 10s))
    return std::nullopt;
  return c;
}

/// A client on `socket` that the daemon has accepted. A connection may be
/// refused for a moment while sessions of earlier faults wind down
/// (max_clients is small here): poll until one is accepted.
raw_client accepted(const std::string& socket) {
  std::optional<raw_client> c;
  if (!wait_until([&] { return (c = try_accepted(socket)).has_value(); }, 30s))
    throw std::runtime_error("the daemon accepts no client on " + socket);
  return std::move(*c);
}

xdr::buffer be32(uint32_t x) {
  return {static_cast<char>(x >> 24), static_cast<char>(x >> 16), static_cast<char>(x >> 8),
          static_cast<char>(x)};
}

/// Checks that `reply` is the error `code`/`domain`/`message`.
void check_error(const std::optional<raw_message>& reply, int32_t code, int32_t domain,
                 const std::string& message) {
  BOOST_TEST_REQUIRE(reply.has_value(), "no reply; expected \"" << message << "\"");
  BOOST_TEST_REQUIRE(reply->is_error(), "a success reply; expected \"" << message << "\"");
  auto e = reply->error();
  BOOST_TEST(e.code == code, describe(e));
  BOOST_TEST(e.domain == domain, describe(e));
  BOOST_TEST(e.message.value_or("") == message);
  BOOST_TEST(e.level == 2);
}

/// The message of a failed result; empty for a success (Boost evaluates
/// assertion messages eagerly).
template <class T>
std::string error_text(const result<T>& r) {
  return r.ok() ? std::string{} : r.error().message;
}

/// The connection still serves calls after a fault it survived.
void check_still_serves(raw_client& c) {
  auto type = c.call<proc::connect_get_type>();
  BOOST_TEST_REQUIRE(type.ok(), "the connection stopped serving: " << error_text(type));
  BOOST_TEST(type->type == "TEST");
}

constexpr int32_t vir_err_internal_error = 1;
constexpr int32_t vir_err_rpc = 39;
constexpr int32_t vir_from_rpc = 7;
constexpr int32_t vir_err_no_support = 3;
constexpr int32_t vir_from_domain = 20;

} // namespace

BOOST_AUTO_TEST_CASE(one_daemon_survives_every_fault_while_a_healthy_client_keeps_calling) {
  daemon_settings settings;
  settings.config = "keepalive_interval = 1\n"
                    "keepalive_count = 2\n"
                    "max_clients = " +
                    std::to_string(max_clients) + "\n";
  daemon_process daemon{settings};
  auto sock = daemon.rw_socket();
  healthy_client healthy{daemon.tcp_port()};
  BOOST_TEST_REQUIRE(healthy.makes_progress(), healthy.failure());

  auto survived = [&](const std::string& what) {
    BOOST_TEST_REQUIRE(daemon.running(), what << ": virtactord died; its log:\n" << daemon.log());
    BOOST_TEST(healthy.makes_progress(),
               what << ": the healthy client stopped: " << healthy.failure());
  };
  // A client of each transport, accepted.
  auto both_transports = [&] {
    std::vector<raw_client> out;
    out.push_back(accepted(sock));
    std::optional<raw_client> t;
    wait_until(
      [&] {
        t = raw_client::tcp(daemon.tcp_port());
        auto serial = t->send_call(static_cast<int32_t>(proc::auth_list));
        return t->wait_reply(serial, 10s).has_value();
      },
      30s);
    out.push_back(std::move(*t));
    return out;
  };

  BOOST_TEST_CONTEXT("clients that disconnect mid-call") {
    {
      auto c = accepted(sock);
      c.open();
      auto frame = raw_client::frame(c.next_call(static_cast<int32_t>(proc::connect_list_all_domains)),
                                     xdr::encode(protocol::connect_list_all_domains_args{1, 0}));
      c.send_bytes(frame.data(), frame.size() - 4); // the length promises 4 more bytes
    }
    {
      auto c = accepted(sock);
      c.open();
      xdr::buffer calls;
      for (int i = 0; i < 50; ++i) {
        auto f = raw_client::frame(c.next_call(static_cast<int32_t>(proc::domain_lookup_by_name)),
                                   xdr::encode(protocol::name_args{"test"}));
        calls.insert(calls.end(), f.begin(), f.end());
      }
      c.send_bytes(calls); // and gone before the replies
    }
    {
      auto c = accepted(sock);
      c.send_bytes("\0\0", 2); // half a length word
    }
    survived("clients that disconnect mid-call");
  }

  BOOST_TEST_CONTEXT("lying length words") {
    for (uint32_t len : {protocol::length_max + 1, 0xffffffffu, protocol::length_min - 1, 4u, 0u}) {
      for (auto& c : both_transports()) {
        auto bytes = be32(len);
        bytes.resize(protocol::length_min, '\0');
        c.send_bytes(bytes);
        BOOST_TEST(c.closed_within(10s), "a length word of " << len << " left the connection open");
      }
    }
    survived("lying length words");
  }

  BOOST_TEST_CONTEXT("garbage bytes") {
    for (auto& c : both_transports()) {
      std::string http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
      c.send_bytes(http.data(), http.size());
      BOOST_TEST(c.closed_within(10s), "an HTTP request left the connection open");
    }
    {
      auto c = accepted(sock);
      xdr::buffer junk(4096, static_cast<char>(0xa5));
      c.send_bytes(junk);
      BOOST_TEST(c.closed_within(10s), "4 KiB of 0xa5 left the connection open");
    }
    {
      // A length that fits and a header of all ones: not a call (type -1), so
      // libvirtd drops the message and keeps the connection; so do we.
      auto c = accepted(sock);
      auto bytes = be32(protocol::length_min);
      bytes.resize(protocol::length_min, static_cast<char>(0xff));
      c.send_bytes(bytes);
      c.open();
      check_still_serves(c);
    }
    survived("garbage bytes");
  }

  BOOST_TEST_CONTEXT("unknown program and version") {
    auto c = accepted(sock);
    auto h = c.next_call(static_cast<int32_t>(proc::connect_get_type));
    h.prog = 0x12345678;
    c.send_bytes(raw_client::frame(h, {}));
    check_error(c.wait_reply(h.serial), vir_err_rpc, vir_from_rpc,
                "Cannot find program 305419896 version 1");
    h = c.next_call(static_cast<int32_t>(proc::connect_get_type));
    h.vers = 2;
    c.send_bytes(raw_client::frame(h, {}));
    check_error(c.wait_reply(h.serial), vir_err_rpc, vir_from_rpc,
                "Cannot find program 536903814 version 2");
    c.open();
    check_still_serves(c);
    survived("unknown program and version");
  }

  BOOST_TEST_CONTEXT("unknown procedures") {
    auto c = accepted(sock);
    check_error(c.wait_reply(c.send_call(9999)), vir_err_rpc, vir_from_rpc,
                "unknown procedure: 9999");
    c.open();
    for (int32_t number : {9999, 444, 0, -5})
      check_error(c.wait_reply(c.send_call(number)), vir_err_rpc, vir_from_rpc,
                  "unknown procedure: " + std::to_string(number));
    // One libvirt defines that no driver here has (DOMAIN_MEMORY_STATS):
    // refused by its API's name, as libvirtd's driver refuses it.
    check_error(c.wait_reply(c.send_call(159)), vir_err_no_support, vir_from_domain,
                "this function is not supported by the connection driver: "
                "virDomainMemoryStats");
    check_still_serves(c);
    survived("unknown procedures");
  }

  BOOST_TEST_CONTEXT("calls before CONNECT_OPEN, and a second CONNECT_OPEN") {
    auto c = accepted(sock);
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::connect_get_type))),
                vir_err_internal_error, vir_from_rpc,
                "internal error: hypervisor connection not open");
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::domain_lookup_by_name),
                                         xdr::encode(protocol::name_args{"test"}))),
                vir_err_internal_error, vir_from_rpc,
                "internal error: hypervisor connection not open");
    c.open();
    check_still_serves(c);
    protocol::connect_open_args again;
    again.name = "test:///default";
    check_error(c.wait_reply(
                  c.send_call(static_cast<int32_t>(proc::connect_open), xdr::encode(again))),
                vir_err_internal_error, vir_from_rpc, "internal error: connection already open");
    survived("calls before CONNECT_OPEN, and a second CONNECT_OPEN");
  }

  BOOST_TEST_CONTEXT("arguments that do not decode") {
    auto c = accepted(sock);
    c.open();
    const std::string decode_error = "Unable to decode message payload";
    // A string that claims 100 bytes and brings 2.
    auto short_string = be32(100);
    short_string.push_back('a');
    short_string.push_back('b');
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::domain_lookup_by_name),
                                         short_string)),
                vir_err_rpc, vir_from_rpc, decode_error);
    // A string longer than REMOTE_STRING_MAX (4 MiB): refused by its length alone.
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::domain_define_xml),
                                         be32(0x7fffffff))),
                vir_err_rpc, vir_from_rpc, decode_error);
    // Two (int, unsigned) arguments cut after two bytes, and none at all.
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::connect_list_all_domains),
                                         xdr::buffer{0, 0})),
                vir_err_rpc, vir_from_rpc, decode_error);
    check_error(c.wait_reply(c.send_call(static_cast<int32_t>(proc::domain_get_info))),
                vir_err_rpc, vir_from_rpc, decode_error);
    check_still_serves(c);
    survived("arguments that do not decode");
  }

  BOOST_TEST_CONTEXT("keepalive: a client that stops answering PINGs is dropped") {
    auto probe_keepalive = [](raw_client& c) {
      auto supported = c.call<proc::connect_supports_feature>({10}); // PROGRAM_KEEPALIVE
      BOOST_TEST_REQUIRE(supported.ok(), error_text(supported));
      BOOST_TEST(supported->supported == 1);
      c.open();
    };
    auto silent = accepted(sock);
    silent.answer_pings = false;
    probe_keepalive(silent);
    // A client that answers, alongside: it must outlive more PINGs than the
    // count after which the silent one goes.
    auto responsive = accepted(sock);
    probe_keepalive(responsive);
    std::thread pump([&responsive] {
      raw_message msg;
      auto deadline = clock_type::now() + 60s;
      while (responsive.pings_seen < 4 && clock_type::now() < deadline &&
             responsive.read(msg, 100ms) != read_status::closed) {
        // nop: read() answers the PINGs
      }
    });
    BOOST_TEST(silent.closed_within(30s), "a client that ignores PINGs was never dropped");
    BOOST_TEST(silent.pings_seen >= 1, "the silent client was dropped without being PINGed");
    pump.join();
    BOOST_TEST(responsive.pings_seen >= 4);
    check_still_serves(responsive);
    survived("keepalive");
  }

  BOOST_TEST_CONTEXT("max_clients: the client beyond the cap is refused, then let in") {
    // The healthy client holds one slot; fill the others.
    std::vector<raw_client> held;
    while (static_cast<int>(held.size()) + 1 < max_clients)
      held.push_back(accepted(sock));
    auto extra = raw_client::unix_socket(sock);
    extra.send_call(static_cast<int32_t>(proc::auth_list));
    BOOST_TEST(extra.closed_within(10s), "a client beyond max_clients was left hanging");
    auto extra_tcp = raw_client::tcp(daemon.tcp_port());
    extra_tcp.send_call(static_cast<int32_t>(proc::auth_list));
    BOOST_TEST(extra_tcp.closed_within(10s), "a tcp client beyond max_clients was left hanging");
    BOOST_TEST(healthy.makes_progress(), healthy.failure());
    held.pop_back(); // frees a slot
    std::optional<raw_client> again;
    BOOST_TEST(wait_until([&] { return (again = try_accepted(sock)).has_value(); }, 30s),
               "no client is accepted after a slot was freed");
    if (again) {
      again->open();
      check_still_serves(*again);
    }
    for (auto& h : held) {
      h.open();
      check_still_serves(h);
    }
    survived("max_clients");
  }

  healthy.stop();
  BOOST_TEST(healthy.failure().empty(), healthy.failure());
  BOOST_TEST(daemon.stop() == 0, "virtactord's log:\n" << daemon.log());
}
