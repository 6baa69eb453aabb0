/// Runs the `virtactor` binary for the behaviour that has no virsh
/// counterpart to compare with: its own default URI variables, its banner
/// and prompt, its version text, and the commands it refuses.
#define BOOST_TEST_MODULE shell_run
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "tests/shell/process.hpp"

namespace ts = virtactor::tests::shell;

namespace {

std::string binary() {
  const char* dir = std::getenv("VA_BINARY_DIR");
  return std::string{dir != nullptr ? dir : "."} + "/client/shell/virtactor";
}

/// Runs virtactor with neither default URI variable set.
ts::process_result run(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), binary());
  return ts::run_process(args, "/", {{"VIRTACTOR_DEFAULT_URI", ""}, {"LIBVIRT_DEFAULT_URI", ""}},
                         input, std::chrono::seconds{60});
}

} // namespace

BOOST_AUTO_TEST_CASE(the_default_uri_is_the_test_driver) {
  auto r = ts::run_process({binary(), "uri"}, "/",
                           {{"VIRTACTOR_DEFAULT_URI", ""}, {"LIBVIRT_DEFAULT_URI", ""}}, "",
                           std::chrono::seconds{60});
  BOOST_TEST(r.out == "test:///default\n\n");
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(virtactors_default_uri_variable_wins_over_libvirts) {
  auto r = ts::run_process(
      {binary(), "uri"}, "/",
      {{"VIRTACTOR_DEFAULT_URI", "test:///default"}, {"LIBVIRT_DEFAULT_URI", "bogus:///nowhere"}},
      "", std::chrono::seconds{60});
  BOOST_TEST(r.out == "test:///default\n\n");
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(libvirts_default_uri_variable_is_used_when_virtactors_is_unset) {
  auto r = ts::run_process({binary(), "uri"}, "/",
                           {{"VIRTACTOR_DEFAULT_URI", ""}, {"LIBVIRT_DEFAULT_URI", "bogus:///x"}},
                           "", std::chrono::seconds{60});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("error: failed to connect to the hypervisor\n") == 0u);
  // The default connection is made lazily: the failure is the command's.
  BOOST_TEST(r.out == "\n");
}

BOOST_AUTO_TEST_CASE(interactive_mode_greets_prompts_and_ends_with_a_newline) {
  auto r = run({"-c", "test:///default"}, "uri\nquit\n");
  BOOST_TEST(r.out == "Welcome to virtactor, the virtualization interactive terminal.\n\n"
                      "Type:  'help' for help with commands\n"
                      "       'quit' to quit\n\n"
                      "virtactor # uri\ntest:///default\n\n"
                      "virtactor # quit\n\n");
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(cd_works_in_interactive_mode) {
  auto r = run({"-q", "-c", "test:///default"}, "cd /tmp\npwd\ncd /nonexistent\n");
  BOOST_TEST(r.out.find("/tmp\n") != std::string::npos);
  BOOST_TEST(r.err == "error: cd: No such file or directory: /nonexistent\n");
}

BOOST_AUTO_TEST_CASE(the_long_version_names_virtactor) {
  auto r = run({"-V"});
  BOOST_TEST(r.out.find("virtactor") != std::string::npos);
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(usage_lists_the_commands_in_their_groups) {
  auto r = run({"--help"});
  BOOST_TEST(r.out.find(" Domain Management (help keyword 'domain')\n") != std::string::npos);
  BOOST_TEST(r.out.find("    vol-create-as ") != std::string::npos);
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_console_is_refused_with_a_clear_error) {
  auto r = run({"-c", "test:///default", "start test --console"});
  BOOST_TEST(r.err == "error: Domain is already active\n");
  r = run({"-c", "test:///default", "create /nonexistent.xml --console"});
  BOOST_TEST(r.err == "error: option --console is not supported by virtactor\n");
  BOOST_TEST(r.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(a_virsh_command_virtactor_lacks_is_named_as_such_and_nothing_runs) {
  for (const char* line : {"uri; domstats", "uri; snapshot-create-as demo", "uri; attach-disk",
                           "uri; console test"}) {
    auto r = run({"-c", "test:///default", line});
    std::string name = std::string{line}.substr(5);
    name = name.substr(0, name.find(' '));
    BOOST_TEST(r.err == "error: command '" + name + "' is not supported by virtactor yet\n");
    BOOST_TEST(r.out == ""); // `uri` did not run: the line is parsed first
    BOOST_TEST(r.exit_code == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_typo_is_still_an_unknown_command) {
  auto r = run({"-c", "test:///default", "domstatz"});
  BOOST_TEST(r.err == "error: unknown command: 'domstatz'\n");
  BOOST_TEST(r.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(help_for_a_virsh_command_virtactor_lacks_says_so) {
  auto r = run({"help", "domstats"});
  BOOST_TEST(r.err == "error: command 'domstats' is not supported by virtactor yet\n");
  BOOST_TEST(r.exit_code == 1);
}

BOOST_AUTO_TEST_CASE(complete_is_hidden_from_help_but_runs) {
  auto help = run({"help"});
  BOOST_TEST(help.out.find("complete") == std::string::npos);
  auto r = run({"-c", "test:///default", "complete", "--", "dominf"});
  BOOST_TEST(r.out == "dominfo\n\n");
  BOOST_TEST(r.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_bad_history_size_stops_interactive_mode_as_virsh_does) {
  auto r = ts::run_process({binary(), "-q", "-c", "test:///default"}, "/tmp",
                           {{"VIRTACTOR_HISTSIZE", "lots"}, {"XDG_CACHE_HOME", "/nonexistent"}},
                           "uri\n", std::chrono::seconds{60});
  BOOST_TEST(r.err == "error: Bad $VIRTACTOR_HISTSIZE value.\n");
  BOOST_TEST(r.exit_code == 1);
  auto big = ts::run_process({binary(), "-q", "-c", "test:///default"}, "/tmp",
                             {{"VIRTACTOR_HISTSIZE", "500001"}, {"XDG_CACHE_HOME", "/nonexistent"}},
                             "uri\n", std::chrono::seconds{60});
  BOOST_TEST(big.err == "error: $VIRTACTOR_HISTSIZE value should be between 0 and 500000\n");
  BOOST_TEST(big.exit_code == 1);
}
