/// Runs a program with arguments, environment additions and stdin, and
/// collects its stdout, stderr and exit status (for comparing shells).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace virtactor::tests::shell {

struct process_result {
  std::string out;
  std::string err;
  int exit_code = -1; ///< exit status, or 128 + signal
  bool timed_out = false;
};

/// Runs `argv` in `cwd` with `env` added to the inherited environment (an
/// empty value removes the variable), feeding `input` on stdin; kills it
/// after `timeout`.
process_result run_process(const std::vector<std::string>& argv, const std::string& cwd,
                           const std::vector<std::pair<std::string, std::string>>& env,
                           const std::string& input, std::chrono::seconds timeout);

/// The full path of `name` on PATH (or `name` itself if it has a slash and
/// is executable); empty if not found.
std::string find_program(const std::string& name);

} // namespace virtactor::tests::shell
