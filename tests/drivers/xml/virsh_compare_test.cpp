// The live check behind the golden files: runs the real virsh against
// test:///default on every input under data/ and compares what it prints with
// what our parser and formatter print. Skipped, with a message, when virsh is
// not installed (CI installs it).
#define BOOST_TEST_MODULE xml_virsh_compare
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/network_xml.hpp"
#include "drivers/xml/storage_xml.hpp"
#include "tests/drivers/xml/random_domains.hpp"
#include "tests/drivers/xml/xml_test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::xml;
using namespace virtactor::drivers::xml::test;
namespace utf = boost::unit_test;

namespace {

const std::string mark = "@@virtactor-split@@";

/// Runs `command` through the shell; its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  ::pclose(pipe);
  return out;
}

bool have_virsh() {
  static const bool found = [] {
    bool ok = run("command -v virsh >/dev/null 2>&1 && echo yes") == "yes\n";
    if (!ok)
      BOOST_TEST_MESSAGE("virsh not found on PATH: skipping the live comparison with libvirt "
                         "(install libvirt-clients to run it; CI does)");
    return ok;
  }();
  return found;
}

struct virsh_available {
  boost::test_tools::assertion_result operator()(utf::test_unit_id) const {
    boost::test_tools::assertion_result result{have_virsh()};
    if (!result)
      result.message() << "virsh is not installed";
    return result;
  }
};

/// One virsh process running `commands` (";"-separated) against the test
/// driver; the outputs between `echo` markers, each less virsh's blank line.
std::vector<std::string> virsh(const std::vector<std::string>& commands) {
  std::string script;
  for (const auto& c : commands)
    script += (script.empty() ? "" : "; echo " + mark + "; ") + c;
  auto out = run("virsh -c test:///default '" + script + "' 2>/dev/null");
  std::vector<std::string> parts(1);
  size_t pos = 0;
  while (pos < out.size()) {
    auto eol = out.find('\n', pos);
    auto line = out.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? out.size() : eol + 1;
    if (line == mark)
      parts.emplace_back();
    else
      parts.back() += line + "\n";
  }
  for (auto& p : parts)
    if (p.size() >= 2 && p.ends_with("\n\n"))
      p.pop_back();
  return parts;
}

/// What virsh prints on stderr for a refused document, after its first line.
std::string virsh_error(const std::string& command) {
  auto err = run("virsh -c test:///default '" + command + "' 2>&1 >/dev/null");
  auto first = err.find("\nerror: ");
  return first == std::string::npos ? err : err.substr(first + 8);
}

template <class Parse>
void compare_errors(const std::string& dir, const std::string& command, Parse parse) {
  for (const auto& f : inputs(dir)) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto ours = parse(read_text(f));
      BOOST_TEST_REQUIRE(!ours.ok());
      BOOST_TEST(virsh_error(command + " " + f.string()) == ours.error().message + "\n");
    }
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(virsh_prints_every_domain_as_we_do, *utf::precondition(virsh_available{})) {
  for (const auto& f : inputs("domain")) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto text = read_text(f);
      auto name = name_of(text);
      auto parts = virsh({"define " + f.string(), "dumpxml " + name, "start " + name,
                          "dumpxml --security-info " + name});
      BOOST_TEST_REQUIRE(parts.size() == 4u);
      auto def = parse_domain(text);
      BOOST_TEST_REQUIRE(def.ok());
      BOOST_TEST(format_domain(*def) == parts[1]);
      domain_format live;
      live.id = 2; // the first domain started next to "test" (id 1)
      live.secure = true;
      BOOST_TEST(format_domain(*def, live) == parts[3]);
    }
  }
}

BOOST_AUTO_TEST_CASE(virsh_prints_every_network_pool_and_volume_as_we_do,
                     *utf::precondition(virsh_available{})) {
  for (const auto& f : inputs("network")) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto text = read_text(f);
      auto parts = virsh({"net-define " + f.string(), "net-dumpxml " + name_of(text)});
      auto def = parse_network(text);
      BOOST_TEST_REQUIRE(def.ok());
      BOOST_TEST(format_network(*def) == parts.at(1));
    }
  }
  for (const auto& f : inputs("pool")) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto text = read_text(f);
      auto parts = virsh({"pool-define " + f.string(), "pool-dumpxml " + name_of(text)});
      auto def = parse_pool(text);
      BOOST_TEST_REQUIRE(def.ok());
      BOOST_TEST(format_pool(*def) == parts.at(1));
    }
  }
  for (const auto& f : inputs("volume")) {
    BOOST_TEST_CONTEXT(f.filename().string()) {
      auto text = read_text(f);
      auto parts = virsh({"vol-create default-pool " + f.string(),
                          "vol-dumpxml --pool default-pool " + name_of(text)});
      auto def = parse_volume(text, default_pool());
      BOOST_TEST_REQUIRE(def.ok());
      BOOST_TEST(format_volume(*def) == parts.at(1));
    }
  }
}

BOOST_AUTO_TEST_CASE(virsh_vol_create_as_makes_the_volumes_we_parse,
                     *utf::precondition(virsh_available{})) {
  for (const auto& c : create_as_cases()) {
    BOOST_TEST_CONTEXT(c.line) {
      auto parts = virsh({"vol-create-as default-pool " + c.name + " " + c.line,
                          "vol-dumpxml --pool default-pool " + c.name});
      BOOST_TEST(parts.at(1) == read_text(data_dir() / "volume-create-as" / (c.name + ".out.xml")));
    }
  }
}

BOOST_AUTO_TEST_CASE(virsh_refuses_every_bad_document_with_our_message,
                     *utf::precondition(virsh_available{})) {
  compare_errors("domain-error", "define", [](const std::string& x) { return parse_domain(x); });
  compare_errors("network-error", "net-define",
                 [](const std::string& x) { return parse_network(x); });
  compare_errors("pool-error", "pool-define", [](const std::string& x) { return parse_pool(x); });
  compare_errors("volume-error", "vol-create default-pool",
                 [](const std::string& x) { return parse_volume(x, default_pool()); });
}

BOOST_AUTO_TEST_CASE(virsh_and_we_agree_on_random_domains, *utf::precondition(virsh_available{})) {
  // Fixed seeds keep failures reproducible: mostly valid documents first, then
  // ones where about one part in five is invalid.
  random_domains mostly_valid{20240601, 0.02};
  random_domains often_invalid{20240602, 0.2};
  auto dir =
      std::filesystem::temp_directory_path() / ("va-xml-random-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  size_t accepted = 0;
  for (int n = 0; n < 150; ++n) {
    auto xml = n < 100 ? mostly_valid.next(n) : often_invalid.next(n);
    auto file = dir / ("rnd" + std::to_string(n) + ".xml");
    std::ofstream{file} << xml;
    BOOST_TEST_CONTEXT(xml) {
      auto ours = parse_domain(xml);
      if (!ours.ok()) {
        BOOST_TEST(virsh_error("define " + file.string()) == ours.error().message + "\n");
        continue;
      }
      ++accepted;
      auto name = ours->name;
      auto parts = virsh({"define " + file.string(), "dumpxml " + name, "start " + name,
                          "dumpxml --security-info " + name});
      BOOST_TEST_REQUIRE(parts.size() == 4u);
      BOOST_TEST(format_domain(*ours) == parts[1]);
      domain_format live;
      live.id = 2;
      live.secure = true;
      BOOST_TEST(format_domain(*ours, live) == parts[3]);
    }
  }
  std::filesystem::remove_all(dir);
  BOOST_TEST(accepted > 50u);
}
