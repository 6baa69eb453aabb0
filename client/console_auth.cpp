#include "client/console_auth.hpp"

#include <mutex>
#include <optional>
#include <string>

#include <termios.h>
#include <unistd.h>

namespace virtactor::client {

namespace {

/// One line from `in` without its newline; nullopt on a read error. End of
/// input reads as an empty line.
std::optional<std::string> read_line(std::FILE* in) {
  std::string line;
  for (;;) {
    int c = std::fgetc(in);
    if (c == EOF)
      return std::ferror(in) ? std::nullopt : std::optional<std::string>{line};
    if (c == '\n')
      return line;
    line.push_back(static_cast<char>(c));
  }
}

/// Reads a secret: echo off while it is typed when `in` is a terminal (only
/// the closing newline is shown).
std::optional<std::string> read_secret(std::FILE* in) {
  int fd = ::fileno(in);
  termios saved{};
  bool tty = fd >= 0 && ::isatty(fd) && ::tcgetattr(fd, &saved) == 0;
  if (tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  auto line = read_line(in);
  if (tty)
    ::tcsetattr(fd, TCSAFLUSH, &saved);
  return line;
}

} // namespace

std::shared_ptr<const connect_auth> console_auth(std::FILE* in, std::FILE* out) {
  auto auth = std::make_shared<connect_auth>();
  auth->types = {credential_type::authname, credential_type::echoprompt, credential_type::realm,
                 credential_type::passphrase, credential_type::noechoprompt};
  // Connections may be opened from several threads; one question at a time.
  auto lock = std::make_shared<std::mutex>();
  auth->callback = [in, out, lock](std::vector<credential>& creds) {
    std::lock_guard<std::mutex> guard{*lock};
    for (auto& c : creds) {
      bool secret = false;
      switch (c.type) {
        case credential_type::authname:
        case credential_type::echoprompt:
        case credential_type::realm:
          break;
        case credential_type::passphrase:
        case credential_type::noechoprompt:
          secret = true;
          break;
        default:
          return false; // a question this console cannot answer
      }
      if (std::fprintf(out, "%s: ", c.prompt.c_str()) < 0 || std::fflush(out) != 0)
        return false;
      auto line = secret ? read_secret(in) : read_line(in);
      if (!line)
        return false;
      if (line->empty() && c.default_result)
        c.result = c.default_result;
      else
        c.result = std::move(*line);
    }
    return true;
  };
  return auth;
}

} // namespace virtactor::client
