// Clients of one virtactord listener that open the same URI with the same
// flags share one driver connection inside the daemon (daemon/session.cpp,
// `driver_link`). Sharing must be invisible to them: each hears only its own
// subscriptions, one leaving ends nothing of another's, read-only stays
// read-only, and the connection (with the test driver's state) goes with the
// last of them.
#define BOOST_TEST_MODULE interop_shared_connections
#include <boost/test/unit_test.hpp>

#include "tests/interop/harness.hpp"
#include "tests/interop/raw_client.hpp"

using namespace virtactor;
using namespace virtactor::interop;
using protocol::proc;

BOOST_AUTO_TEST_CASE(python_clients_sharing_a_driver_connection_never_notice) {
  daemon_process daemon;
  auto r = run_process({system_python, VA_INTEROP_SOURCE_DIR "/shared_connections.py",
                        daemon.unix_uri(), daemon.unix_ro_uri()},
                       {}, 120s);
  BOOST_TEST_MESSAGE(r.out);
  BOOST_TEST(r.exit_code == 0, "checks failed:\n" << r.out << r.err);
  BOOST_TEST(r.out.find("FAIL") == std::string::npos);
  BOOST_TEST(r.out.find("ok the state went with the last client") != std::string::npos);
  BOOST_TEST(daemon.running(), "virtactord died; its log:\n" << daemon.log());
}

BOOST_AUTO_TEST_CASE(a_client_cannot_deregister_another_clients_callback) {
  daemon_process daemon;
  auto a = raw_client::unix_socket(daemon.rw_socket());
  auto b = raw_client::unix_socket(daemon.rw_socket());
  a.open();
  b.open();
  protocol::connect_domain_event_callback_register_any_args any;
  any.event_id = 0; // VIR_DOMAIN_EVENT_ID_LIFECYCLE
  auto reg = a.call<proc::connect_domain_event_callback_register_any>(any);
  BOOST_TEST_REQUIRE(reg.ok());
  protocol::connect_domain_event_callback_deregister_any_args dereg;
  dereg.callback_id = reg->callback_id;
  auto id = dereg.callback_id;
  auto other = b.call<proc::connect_domain_event_callback_deregister_any>(dereg);
  BOOST_TEST_REQUIRE(!other.ok());
  BOOST_TEST(other.error().code == error_code::invalid_arg);
  BOOST_TEST(other.error().message ==
             "invalid argument: callback ID " + std::to_string(id) + " not registered");
  // Still A's: A may deregister it, once.
  BOOST_TEST(a.call<proc::connect_domain_event_callback_deregister_any>(dereg).ok());
  BOOST_TEST(!a.call<proc::connect_domain_event_callback_deregister_any>(dereg).ok());
}

BOOST_AUTO_TEST_CASE(clients_that_leave_mid_open_leave_the_daemon_serving) {
  daemon_process daemon;
  auto before = daemon.status();
  BOOST_TEST_REQUIRE(before.has_value());
  // Many clients send CONNECT_OPEN and vanish without waiting for the reply;
  // a shared open in flight is answered to whoever still waits.
  for (int i = 0; i < 200; ++i) {
    auto c = raw_client::unix_socket(daemon.rw_socket());
    protocol::connect_open_args open;
    open.name = std::string{"test:///default"};
    c.send_call(static_cast<int32_t>(proc::connect_open), xdr::encode(open));
  }
  auto c = raw_client::unix_socket(daemon.rw_socket());
  c.open();
  auto listed = c.call<proc::connect_list_all_domains>({1, 0});
  BOOST_TEST_REQUIRE(listed.ok());
  BOOST_TEST(listed->ret == 1); // test:///default's one domain, nothing left over
  BOOST_TEST(daemon.clients_become(1));
}
