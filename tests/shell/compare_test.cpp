/// Runs every case of the shell case file through the shell under test and
/// through the reference virsh, and requires identical stdout, stderr and
/// exit status (after the masks the case file declares).
///
/// Parameters (environment):
///   VA_SHELL_BIN          shell under test (default: the build's virtactor)
///   VA_SHELL_URI          its connection URI (default test:///default)
///   VA_SHELL_REF_BIN      reference shell (default: virsh on PATH)
///   VA_SHELL_REF_URI      its URI (default test:///default)
///   VA_SHELL_CASES        case file (default tests/shell/cases.txt)
///   VA_SHELL_DATA         working directory of both (default tests/shell/data)
///   VA_SHELL_BEFORE_EACH  shell command run before each case (e.g. restart a daemon)
///   VA_SHELL_ONLY         run only cases whose name contains this text
#define BOOST_TEST_MODULE shell_compare
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/shell/case_file.hpp"
#include "tests/shell/process.hpp"

namespace ts = virtactor::tests::shell;
namespace utf = boost::unit_test;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

std::string source_dir() {
  return env_or("VA_SOURCE_DIR", ".");
}

std::string reference_binary() {
  return ts::find_program(env_or("VA_SHELL_REF_BIN", "virsh"));
}

/// Skips the comparison with a clear message when virsh is not installed.
boost::test_tools::assertion_result reference_available(utf::test_unit_id) {
  boost::test_tools::assertion_result res(!reference_binary().empty());
  if (!res)
    res.message() << "the reference shell '" << env_or("VA_SHELL_REF_BIN", "virsh")
                  << "' is not installed; skipping the virsh comparison";
  return res;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty() || from == to)
    return;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

std::string quoted_args(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args)
    out += " '" + a + "'";
  return out;
}

std::string show(const std::string& text) {
  std::ostringstream out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    out << "    |" << line << "\n";
  if (!text.empty() && text.back() != '\n')
    out << "    (no newline at end)\n";
  return out.str();
}

std::string case_file_path() {
  return env_or("VA_SHELL_CASES", source_dir() + "/tests/shell/cases.txt");
}

/// The parsed case file, or the reason it cannot be read or parsed.
std::pair<std::optional<ts::case_list>, std::string> load_cases() {
  std::ifstream in{case_file_path()};
  if (!in)
    return {std::nullopt, "cannot read " + case_file_path()};
  std::stringstream text;
  text << in.rdbuf();
  return ts::parse_case_file(text.str());
}

} // namespace

BOOST_AUTO_TEST_CASE(the_case_file_is_well_formed) {
  auto [list, error] = load_cases();
  BOOST_TEST(error == "");
  BOOST_REQUIRE(list.has_value());
  BOOST_TEST(list->cases.size() > 0u);
}

BOOST_AUTO_TEST_CASE(every_case_prints_what_virsh_prints, *utf::precondition(reference_available)) {
  std::string path = case_file_path();
  auto [list, error] = load_cases();
  BOOST_REQUIRE_MESSAGE(list, "case file: " << error);

  std::string bin =
      env_or("VA_SHELL_BIN", env_or("VA_BINARY_DIR", ".") + "/client/shell/virtactor");
  std::string uri = env_or("VA_SHELL_URI", "test:///default");
  std::string ref_bin = reference_binary();
  std::string ref_uri = env_or("VA_SHELL_REF_URI", "test:///default");
  std::string data = env_or("VA_SHELL_DATA", source_dir() + "/tests/shell/data");
  std::string before = env_or("VA_SHELL_BEFORE_EACH", "");
  std::string only = env_or("VA_SHELL_ONLY", "");
  // Both sides see the same, fixed language so messages and widths agree.
  const std::vector<std::pair<std::string, std::string>> base_env = {
      {"LC_ALL", "C.UTF-8"},
      {"LANG", "C.UTF-8"},
      {"LIBVIRT_DEFAULT_URI", ""},
      {"VIRSH_DEFAULT_CONNECT_URI", ""},
      {"VIRTACTOR_DEFAULT_URI", ""}};

  int compared = 0;
  for (const auto& c : list->cases) {
    if (!only.empty() && c.name.find(only) == std::string::npos)
      continue;
    if (!c.same_uri_only.empty() && uri != ref_uri) {
      BOOST_TEST_MESSAGE("case '" << c.name << "' skipped across URIs: " << c.same_uri_only);
      continue;
    }
    BOOST_TEST_CONTEXT("case '" << c.name << "' (" << path << ":" << c.line << ")") {
      auto env = base_env;
      env.insert(env.end(), c.env.begin(), c.env.end());
      auto run = [&](const std::string& program, const std::string& target) {
        if (!before.empty())
          ts::run_process({"/bin/sh", "-c", before}, data, env, "", std::chrono::seconds{60});
        std::vector<std::string> argv{program};
        if (!c.raw) {
          argv.push_back("-c");
          argv.push_back(target);
        }
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        return ts::run_process(argv, data, env, c.stdin_text, std::chrono::seconds{60});
      };
      auto expected = run(ref_bin, ref_uri);
      auto actual = run(bin, uri);
      // A remote URI shows up where virsh shows its own.
      replace_all(actual.out, uri, ref_uri);
      replace_all(actual.err, uri, ref_uri);
      auto masks = list->global_masks;
      masks.insert(masks.end(), c.masks.begin(), c.masks.end());
      auto exp_out = ts::apply_masks(expected.out, masks);
      auto exp_err = ts::apply_masks(expected.err, masks);
      auto act_out = ts::apply_masks(actual.out, masks);
      auto act_err = ts::apply_masks(actual.err, masks);
      BOOST_CHECK_MESSAGE(!actual.timed_out && !expected.timed_out, "a shell timed out");
      bool same =
          exp_out == act_out && exp_err == act_err && expected.exit_code == actual.exit_code;
      if (!c.known_gap.empty()) {
        // A difference another part of virtactor owns: say so, do not fail.
        if (same)
          BOOST_TEST_MESSAGE("case '" << c.name << "' now matches: drop its known-gap line ("
                                      << c.known_gap << ")");
        else
          BOOST_TEST_MESSAGE("case '" << c.name << "' differs as known: " << c.known_gap);
        ++compared;
        continue;
      }
      BOOST_CHECK_MESSAGE(exp_out == act_out, "stdout differs for"
                                                  << quoted_args(c.args) << "\n  virsh:\n"
                                                  << show(exp_out) << "  virtactor:\n"
                                                  << show(act_out));
      BOOST_CHECK_MESSAGE(exp_err == act_err, "stderr differs for"
                                                  << quoted_args(c.args) << "\n  virsh:\n"
                                                  << show(exp_err) << "  virtactor:\n"
                                                  << show(act_err));
      BOOST_CHECK_MESSAGE(expected.exit_code == actual.exit_code,
                          "exit status differs for" << quoted_args(c.args) << ": virsh "
                                                    << expected.exit_code << ", virtactor "
                                                    << actual.exit_code);
      ++compared;
    }
  }
  BOOST_TEST_MESSAGE("compared " << compared << " cases");
  BOOST_TEST(compared > 0);
}
