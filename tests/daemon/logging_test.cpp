// libvirt's logging model (daemon/logging.hpp): the syntax of log_filters and
// log_outputs with libvirt 9.0's messages, and which messages reach which
// output.
#define BOOST_TEST_MODULE daemon_logging
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "daemon/logging.hpp"

using namespace virtactor::daemon;

namespace {

std::string error_of(const virtactor::result<std::vector<log_output>>& r) {
  return r ? std::string{"(accepted)"} : r.error().message;
}

std::string error_of(const virtactor::result<std::vector<log_filter>>& r) {
  return r ? std::string{"(accepted)"} : r.error().message;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

BOOST_AUTO_TEST_CASE(outputs_of_every_destination_parse) {
  auto r = parse_log_outputs("3:stderr  1:file:/tmp/x.log 4:syslog:virtactord 2:journald");
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 4u);
  BOOST_TEST(((*r)[0] == log_output{log_priority::warning, log_destination::stderr_stream, ""}));
  BOOST_TEST(((*r)[1] == log_output{log_priority::debug, log_destination::file, "/tmp/x.log"}));
  BOOST_TEST(((*r)[2] == log_output{log_priority::error, log_destination::syslog, "virtactord"}));
  BOOST_TEST(((*r)[3] == log_output{log_priority::info, log_destination::journald, ""}));
}

BOOST_AUTO_TEST_CASE(a_later_output_to_the_same_place_replaces_the_earlier) {
  auto r = parse_log_outputs("1:stderr 4:stderr");
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 1u);
  BOOST_TEST(((*r)[0].priority == log_priority::error));
}

BOOST_AUTO_TEST_CASE(bad_outputs_get_libvirts_messages) {
  const std::pair<const char*, const char*> cases[] = {
    {"9:nowhere", "invalid argument: Invalid log priority '9' for log output '9:nowhere'"},
    {"0:stderr", "invalid argument: Invalid log priority '0' for log output '0:stderr'"},
    {"x:stderr", "invalid argument: Invalid log priority 'x' for log output 'x:stderr'"},
    {"1:nowhere", "invalid argument: Invalid log destination 'nowhere' for log output '1:nowhere'"},
    {"1:file", "invalid argument: Log output '1:file' does not meet the format requirements for "
               "destination type 'file'"},
    {"1:stderr:x", "invalid argument: Log output '1:stderr:x' does not meet the format "
                   "requirements for destination type 'stderr'"},
    {"x", "invalid argument: Malformed format for log output 'x'"},
    {"3:stderr 1:bogus", "invalid argument: Invalid log destination 'bogus' for log output "
                         "'1:bogus'"},
  };
  for (auto& [text, message] : cases)
    BOOST_TEST(error_of(parse_log_outputs(text)) == message, text);
}

BOOST_AUTO_TEST_CASE(bad_filters_get_libvirts_messages) {
  const std::pair<const char*, const char*> cases[] = {
    {"9:qemu", "invalid argument: Invalid priority '9' for filter '9:qemu'"},
    {"qemu", "invalid argument: Malformed format for filter 'qemu'"},
    {"1:+", "invalid argument: Invalid match string '+'"},
    {"1:", "invalid argument: Invalid match string ''"},
  };
  for (auto& [text, message] : cases)
    BOOST_TEST(error_of(parse_log_filters(text)) == message, text);
  auto ok = parse_log_filters("1:+daemon.tls 4:daemon");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(((*ok)[0] == log_filter{log_priority::debug, "daemon.tls"}));
}

BOOST_AUTO_TEST_CASE(priorities_are_numbers_or_names) {
  BOOST_TEST((*parse_log_priority("warning") == log_priority::warning));
  BOOST_TEST((*parse_log_priority("1") == log_priority::debug));
  auto bad = parse_log_priority("9");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message ==
             "invalid argument: Failed to set logging priority, argument '9' is invalid");
}

BOOST_AUTO_TEST_CASE(filters_and_output_priorities_decide_what_is_written_where) {
  char tmpl[] = "/tmp/va-log-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  logger log;
  log_settings s;
  s.level = log_priority::warning;
  s.filters = *parse_log_filters("1:daemon.tls");
  s.outputs = *parse_log_outputs("1:file:" + dir + "/all.log 4:file:" + dir + "/errors.log");
  BOOST_REQUIRE(log.configure(std::move(s)).ok());
  log.debug("daemon.tls", "handshake detail");   // its filter lets debug in
  log.info("daemon", "ready");                   // below log_level: dropped
  log.warn("daemon.config", "unknown key");      // everywhere but errors.log
  log.error("daemon", "cannot write pid file");  // everywhere
  auto all = read_all(dir + "/all.log");
  auto errors = read_all(dir + "/errors.log");
  BOOST_TEST(all.find(": debug : daemon.tls : handshake detail\n") != std::string::npos, all);
  BOOST_TEST(all.find("ready") == std::string::npos, all);
  BOOST_TEST(all.find(": warning : daemon.config : unknown key\n") != std::string::npos, all);
  BOOST_TEST(all.find(": error : daemon : cannot write pid file\n") != std::string::npos, all);
  BOOST_TEST(errors.find("unknown key") == std::string::npos, errors);
  BOOST_TEST(errors.find(": error : daemon : cannot write pid file\n") != std::string::npos, errors);
  // Each output opens with the version and host lines, as libvirt's.
  BOOST_TEST(errors.find(": info : daemon : virtactor version: ") != std::string::npos, errors);
  // "YYYY-MM-DD HH:MM:SS.mmm+0000: TID: ..."
  BOOST_TEST(all.size() > 30u);
  BOOST_TEST(all.substr(23, 7) == "+0000: ", all);
  std::remove((dir + "/all.log").c_str());
  std::remove((dir + "/errors.log").c_str());
  ::rmdir(dir.c_str());
}
