// The annotated example configuration (daemon/virtactord.conf, installed
// with the documentation): as it is it changes nothing; with every line
// uncommented it is valid, names only keys virtactord knows, and its log
// settings parse.
#define BOOST_TEST_MODULE daemon_example_config
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "daemon/config.hpp"
#include "daemon/logging.hpp"

using namespace virtactor;

namespace {

std::string example() {
  std::ifstream in{VA_EXAMPLE_CONFIG};
  std::stringstream ss;
  ss << in.rdbuf();
  BOOST_REQUIRE(!ss.str().empty());
  return ss.str();
}

/// Every "#key = value" line with its '#' removed.
std::string uncommented(const std::string& text) {
  static const std::regex setting{"^#([a-z_]+ = .*)$"};
  std::istringstream in{text};
  std::string out, line;
  while (std::getline(in, line)) {
    std::smatch m;
    out += (std::regex_match(line, m, setting) ? m[1].str() : line) + "\n";
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_example_as_installed_changes_nothing) {
  std::vector<std::string> warnings;
  auto cfg = daemon::parse_config(example(), warnings);
  BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg ? "" : cfg.error().message));
  BOOST_TEST(warnings.empty());
  BOOST_TEST((*cfg == daemon::daemon_config{}));
}

BOOST_AUTO_TEST_CASE(every_setting_of_the_example_is_valid_and_known) {
  std::vector<std::string> warnings;
  auto text = uncommented(example());
  BOOST_TEST(text.find("\nlisten_tcp = 0\n") != std::string::npos); // uncommenting worked
  auto cfg = daemon::parse_config(text, warnings);
  BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg ? "" : cfg.error().message));
  for (auto& w : warnings)
    BOOST_TEST_ERROR("warning: " << w);
  BOOST_REQUIRE(cfg->log_filters.has_value());
  BOOST_REQUIRE(cfg->log_outputs.has_value());
  BOOST_TEST(daemon::parse_log_filters(*cfg->log_filters).ok());
  BOOST_TEST(daemon::parse_log_outputs(*cfg->log_outputs).ok());
}
