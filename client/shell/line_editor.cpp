#include "client/shell/line_editor.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

namespace virtactor::client::shell {

namespace {

/// readline's callbacks take no user data: the one editor's completer.
line_editor::completer* the_completer = nullptr;
std::vector<std::string> pending;
size_t pending_next = 0;

/// The generator readline calls for each match until it returns nullptr.
char* next_match(const char*, int state) {
  if (state == 0)
    pending_next = 0;
  if (pending_next >= pending.size())
    return nullptr;
  return ::strdup(pending[pending_next++].c_str());
}

char** attempt_completion(const char* text, int, int end) {
  if (the_completer == nullptr)
    return nullptr;
  std::string_view line{rl_line_buffer, static_cast<size_t>(end)};
  auto found = (*the_completer)(line, text, rl_completion_quote_character != 0);
  if (!found)
    return nullptr; // readline completes file names
  // Offer exactly these, even none: no file names after a command or option.
  rl_attempted_completion_over = 1;
  pending = std::move(*found);
  return rl_completion_matches(text, next_match);
}

/// A character preceded by an unquoted backslash is quoted ("\ ").
int char_is_quoted(char* line, int index) {
  int backslashes = 0;
  while (index - backslashes - 1 >= 0 && line[index - backslashes - 1] == '\\')
    ++backslashes;
  return backslashes % 2;
}

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x == '/')
    return x;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    if (const auto* pw = ::getpwuid(::getuid()))
      home = pw->pw_dir;
  return std::string{home != nullptr ? home : "/"} + "/.cache";
}

bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/')
      if (::mkdir(dir.substr(0, i).c_str(), 0755) != 0 && errno != EEXIST)
        return false;
  return true;
}

/// Keep the strings readline points at alive.
std::string readline_name;

} // namespace

line_editor::line_editor(std::string name, completer complete, std::string& error) {
  readline_name = name;
  rl_readline_name = readline_name.c_str();
  static completer stored;
  stored = std::move(complete);
  the_completer = &stored;
  rl_attempted_completion_function = attempt_completion;
  // virsh's word breaks and quotes: a word ends at a blank or a shell
  // metacharacter; '...' and "..." quote, a backslash escapes one character.
  static char breaks[] = " \t\n`@$><=;|&{(";
  static char quotes[] = "\"'";
  rl_basic_word_break_characters = breaks;
  rl_completer_quote_characters = quotes;
  rl_char_is_quoted_p = char_is_quoted;

  // VIRTACTOR_HISTSIZE: how many lines to keep (virsh: VIRSH_HISTSIZE).
  int max_history = 500;
  std::string env_name = "VIRTACTOR_HISTSIZE";
  if (const char* s = std::getenv(env_name.c_str())) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
      error = "Bad $" + env_name + " value.";
      return;
    }
    if (v < 0 || v > 500000) {
      error = "$" + env_name + " value should be between 0 and 500000";
      return;
    }
    max_history = static_cast<int>(v);
  }
  stifle_history(max_history);
  history_dir_ = cache_dir() + "/" + name;
  history_file_ = history_dir_ + "/history";
  read_history(history_file_.c_str());
}

line_editor::~line_editor() {
  the_completer = nullptr;
  if (history_file_.empty())
    return;
  if (!make_dirs(history_dir_)) {
    std::fprintf(stderr, "error: Failed to create '%s': %s\n", history_dir_.c_str(),
                 std::strerror(errno));
    return;
  }
  write_history(history_file_.c_str());
}

std::optional<std::string> line_editor::read(const std::string& prompt) {
  char* line = ::readline(prompt.c_str());
  if (line == nullptr)
    return std::nullopt;
  std::string out{line};
  std::free(line);
  return out;
}

void line_editor::remember(const std::string& line) {
  add_history(line.c_str());
}

} // namespace virtactor::client::shell
