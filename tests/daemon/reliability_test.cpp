// The reliability suite, in the spirit of libvirt's virnetmessagetest and of
// the libvirtd CVEs that became tests: hostile frames on live connections,
// the read-only socket swept with every procedure number libvirt defines
// (CVE-2011-1146), procedure numbers in the gaps of the table
// (CVE-2012-4423), connections closed while keepalive is at work
// (CVE-2014-1447), and SIGHUP, SIGTERM and kill -9 while clients are busy.
#define BOOST_TEST_MODULE daemon_reliability
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <climits>
#include <csignal>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "protocol/procedures.hpp"
#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"
#include "tests/protocol/sample_values.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {

/// The highest REMOTE procedure number of libvirt 9.0.
constexpr int32_t last_libvirt_proc = 453;

/// A client that has opened test:///default on `socket` and works.
raw_client working_client(const std::string& socket, const std::string& uri = "test:///default") {
  auto c = raw_client::unix_socket(socket);
  c.open(uri);
  auto type = c.call<proc::connect_get_type>();
  BOOST_TEST_REQUIRE(type.ok());
  return c;
}

/// Everything a client can see of test:///default: every object and its XML.
std::string snapshot(raw_client& c) {
  std::string out;
  auto doms = c.call<proc::connect_list_all_domains>({1, 0});
  BOOST_TEST_REQUIRE(doms.ok());
  for (auto& d : doms->domains) {
    auto xml = c.call<proc::domain_get_xml_desc>({d, 0});
    auto state = c.call<proc::domain_get_state>({d, 0});
    out += d.name + ":" + std::to_string(d.id) + ":" + (xml ? xml->xml : "?") + ":" +
           (state ? std::to_string(state->state) : "?") + "\n";
  }
  auto nets = c.call<proc::connect_list_all_networks>({1, 0});
  BOOST_TEST_REQUIRE(nets.ok());
  for (auto& n : nets->nets) {
    auto xml = c.call<proc::network_get_xml_desc>({n, 0});
    out += n.name + ":" + (xml ? xml->xml : "?") + "\n";
  }
  auto pools = c.call<proc::connect_list_all_storage_pools>({1, 0});
  BOOST_TEST_REQUIRE(pools.ok());
  for (auto& p : pools->pools) {
    auto xml = c.call<proc::storage_pool_get_xml_desc>({p, 0});
    out += p.name + ":" + (xml ? xml->xml : "?") + "\n";
  }
  return out;
}

/// Sample arguments for procedure `number` of our table, or nothing.
std::optional<xdr::buffer> sample_args(int32_t number, uint32_t seed) {
  using namespace virtactor::protocol;
  std::optional<xdr::buffer> out;
#define VA_SAMPLE(p, args_type, ret_type, api, access)                                            \
  if (number == static_cast<int32_t>(proc::p))                                                   \
    out = xdr::encode(protocol::test::sample<args_type>(seed));
  VA_REMOTE_PROCS(VA_SAMPLE)
#undef VA_SAMPLE
  return out;
}

/// Sends `frame` on `c`; true when the connection still answers a call
/// afterwards (false: the daemon closed it).
bool survives(raw_client& c, const xdr::buffer& frame) {
  if (!c.send_bytes(frame))
    return false;
  // A frame that announced a long body swallows this call: no answer.
  auto serial = c.send_call(static_cast<int32_t>(proc::connect_get_type));
  auto reply = c.wait_reply(serial, 5s);
  return reply && !reply->is_error();
}

/// A client on its own thread that makes calls until stopped; counts them.
class busy_client {
public:
  explicit busy_client(raw_client c) : client_(std::move(c)) {
    thread_ = std::thread([this] {
      try {
        while (!stop_)
          if (client_.call<proc::connect_list_all_domains>({1, 0}).ok())
            ++calls_;
          else
            ++failures_;
      } catch (const std::exception&) {
        ended_ = true;
      }
    });
  }
  ~busy_client() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  bool makes_progress() {
    auto start = calls_.load();
    return wait_until([&] { return calls_.load() >= start + 3; }, 30s);
  }
  bool ended() const { return ended_; }
  uint64_t failures() const { return failures_; }

private:
  raw_client client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::atomic<uint64_t> calls_{0};
  std::atomic<uint64_t> failures_{0};
};

