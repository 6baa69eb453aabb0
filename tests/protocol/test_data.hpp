/// Test support: the captured vectors under tests/protocol/data (hex text, one
/// message per file, `#` comment lines) and the seed corpus.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/xdr.hpp"

#ifndef VA_PROTOCOL_TEST_DIR
#error "VA_PROTOCOL_TEST_DIR must name tests/protocol in the source tree"
#endif

namespace virtactor::protocol::test {

/// tests/protocol/data in the source tree.
inline std::filesystem::path data_dir() {
  return std::filesystem::path{VA_PROTOCOL_TEST_DIR} / "data";
}

/// The bytes of a hex file: `#` starts a comment line, whitespace is ignored.
inline xdr::buffer read_hex(const std::filesystem::path& file) {
  std::ifstream in{file};
  if (!in)
    throw std::runtime_error("cannot open " + file.string());
  std::string hex;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#')
      continue;
    for (char c : line)
      if (!std::isspace(static_cast<unsigned char>(c)))
        hex.push_back(c);
  }
  if (hex.size() % 2 != 0)
    throw std::runtime_error(file.string() + ": odd number of hex digits");
  xdr::buffer out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

/// The vector `data/<name>.hex`.
inline xdr::buffer vector(const std::string& name) {
  return read_hex(data_dir() / (name + ".hex"));
}

/// Every `data/*.hex`, sorted by name.
inline std::vector<std::filesystem::path> all_vectors() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator{data_dir()})
    if (entry.path().extension() == ".hex")
      out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace virtactor::protocol::test
