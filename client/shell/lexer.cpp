#include "client/shell/lexer.hpp"

namespace virtactor::client::shell {

token string_tokens::next(console& out, bool report) {
  const auto n = line_.size();
  auto at = [&](size_t i) { return i < n ? line_[i] : '\0'; };
  size_t p = pos_;
  // Blanks and backslash-newline pairs separate words.
  while (at(p) == ' ' || at(p) == '\t' || (at(p) == '\\' && at(p + 1) == '\n'))
    p += at(p) == '\\' ? 2 : 1;
  if (at(p) == '\0') {
    pos_ = p;
    return {token_kind::end, {}};
  }
  if (at(p) == ';' || at(p) == '\n') {
    pos_ = p + 1;
    return {token_kind::command_end, {}};
  }
  if (at(p) == '#') {
    // A word starting with '#' comments out the rest of the line.
    while (at(p) != '\0' && at(p) != '\n')
      ++p;
    pos_ = at(p) == '\n' ? p + 1 : p;
    return {token_kind::command_end, {}};
  }
  bool single_quote = false;
  bool double_quote = false;
  std::string word;
  while (at(p) != '\0') {
    char c = at(p);
    if (!single_quote && !double_quote && (c == ' ' || c == '\t' || c == ';' || c == '\n'))
      break;
    if (!double_quote && c == '\'') {
      single_quote = !single_quote;
      ++p;
      continue;
    }
    if (!single_quote && c == '\\') {
      // As in sh: a backslash escapes inside "" and outside quotes, not in ''.
      ++p;
      if (at(p) == '\0') {
        if (report)
          out.error("dangling \\");
        return {token_kind::error, {}};
      }
      if (at(p) == '\n') {
        ++p;
        continue;
      }
    } else if (!single_quote && c == '"') {
      double_quote = !double_quote;
      ++p;
      continue;
    }
    word.push_back(at(p));
    ++p;
  }
  pos_ = p;
  if (double_quote && report) {
    out.error("missing \"");
    return {token_kind::error, {}};
  }
  return {token_kind::arg, std::move(word)};
}

token argv_tokens::next(console&, bool) {
  if (pos_ == words_.size())
    return {token_kind::end, {}};
  return {token_kind::arg, words_[pos_++]};
}

} // namespace virtactor::client::shell
