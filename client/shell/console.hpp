/// Where the shell writes: stdout for results, stderr for "error: ..." lines,
/// with virsh's quiet mode and its flush-on-every-print discipline.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/error.hpp"

namespace virtactor::client::shell {

/// Output sink of the shell, and the error of the running command. virsh flushes stdout after every
/// print and before every error so that `2>&1` interleaves the two streams in order; this does the
/// same.
class console {
public:
  console(std::FILE* out = stdout, std::FILE* err = stderr) : out_(out), err_(err) {}

  /// Prints `text` on stdout (`vshPrint`).
  void print(std::string_view text);

  /// Prints `text` on stdout unless quiet (`vshPrintExtra`).
  void print_extra(std::string_view text);

  /// Prints "error: <message>" on stderr (`vshError`).
  void error(std::string_view message);

  /// Prints raw text on stderr (warnings that do not start with "error: ").
  void print_err(std::string_view text);

  bool quiet() const { return quiet_; }
  void set_quiet(bool q) { quiet_ = q; }

  std::FILE* out_stream() const { return out_; }

  /// Also writes every error to `fd` (`-l FILE`), one line each as
  /// "[YYYY.MM.DD HH:MM:SS virtactor PID] ERROR message".
  void set_log(int fd) { log_fd_ = fd; }

  /// The libvirt error of the running command (virsh's `last_error`): set by
  /// failed calls, printed after a failed command, cleared on fallbacks.
  std::optional<virt_error> last_error;

private:
  std::FILE* out_;
  std::FILE* err_;
  bool quiet_ = false;
  int log_fd_ = -1;
};

/// printf into a std::string (the shell's messages are printf formats).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace virtactor::client::shell
