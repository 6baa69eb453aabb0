// The QEMU command line against the one the real libvirtd 9.0 qemu driver
// logged for the same domain (data/domain/NAME.args, from log/qemu/NAME.log).
//
// The facts of each start come from the golden itself, as the daemon would
// know them at start: the domain's private directory (HOME), PATH, the VNC
// port chosen for autoport, the clock, and tap names. The one normalisation:
// descriptor numbers (`fd=N`, `"fd":"N"`), which depend on what else the daemon
// has open.
#define BOOST_TEST_MODULE qemu_command_line
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include "drivers/qemu/command_line.hpp"
#include "drivers/qemu/domain_def.hpp"
#include "tests/drivers/qemu/xml_test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers;
using namespace virtactor::drivers::qemu::test;

namespace {

/// The value after `prefix` on the golden's line that starts with it.
std::string line_value(const std::string& text, const std::string& prefix) {
  auto at = text.find("\n" + prefix);
  if (at == std::string::npos)
    return {};
  at += 1 + prefix.size();
  auto end = text.find_first_of(" \n", at);
  return text.substr(at, end - at);
}

int64_t utc_seconds(const std::string& stamp) {
  std::tm tm{};
  strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<int64_t>(timegm(&tm));
}

/// The facts of the captured start, read from its command line.
qemu::runtime_facts facts_of(const xml::domain_def& def, const std::string& golden) {
  qemu::runtime_facts rt;
  rt.domain_dir = line_value(golden, "HOME=");
  rt.path_env = line_value(golden, "PATH=");
  rt.master_key = rt.domain_dir + "/master-key.aes";
  auto vnc = line_value(golden, "-vnc ");
  if (!vnc.empty())
    rt.graphics_ports = {5900 + std::stoi(vnc.substr(vnc.find(':') + 1))};
  if (def.clock_offset == "variable") {
    // The capturing host runs in UTC; libvirt adds the adjustment to "now".
    auto base = line_value(golden, "-rtc base=");
    rt.now = utc_seconds(base) - std::stoll(def.clock_adjustment);
  }
  return rt;
}

std::string mask_fds(const std::string& text) {
  return mask(mask(text, "fd=[0-9]+", "fd=N"), "\"fd\":\"[0-9]+\"", "\"fd\":\"N\"");
}

result<qemu::command_line> build(const std::string& name, std::string* golden = nullptr) {
  auto input = data_dir() / "domain" / (name + ".xml");
  auto def = qemu::parse_domain(read_text(input), qemu_7_2());
  if (!def)
    return def.error();
  auto args = read_text(sibling(input, ".args"));
  if (golden)
    *golden = args;
  auto live = qemu::live_definition(*def, {});
  give_taps(live);
  return qemu::build_command_line(live, facts_of(live, args));
}

} // namespace

BOOST_AUTO_TEST_CASE(every_command_line_is_the_one_libvirt_logged) {
  size_t checked = 0;
  for (const auto& f : inputs("domain")) {
    if (!std::filesystem::exists(sibling(f, ".args")))
      continue; // define-only input
    ++checked;
    BOOST_TEST_CONTEXT(f.filename().string()) {
      std::string golden;
      auto cmd = build(f.stem().string(), &golden);
      BOOST_TEST_REQUIRE(cmd.ok(), (cmd.ok() ? "" : cmd.error().message));
      if (!golden.empty() && golden.back() == '\n')
        golden.pop_back();
      auto ours = qemu::format_for_log(*cmd);
      BOOST_TEST(mask_fds(ours) == mask_fds(golden));
      // VA_QEMU_DUMP_DIR=DIR keeps our command lines there (to diff by hand).
      if (const char* dir = std::getenv("VA_QEMU_DUMP_DIR"))
        std::ofstream{std::filesystem::path{dir} / (f.stem().string() + ".args")} << ours << "\n";
    }
  }
  BOOST_TEST(checked >= 25u);
}

BOOST_AUTO_TEST_CASE(the_descriptors_qemu_inherits_are_listed_with_their_numbers) {
  auto cmd = build("chardev-unix-file");
  BOOST_TEST_REQUIRE(cmd.ok());
  BOOST_TEST_REQUIRE(cmd->fds.size() == 3u);
  const auto& fds = cmd->fds;
  BOOST_TEST((fds[0].what == qemu::passed_fd::kind::monitor));
  BOOST_TEST(fds[0].fd == 3);
  BOOST_TEST(fds[0].path.ends_with("/monitor.sock"));
  BOOST_TEST((fds[1].what == qemu::passed_fd::kind::unix_listen));
  BOOST_TEST(fds[1].path == "/var/lib/libvirt/qemu/serial0.sock");
  BOOST_TEST((fds[2].what == qemu::passed_fd::kind::file_append));
  BOOST_TEST(fds[2].path == "/var/log/libvirt/qemu/serial1.log");
  // Each number appears where the command line names it.
  auto log = qemu::format_for_log(*cmd);
  BOOST_TEST(log.find("fd=" + std::to_string(fds[0].fd) + ",server=on") != std::string::npos);
  BOOST_TEST(log.find("id=charserial0,fd=" + std::to_string(fds[1].fd)) != std::string::npos);
  BOOST_TEST(log.find("-add-fd set=0,fd=" + std::to_string(fds[2].fd)) != std::string::npos);
  BOOST_TEST(fds[1].fd != fds[2].fd);
  BOOST_TEST(fds[1].fd >= 4);
}

BOOST_AUTO_TEST_CASE(the_log_form_quotes_what_a_shell_would_split) {
  qemu::command_line cmd;
  cmd.env = {{"HOME", "/var/lib/it's here"}};
  cmd.argv = {"/usr/bin/qemu-system-x86_64", "-name", "guest=a b,debug-threads=on", "-S"};
  BOOST_TEST(qemu::format_for_log(cmd) == "HOME='/var/lib/it'\\''s here' \\\n"
                                          "/usr/bin/qemu-system-x86_64 \\\n"
                                          "-name 'guest=a b,debug-threads=on' \\\n"
                                          "-S");
}

BOOST_AUTO_TEST_CASE(a_definition_that_is_not_live_is_refused) {
  auto def = qemu::parse_domain(read_text(data_dir() / "domain" / "minimal.xml"), qemu_7_2());
  BOOST_TEST_REQUIRE(def.ok());
  auto cmd = qemu::build_command_line(*def, {});
  BOOST_TEST_REQUIRE(!cmd.ok());
  BOOST_TEST(static_cast<int>(cmd.error().code) == 67);
}
