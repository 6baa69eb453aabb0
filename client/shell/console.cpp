#include "client/shell/console.hpp"

#include <cstdarg>
#include <ctime>
#include <unistd.h>
#include <vector>

namespace virtactor::client::shell {

void console::print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

void console::print_extra(std::string_view text) {
  if (!quiet_)
    print(text);
}

void console::error(std::string_view message) {
  std::fflush(out_);
  std::fputs("error: ", err_);
  std::fwrite(message.data(), 1, message.size(), err_);
  std::fputc('\n', err_);
  std::fflush(err_);
  if (log_fd_ >= 0) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y.%m.%d %H:%M:%S", &tm);
    std::string line = format("[%s virtactor %d] ERROR ", stamp, static_cast<int>(::getpid()));
    line.append(message.data(), message.size());
    while (!line.empty() && line.back() == '\n')
      line.pop_back();
    line += '\n';
    // Best effort, like virsh: a log that cannot be written loses the line.
    (void)!::write(log_fd_, line.data(), line.size());
  }
}

void console::print_err(std::string_view text) {
  std::fflush(out_);
  std::fwrite(text.data(), 1, text.size(), err_);
  std::fflush(err_);
}

std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out;
  if (n > 0) {
    std::vector<char> buf(static_cast<size_t>(n) + 1);
    std::vsnprintf(buf.data(), buf.size(), fmt, ap);
    out.assign(buf.data(), static_cast<size_t>(n));
  }
  va_end(ap);
  return out;
}

} // namespace virtactor::client::shell