daemon_settings unix_only(std::string config = {}) {
  daemon_settings s;
  s.tcp = false;
  s.config = std::move(config);
  return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_write_procedure_is_refused_on_the_read_only_socket_over_the_whole_table) {
  daemon_process d{unix_only()};
  // A read-write client holds test:///default open (so its state lives on)
  // and takes the snapshots.
  auto rw = working_client(d.rw_socket());
  auto before = snapshot(rw);
  auto ro = working_client(d.ro_socket());
  int writes = 0, refused_others = 0;
  for (int32_t number = 1; number <= last_libvirt_proc; ++number) {
    if (number == static_cast<int32_t>(proc::connect_close) ||
        number == static_cast<int32_t>(proc::connect_open))
      continue; // they end or re-open the connection itself
    auto info = protocol::find_proc_info(number);
    for (uint32_t seed = 0; seed < 3; ++seed) {
      auto args = sample_args(number, seed).value_or(xdr::buffer{});
      auto serial = ro.send_call(number, args);
      auto reply = ro.wait_reply(serial, 30s);
      BOOST_TEST_REQUIRE(reply.has_value(), "no reply to procedure " << number);
      if (info && info->access == protocol::access::write) {
        BOOST_TEST_REQUIRE(reply->is_error(), protocol::proc_name(number) << " succeeded");
        auto e = reply->error();
        BOOST_TEST(e.code == static_cast<int32_t>(error_code::operation_denied), describe(e));
        BOOST_TEST(e.message.value_or("").find("read only access prevents") != std::string::npos,
                   describe(e));
        ++writes;
      } else if (!info) {
        BOOST_TEST(reply->is_error(), protocol::proc_name(number) << " is not implemented");
        ++refused_others;
      }
    }
  }
  BOOST_TEST(writes > 100);
  BOOST_TEST(refused_others > 600);
  BOOST_TEST(snapshot(rw) == before, "a read-only client changed the state");
  BOOST_TEST(ro.call<proc::connect_get_type>().ok());
}

BOOST_AUTO_TEST_CASE(procedure_numbers_in_the_gaps_of_the_table_get_a_clean_error) {
  daemon_process d{unix_only()};
  auto c = working_client(d.rw_socket());
  std::vector<int32_t> numbers{0, -1, INT_MIN, INT_MAX, last_libvirt_proc + 1, 100000};
  // Every number libvirt defines that no driver here implements.
  for (int32_t n = 1; n <= last_libvirt_proc; ++n)
    if (!protocol::find_proc_info(n))
      numbers.push_back(n);
  for (auto n : numbers) {
    for (auto& body : {xdr::buffer{}, xdr::buffer(64, '\xff')}) {
      auto serial = c.send_call(n, body);
      auto reply = c.wait_reply(serial, 30s);
      BOOST_TEST_REQUIRE(reply.has_value(), "no reply to procedure " << n);
      BOOST_TEST_REQUIRE(reply->is_error(), "procedure " << n);
      auto e = reply->error();
      bool defined = !protocol::proc_name(n).empty();
      if (defined)
        BOOST_TEST(e.message.value_or("").find("this function is not supported") !=
                     std::string::npos,
                   describe(e));
      else
        BOOST_TEST(e.message.value_or("") == "unknown procedure: " + std::to_string(n),
                   describe(e));
    }
  }
  BOOST_TEST(c.call<proc::connect_get_type>().ok());
}

BOOST_AUTO_TEST_CASE(hostile_frames_on_live_connections_end_at_most_that_connection) {
  daemon_process d{unix_only("max_clients = 100\n")};
  auto healthy = working_client(d.rw_socket());
  busy_client busy{working_client(d.ro_socket())};
  std::mt19937 rng{12};
  auto victim = working_client(d.rw_socket());
  int frames = 0, closed = 0;
  auto next_victim = [&] {
    ++closed;
    victim = working_client(d.rw_socket());
  };
  auto header_frame = [&](protocol::header h, const xdr::buffer& body) {
    return raw_client::frame(h, body);
  };
  // Every implemented procedure with random bodies of random lengths.
  for (int32_t n = 1; n <= last_libvirt_proc; ++n) {
    if (n == static_cast<int32_t>(proc::connect_close))
      continue;
    for (int k = 0; k < 4; ++k) {
      xdr::buffer body(rng() % 200);
      for (auto& b : body)
        b = static_cast<char>(rng());
      if (k == 3)
        if (auto args = sample_args(n, 1); args && !args->empty()) {
          body = *args; // a valid body with one byte flipped
          body[rng() % body.size()] ^= static_cast<char>(1 + rng() % 255);
        }
      ++frames;
      if (!survives(victim, header_frame(victim.next_call(n), body)))
        next_victim();
    }
  }
  // Headers that lie: every type, status, program and version, odd serials.
  for (int32_t type = -1; type <= 5; ++type)
    for (int32_t status = -1; status <= 3; ++status)
      for (uint32_t prog : {protocol::program::remote, protocol::program::keepalive, 0u,
                            0xffffffffu}) {
        auto h = victim.next_call(static_cast<int32_t>(proc::connect_get_type));
        h.type = static_cast<protocol::msg_type>(type);
        h.status = static_cast<protocol::msg_status>(status);
        h.prog = prog;
        h.vers = rng() % 3;
        h.serial = rng();
        ++frames;
        if (!survives(victim, header_frame(h, {})))
          next_victim();
      }
  // Length words that lie, then nothing or garbage.
  for (uint32_t len : {0u, 1u, 4u, 27u, 28u, 29u, 33554436u, 33554437u, 0xffffffffu}) {
    xdr::buffer frame{static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                      static_cast<char>(len >> 8), static_cast<char>(len)};
    frame.resize(frame.size() + 40, '\x5a');
    ++frames;
    if (!survives(victim, frame))
      next_victim();
  }
  BOOST_TEST(frames > 1500);
  BOOST_TEST(d.running());
  BOOST_TEST(busy.makes_progress());
  BOOST_TEST(!busy.ended());
  BOOST_TEST(healthy.call<proc::connect_get_type>().ok());
  BOOST_TEST_MESSAGE(frames << " hostile frames, " << closed << " connections closed by them");
}

