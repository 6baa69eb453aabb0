// An actor system that embeds the client shuts down with connections open
// (local and remote, closed or left open by their actor): no hang, no CAF
// "unexpected message" noise. Each case runs tests/client/shutdown_probe.cpp
// as a process with a deadline.
#define BOOST_TEST_MODULE client_shutdown
#include <boost/test/unit_test.hpp>

#include "tests/interop/harness.hpp"

using namespace virtactor::interop;

namespace {

void run_probe(const std::string& mode, const std::vector<std::string>& uris, int expected) {
  std::vector<std::string> argv{VA_SHUTDOWN_PROBE, mode};
  argv.insert(argv.end(), uris.begin(), uris.end());
  auto r = run_process(argv, {}, 60s);
  BOOST_TEST_INFO("stderr: " << r.err);
  BOOST_TEST(r.exit_code == 0); // -1: it hung and was killed at the deadline
  BOOST_TEST(r.out == "opened " + std::to_string(expected) + "\n");
  BOOST_TEST(r.err.find("unexpected message") == std::string::npos);
}

std::vector<std::string> many(const daemon_process& d) {
  std::vector<std::string> uris;
  for (int i = 0; i < 8; ++i) {
    uris.push_back("test:///default");
    uris.push_back(d.unix_uri());
    uris.push_back(d.tcp_uri());
  }
  return uris;
}

} // namespace

BOOST_AUTO_TEST_CASE(connections_left_open_by_an_ended_actor_do_not_keep_the_system_up) {
  daemon_process daemon;
  run_probe("leave-open", many(daemon), 24);
}

BOOST_AUTO_TEST_CASE(connections_closed_with_client_close_leave_no_reply_behind) {
  daemon_process daemon;
  run_probe("close", many(daemon), 24);
}

BOOST_AUTO_TEST_CASE(a_system_that_only_opened_local_connections_shuts_down) {
  run_probe("leave-open", {"test:///default", "test:///default"}, 2);
}
