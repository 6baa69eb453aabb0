#define BOOST_TEST_MODULE qemu_persistence
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

#include "tests/interop/harness.hpp"

// kill -9 of virtactord at any instant while clients define qemu domains
// never leaves a half-written or lost definition: every define the daemon
// acknowledged is there after a restart, with its content or that of the
// define in flight, and every file in the config directory loads.

using namespace virtactor;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// What the definitions may be: per name, the memory sizes acceptable after
/// a restart, and whether the domain must exist.
struct expected_domain {
  std::set<long> kib;
  bool must_exist = false;
};

std::string qemu_config(const std::string& dir) {
  return "qemu_config_dir = \"" + dir + "/etc\"\n" + "qemu_run_dir = \"" + dir + "/run\"\n" +
         "qemu_lib_dir = \"" + dir + "/lib\"\n" + "qemu_log_dir = \"" + dir + "/log\"\n";
}

std::string uri_of(const interop::daemon_process& d) {
  return std::string{::geteuid() == 0 ? "qemu+unix:///system" : "qemu+unix:///session"} +
         "?socket=" + d.rw_socket();
}

std::map<std::string, long> listed(const interop::daemon_process& d) {
  auto r = interop::run_process(
    {interop::system_python, VA_QEMU_TEST_DIR "/data/define_loop.py", uri_of(d), "list"}, {}, 60s);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::map<std::string, long> out;
  std::istringstream in{r.out};
  std::string name;
  long kib = 0;
  while (in >> name >> kib)
    out[name] = kib;
  return out;
}

size_t definition_files(const std::string& dir) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".xml" &&
        e.path().filename().string()[0] != '.')
      ++n;
  return n;
}

void check(const interop::daemon_process& d, const std::map<std::string, expected_domain>& want,
           const std::string& config_dir) {
  auto have = listed(d);
  for (auto& [name, e] : want) {
    auto it = have.find(name);
    if (e.must_exist)
      BOOST_TEST_REQUIRE((it != have.end()), name << " was acknowledged and is lost");
    if (it != have.end())
      BOOST_TEST(e.kib.count(it->second) == 1u, name << " has " << it->second << " KiB");
  }
  for (auto& [name, kib] : have)
    BOOST_TEST(want.count(name) == 1u, name << " was never defined");
  BOOST_TEST(definition_files(config_dir) == have.size());
}

} // namespace

BOOST_AUTO_TEST_CASE(kill_9_during_defines_loses_no_acknowledged_definition) {
  interop::temp_dir state;
  std::map<std::string, expected_domain> want;
  const int rounds = 5;
  for (int round = 0; round <= rounds; ++round) {
    interop::daemon_settings s;
    s.tcp = false;
    s.config = qemu_config(state.path());
    interop::daemon_process daemon{s};
    check(daemon, want, state.path() + "/etc");
    if (round == rounds)
      break;
    interop::child_process loop{{interop::system_python, VA_QEMU_TEST_DIR "/data/define_loop.py",
                                 uri_of(daemon), "loop", std::to_string(round)},
                                {},
                                state.file("loop.out"),
                                state.file("loop.err")};
    // A different instant each round: after 3, 10, 17, ... acknowledged defines.
    auto acks = [&] {
      auto text = loop.stdout_text();
      size_t n = 0;
      for (size_t p = 0; (p = text.find("ok ", p)) != std::string::npos; ++p)
        ++n;
      return n;
    };
    BOOST_REQUIRE(interop::wait_until([&] { return acks() >= size_t(3 + 7 * round); }, 120s, 1ms));
    daemon.signal(SIGKILL);
    BOOST_REQUIRE(loop.wait(60s).has_value());
    std::istringstream out{loop.stdout_text()};
    std::string word, name;
    long kib = 0;
    while (out >> word) {
      if (word == "end") {
        std::getline(out, word);
        continue;
      }
      out >> name >> kib;
      auto& e = want[name];
      if (word == "ok") {
        e.kib = {kib};
        e.must_exist = true;
      } else {
        e.kib.insert(kib); // in flight when the daemon died: either content
      }
    }
    BOOST_TEST_MESSAGE("round " << round << ": " << acks() << " defines acknowledged");
  }
}
