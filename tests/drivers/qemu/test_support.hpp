/// Helpers shared by the qemu definition tests: the golden data directory,
/// reading files, listing inputs and the masks for values that cannot match.
#pragma once

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "drivers/qemu/domain_def.hpp"
#include "tests/golden_files.hpp"

namespace virtactor::drivers::qemu::test {

inline std::filesystem::path data_dir() {
  return std::filesystem::path{VA_QEMU_TEST_DIR} / "data";
}

using virtactor::golden::read_text;
using virtactor::golden::sibling;

/// The input documents of `dir` (outputs left out), sorted.
inline std::vector<std::filesystem::path> inputs(const std::string& dir) {
  return virtactor::golden::inputs(data_dir() / dir);
}

/// Replaces every match of `re` in `text` with `with`.
inline std::string mask(const std::string& text, const std::string& re, const std::string& with) {
  return std::regex_replace(text, std::regex{re}, with);
}

/// The facts of the emulator the goldens were captured with.
inline const emulator_facts& qemu_7_2() {
  static const emulator_facts facts = emulator_facts::qemu_7_2();
  return facts;
}

} // namespace virtactor::drivers::qemu::test
