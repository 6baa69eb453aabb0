/// The ordinary-build `main()` of a libFuzzer target: runs every file of the
/// corpus directories given on the command line (or `default_dirs`), each
/// whole and cut at up to `cuts` points (the cut inputs are the ones a
/// fuzzer reaches first), so CTest runs the corpus as a regression test.
/// Include it once, after `LLVMFuzzerTestOneInput`, in a target's source;
/// under -DVA_LIBFUZZER libFuzzer brings its own main and this is empty.
#pragma once

#ifndef VA_LIBFUZZER

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace virtactor::fuzz {

/// Runs the corpus; `name` for messages.
inline int run_corpus(const char* name, int argc, char** argv,
                      const std::vector<std::string>& default_dirs, size_t cuts = 64) {
  std::vector<std::filesystem::path> dirs;
  for (int i = 1; i < argc; ++i)
    dirs.emplace_back(argv[i]);
  if (dirs.empty())
    dirs.assign(default_dirs.begin(), default_dirs.end());
  size_t files = 0, inputs = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::filesystem::recursive_directory_iterator it{dir, ec};
    if (ec) {
      std::fprintf(stderr, "%s: cannot read %s: %s\n", name, dir.c_str(), ec.message().c_str());
      return 1;
    }
    for (const auto& entry : it) {
      if (!entry.is_regular_file())
        continue;
      std::ifstream in{entry.path(), std::ios::binary};
      std::vector<char> bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
      size_t step = bytes.size() / cuts + 1;
      for (size_t cut = 0; cut < bytes.size(); cut += step, ++inputs)
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), cut);
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++inputs;
      ++files;
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "%s: no seed files found\n", name);
    return 1;
  }
  std::printf("%s: %zu seed files, %zu inputs, no violation\n", name, files, inputs);
  return 0;
}

} // namespace virtactor::fuzz

#endif
