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

/// What the daemon gives interfaces at start: the tap device of each of type
/// bridge or network, and for type network the bridge and port of the
/// network `default` (which capture.sh sets up on bridge br0).
inline void give_taps(xml::domain_def& live) {
  int n = 0;
  for (auto& net : live.devices.interfaces) {
    if (net.type == "user")
      continue;
    net.target_dev = "vnet" + std::to_string(n++);
    if (net.type == "network") {
      net.actual_bridge = "br0";
      net.portid = "8c0f0d1e-2f64-4c2b-a7a5-0d1c9a3b4e5f";
    }
  }
}

/// The facts of the emulator the goldens were captured with.
inline const emulator_facts& qemu_7_2() {
  static const emulator_facts facts = emulator_facts::qemu_7_2();
  return facts;
}

} // namespace virtactor::drivers::qemu::test
