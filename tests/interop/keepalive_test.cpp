// Keepalive never waits behind calls: a PING written while a burst of
// pipelined calls on the same connection is being answered gets its PONG
// before the last of their replies, however many of them are in flight or
// queued for a request slot. The assertions are about order, never time.
#define BOOST_TEST_MODULE interop_keepalive
#include <boost/test/unit_test.hpp>

#include <set>

#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

namespace {


/// What came back for one burst.
struct burst_outcome {
  int replies = 0;               // replies received in all
  int failed = 0;                // error replies among them
  int unexpected = 0;            // replies to serials we did not send (or twice)
  std::optional<int> pong_after; // replies received before the PONG
};

/// A valid domain definition of almost REMOTE_STRING_MAX (4 MiB): parsing it
/// keeps the driver busy for a while.
std::string heavy_domain_xml(const std::string& name) {
  return "<domain type='test'><name>" + name +
         "</name><memory>1024</memory><description>" + std::string(4000000, 'x') +
         "</description><os><type>hvm</type></os></domain>";
}

/// Writes, in one go: a heavy DOMAIN_DEFINE_XML, `calls` pipelined calls
/// (DOMAIN_GET_INFO and CONNECT_LIST_ALL_DOMAINS in turn), then a PING; reads
/// until every reply and the PONG are in.
///
/// The heavy call at the head keeps the calls behind it in flight or queued
/// for a request slot while the daemon reads the rest of the burst. Without
/// it, on a loaded machine the daemon may answer every call before its I/O
/// thread even reads the PING, and the order would prove nothing.
burst_outcome ping_behind_burst(raw_client& c, const std::string& name, int calls) {
  c.open();
  auto found = c.call<proc::domain_lookup_by_name>({"test"});
  BOOST_TEST_REQUIRE(found.ok());
  xdr::buffer bytes;
  std::set<uint32_t> serials;
  auto add = [&](proc p, const xdr::buffer& payload) {
    auto h = c.next_call(static_cast<int32_t>(p));
    auto f = raw_client::frame(h, payload);
    bytes.insert(bytes.end(), f.begin(), f.end());
    serials.insert(h.serial);
  };
  add(proc::domain_define_xml, xdr::encode(protocol::xml_args{heavy_domain_xml(name)}));
  for (int i = 0; i < calls; ++i) {
    if (i % 2)
      add(proc::connect_list_all_domains,
          xdr::encode(protocol::connect_list_all_domains_args{1, 0}));
    else
      add(proc::domain_get_info, xdr::encode(protocol::dom_only{found->dom}));
  }
  protocol::header ping;
  ping.prog = protocol::program::keepalive;
  ping.proc = static_cast<int32_t>(protocol::keepalive_proc::ping);
  ping.type = protocol::msg_type::message;
  auto f = raw_client::frame(ping, {});
  bytes.insert(bytes.end(), f.begin(), f.end());
  BOOST_TEST_REQUIRE(c.send_bytes(bytes));

  burst_outcome out;
  auto expected = static_cast<int>(serials.size());
  raw_message msg;
  auto deadline = clock_type::now() + 120s;
  while ((out.replies < expected || !out.pong_after) && clock_type::now() < deadline) {
    auto st = c.read(msg, 1s);
    if (st == read_status::closed)
      break;
    if (st == read_status::timed_out)
      continue;
    if (msg.is_keepalive(protocol::keepalive_proc::pong)) {
      out.pong_after = out.replies;
    } else if (msg.is_reply()) {
      ++out.replies;
      if (msg.is_error())
        ++out.failed;
      if (serials.erase(msg.hdr.serial) != 1)
        ++out.unexpected;
    }
  }
  BOOST_TEST(out.replies == expected);
  BOOST_TEST(out.failed == 0);
  BOOST_TEST(out.unexpected == 0);
  BOOST_TEST_REQUIRE(out.pong_after.has_value(), "the PING was never answered");
  BOOST_TEST(*out.pong_after < expected, "the PONG came after all " << expected
                                           << " replies: the PING waited behind the calls");
  BOOST_TEST_MESSAGE("PONG after " << *out.pong_after << " of " << expected << " replies");
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_ping_behind_200_pipelined_calls_is_answered_before_their_last_reply) {
  daemon_process daemon;
  BOOST_TEST_CONTEXT("unix") {
    auto c = raw_client::unix_socket(daemon.rw_socket());
    ping_behind_burst(c, "va-heavy-unix", 200);
  }
  BOOST_TEST_CONTEXT("tcp") {
    auto c = raw_client::tcp(daemon.tcp_port());
    ping_behind_burst(c, "va-heavy-tcp", 200);
  }
}

BOOST_AUTO_TEST_CASE(a_ping_is_answered_while_calls_queue_for_the_one_request_slot) {
  // With max_client_requests = 1 every call behind the heavy one waits in the
  // session's queue; the PING must not join that queue.
  daemon_settings settings;
  settings.tcp = false;
  settings.config = "max_client_requests = 1\n";
  daemon_process daemon{settings};
  auto c = raw_client::unix_socket(daemon.rw_socket());
  ping_behind_burst(c, "va-heavy", 200);
}

BOOST_AUTO_TEST_CASE(a_ping_before_connect_open_gets_a_pong) {
  daemon_process daemon;
  auto c = raw_client::unix_socket(daemon.rw_socket());
  BOOST_TEST_REQUIRE(c.send_keepalive(protocol::keepalive_proc::ping));
  raw_message msg;
  BOOST_TEST_REQUIRE(c.read(msg, 30s) == read_status::message);
  BOOST_TEST(msg.is_keepalive(protocol::keepalive_proc::pong));
  BOOST_TEST(msg.hdr.serial == 0u);
  BOOST_TEST(static_cast<int>(msg.hdr.status) == static_cast<int>(protocol::msg_status::ok));
  BOOST_TEST(msg.payload.empty());
}
