// The real python3-libvirt against virtactord. Every scenario of
// api_scenarios.py runs twice or more, each time in a fresh python process:
// once against the in-process test:///default (the reference: libvirt's own
// test driver, no daemon), and once per transport against a freshly started
// virtactord. The transcripts (values, and code/domain/message of errors) must
// be identical, line for line.
#define BOOST_TEST_MODULE interop_python_client
#include <boost/test/unit_test.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/interop/harness.hpp"

using namespace virtactor::interop;

namespace {

/// How python reaches the daemon.
enum class transport {
  unix_rw,        ///< libvirt-sock
  tcp,            ///< 127.0.0.1:port
  unix_ro_socket, ///< libvirt-sock-ro with a plain (read-write) open
};

const char* to_string(transport t) {
  switch (t) {
    case transport::unix_rw:
      return "unix";
    case transport::tcp:
      return "tcp";
    case transport::unix_ro_socket:
      return "unix read-only socket";
  }
  return "?";
}

struct transcript {
  int exit_code = -1;
  std::vector<std::string> lines;
  std::string err;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

transcript run_scenario(const std::string& scenario, const std::string& uri, bool read_only) {
  std::vector<std::string> argv{system_python, VA_INTEROP_SOURCE_DIR "/api_scenarios.py",
                                scenario, uri};
  if (read_only)
    argv.push_back("--read-only");
  auto r = run_process(argv, {}, 300s);
  return {r.exit_code, split_lines(r.out), r.err};
}

/// The lines that differ, as a short report (empty when the transcripts match).
std::string differences(const std::vector<std::string>& want, const std::vector<std::string>& got) {
  std::ostringstream out;
  int shown = 0;
  for (size_t i = 0; i < std::max(want.size(), got.size()) && shown < 8; ++i) {
    auto w = i < want.size() ? want[i] : std::string{"(missing)"};
    auto g = i < got.size() ? got[i] : std::string{"(missing)"};
    if (w == g)
      continue;
    ++shown;
    out << "\n  line " << i + 1 << "\n    test:///default: " << w << "\n    virtactord:      " << g;
  }
  if (want.size() != got.size())
    out << "\n  " << want.size() << " lines expected, " << got.size() << " seen";
  return out.str();
}

/// Adjusts the reference transcript for a transport where libvirt itself
/// answers differently from the in-process driver.
using adjust_fn = std::function<void(transport, std::vector<std::string>&)>;

/// Runs `scenario` against test:///default, then against a fresh virtactord
/// over each of `transports`, and compares. One assertion per transport.
void compare_scenario(const std::string& scenario, std::vector<transport> transports,
                      bool read_only = false, const adjust_fn& adjust = {}) {
  auto reference = run_scenario(scenario, "test:///default", read_only);
  BOOST_TEST_REQUIRE(reference.exit_code == 0,
                     "the reference run of " << scenario << " failed: " << reference.err);
  BOOST_TEST_REQUIRE(!reference.lines.empty());
  for (auto t : transports) {
    BOOST_TEST_CONTEXT("scenario " << scenario << " over " << to_string(t)) {
      daemon_settings settings;
      settings.tcp = t == transport::tcp;
      daemon_process daemon{settings};
      auto uri = t == transport::tcp              ? daemon.tcp_uri()
                 : t == transport::unix_ro_socket ? daemon.unix_ro_uri()
                                                  : daemon.unix_uri();
      // On libvirt-sock-ro the point is a plain open that the daemon makes read-only.
      auto got = run_scenario(scenario, uri, read_only && t != transport::unix_ro_socket);
      auto want = reference.lines;
      if (adjust)
        adjust(t, want);
      BOOST_TEST(got.exit_code == 0, "python stopped: " << got.err);
      auto diff = differences(want, got.lines);
      BOOST_TEST(diff.empty(), "transcripts differ:" << diff);
      BOOST_TEST(daemon.running(), "virtactord died; its log:\n" << daemon.log());
    }
  }
}

const std::vector<transport> both = {transport::unix_rw, transport::tcp};

} // namespace

BOOST_AUTO_TEST_CASE(connection_and_host_facts_match_the_in_process_driver) {
  compare_scenario("connect", both, false, [](transport t, std::vector<std::string>& want) {
    // virConnectIsSecure: plain tcp is not secure. libvirtd 9.0 answers 0 there
    // (checked with tests/interop/start-libvirtd.sh), the in-process driver 1.
    if (t != transport::tcp)
      return;
    for (auto& line : want)
      if (line == R"(["isSecure", {"ok": 1}])")
        line = R"(["isSecure", {"ok": 0}])";
  });
}

BOOST_AUTO_TEST_CASE(listings_lookups_info_state_and_xml_match_the_in_process_driver) {
  compare_scenario("domains", both);
}

BOOST_AUTO_TEST_CASE(define_start_suspend_resume_destroy_undefine_and_setters_match) {
  compare_scenario("lifecycle", both);
}

BOOST_AUTO_TEST_CASE(errors_carry_the_code_domain_and_message_of_the_in_process_driver) {
  compare_scenario("errors", both);
}

// Known difference in the XML model (drivers/xml, not the daemon): for a
// document that is not well-formed, libxml2 says e.g. "Couldn't find end of
// Start Tag domain line 1" with the caret after the name, and "StartTag:
// invalid element name" for "<<<"; virtactor says "Error parsing start element
// tag" / "Could not determine tag type" (pugixml's words) with the caret one
// column earlier. Code and domain match. One failed comparison per transport.
BOOST_AUTO_TEST_CASE(malformed_xml_errors_repeat_libxml2s_message,
                     *boost::unit_test::expected_failures(2)) {
  compare_scenario("xml_errors", both);
}

BOOST_AUTO_TEST_CASE(lifecycle_events_arrive_with_the_in_process_event_and_detail) {
  compare_scenario("events", both);
}

BOOST_AUTO_TEST_CASE(networks_list_lookup_info_xml_and_lifecycle_match) {
  compare_scenario("networks", both);
}

BOOST_AUTO_TEST_CASE(pools_and_volumes_list_info_xml_create_and_delete_match) {
  compare_scenario("storage", both);
}

BOOST_AUTO_TEST_CASE(read_only_connections_read_and_refuse_changes_as_in_process) {
  // openReadOnly over both transports, and a plain open on libvirt-sock-ro
  // (the daemon makes that connection read-only): all as openReadOnly in-process.
  compare_scenario("read_only", {transport::unix_rw, transport::tcp, transport::unix_ro_socket},
                   true);
}

BOOST_AUTO_TEST_CASE(fifty_connections_open_at_once_each_get_the_same_answers) {
  compare_scenario("many_connections", both);
}
