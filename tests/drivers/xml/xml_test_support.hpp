/// Helpers shared by the XML model tests: the golden data directory, reading
/// files, listing inputs and splitting `vol-create-as` cases.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drivers/test/domain_setup.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/storage_xml.hpp"
#include "tests/golden_files.hpp"

namespace virtactor::drivers::xml::test {

/// The documents under data/ were captured from the test driver: parse them
/// with its defaults and name their interfaces as it does at define.
inline result<domain_def> parse_domain(std::string_view text) {
  auto def = xml::parse_domain(text, virtactor::drivers::test::parse_options());
  if (def)
    if (auto ok = virtactor::drivers::test::generate_ifnames(*def); !ok)
      return ok.error();
  return def;
}

inline std::filesystem::path data_dir() {
  return std::filesystem::path{VA_XML_TEST_DIR} / "data";
}

using virtactor::golden::read_text;
using virtactor::golden::sibling;

/// The input documents of `dir` (expected outputs and errors left out), sorted.
inline std::vector<std::filesystem::path> inputs(const std::string& dir) {
  return virtactor::golden::inputs(data_dir() / dir);
}

/// The `<name>` of a document, as the capture script reads it.
inline std::string name_of(const std::string& xml) {
  auto b = xml.find("<name>");
  auto e = xml.find("</name>", b);
  return b == std::string::npos || e == std::string::npos ? "" : xml.substr(b + 6, e - b - 6);
}

/// The default pool of test:///default, where volume inputs are created.
inline pool_def default_pool() {
  pool_def pool;
  pool.type = "dir";
  pool.name = "default-pool";
  pool.target_path = "/default-pool";
  return pool;
}

/// One line of volume-create-as/cases.txt: "NAME SIZE [--allocation SIZE] [--format F]".
struct create_as_case {
  std::string name;
  std::string capacity;
  std::string allocation;
  std::string format;
  std::string line; ///< the arguments as given to virsh
};

inline std::vector<create_as_case> create_as_cases() {
  std::vector<create_as_case> out;
  std::istringstream in{read_text(data_dir() / "volume-create-as" / "cases.txt")};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words{line};
    create_as_case c;
    if (!(words >> c.name >> c.capacity))
      continue;
    std::string opt;
    while (words >> opt) {
      if (opt == "--allocation")
        words >> c.allocation;
      else if (opt == "--format")
        words >> c.format;
    }
    c.line = line.substr(line.find(' ') + 1);
    out.push_back(c);
  }
  return out;
}

/// Splits virsh's "10M" into the number and its unit suffix.
inline std::pair<std::string, std::string> split_size(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '+'))
    ++i;
  return {s.substr(0, i), s.substr(i)};
}

} // namespace virtactor::drivers::xml::test
