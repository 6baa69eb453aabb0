/// Golden-file helpers shared by the tests that compare with captured
/// outputs: reading a file, listing the input documents of a directory and
/// naming an input's expected outputs.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace virtactor::golden {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The input documents of `dir` (*.xml less the captured *.out.xml,
/// *.live.xml and *.again.xml), sorted.
inline std::vector<std::filesystem::path> inputs(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator{dir}) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() == ".xml" && name.find(".out.") == std::string::npos &&
        name.find(".live.") == std::string::npos && name.find(".again.") == std::string::npos)
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// `input` with its ".xml" replaced by `suffix` (".out.xml", ".err", ...).
inline std::filesystem::path sibling(const std::filesystem::path& input,
                                     const std::string& suffix) {
  auto p = input;
  p.replace_extension();
  return p.string() + suffix;
}

} // namespace virtactor::golden