BOOST_AUTO_TEST_CASE(connections_closed_while_keepalive_is_at_work_end_cleanly) {
  daemon_process d{unix_only("keepalive_interval = 1\nkeepalive_count = 1\n")};
  busy_client busy{working_client(d.rw_socket())};
  for (int i = 0; i < 40; ++i) {
    auto c = raw_client::unix_socket(d.rw_socket());
    c.answer_pings = false;
    c.open();
    BOOST_TEST_REQUIRE(c.call<proc::connect_supports_feature>({10}).ok());
    switch (i % 4) {
      case 0: { // close as the first PING arrives
        raw_message m;
        BOOST_TEST_REQUIRE(c.read(m, 10s) == read_status::message);
        BOOST_TEST(m.is_keepalive(protocol::keepalive_proc::ping));
        break;
      }
      case 1: // close with a PING of our own in flight
        c.send_keepalive(protocol::keepalive_proc::ping);
        break;
      case 2: // close with calls in flight
        for (int k = 0; k < 20; ++k)
          c.send_call(static_cast<int32_t>(proc::connect_get_capabilities));
        break;
      default: // never answer: the daemon drops us, we close at the same time
        c.closed_within(5s);
        break;
    }
    c.close();
  }
  BOOST_TEST(d.clients_become(1), d.log());
  BOOST_TEST(busy.makes_progress());
  BOOST_TEST(d.running());
}

BOOST_AUTO_TEST_CASE(sighup_sigterm_and_kill_with_busy_clients) {
  auto s = unix_only();
  s.tcp = true;
  daemon_process d{s};
  std::vector<std::unique_ptr<busy_client>> busy;
  for (int i = 0; i < 6; ++i)
    busy.push_back(std::make_unique<busy_client>(
      i % 3 == 2 ? [&] {
        auto c = raw_client::tcp(d.tcp_port());
        c.open();
        return c;
      }()
                 : working_client(i % 3 ? d.ro_socket() : d.rw_socket())));
  for (int round = 0; round < 2; ++round) {
    d.signal(SIGHUP);
    for (auto& b : busy)
      BOOST_TEST(b->makes_progress());
  }
  BOOST_TEST(d.stop(30s) == 0, d.log());
  BOOST_TEST(!exists(d.rw_socket()));
  BOOST_TEST(!exists(d.pid_file()));
  for (auto& b : busy)
    b->stop();

  // kill -9 under load, then a new daemon on the same directory and pid file.
  daemon_process k{unix_only()};
  busy.clear();
  for (int i = 0; i < 4; ++i)
    busy.push_back(std::make_unique<busy_client>(working_client(k.rw_socket())));
  k.signal(SIGKILL);
  BOOST_TEST_REQUIRE(wait_until([&] { return !k.running(); }, 30s));
  for (auto& b : busy) {
    BOOST_TEST(wait_until([&] { return b->ended() || b->failures() > 0; }, 30s));
    b->stop();
  }
  child_process again({virtactord_path(), "-f", k.config_path(), "--pid-file", k.pid_file()}, {},
                      k.dir() + "/again.out", k.dir() + "/again.err");
  BOOST_TEST_REQUIRE(
    wait_until([&] { return read_file(k.pid_file()) == std::to_string(again.pid()) + "\n"; }, 30s),
    read_file(k.dir() + "/again.err"));
  auto c = working_client(k.rw_socket());
  BOOST_TEST(c.call<proc::connect_list_all_domains>({1, 0}).ok());
  c.close();
  BOOST_TEST(again.stop() == 0);
}
