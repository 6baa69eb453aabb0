/// virsh's two token sources: a command string split by its quoting rules
/// (`'...'`, `"..."`, `\`, `;`, newlines, `#` comments) and an argv vector
/// taken word for word.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "client/shell/console.hpp"

namespace virtactor::client::shell {

/// What the next token is.
enum class token_kind {
  arg,         ///< a word (possibly empty)
  command_end, ///< `;`, a newline or a comment: the next word starts a command
  end,         ///< no more input
  error,       ///< malformed input; the message has been printed
};

struct token {
  token_kind kind = token_kind::end;
  std::string text;
};

/// A source of tokens for the command parser.
class token_source {
public:
  virtual ~token_source() = default;

  /// The next token. With `report` false a malformed word is no error
  /// (virsh reads comment words that way).
  virtual token next(console& out, bool report = true) = 0;
};

/// Splits one command line as virsh's `vshCommandStringGetArg` does.
class string_tokens : public token_source {
public:
  explicit string_tokens(std::string line) : line_(std::move(line)) {}
  token next(console& out, bool report = true) override;

private:
  std::string line_;
  size_t pos_ = 0;
};

/// Hands out argv words one by one (`vshCommandArgvGetArg`).
class argv_tokens : public token_source {
public:
  explicit argv_tokens(std::vector<std::string> words) : words_(std::move(words)) {}
  token next(console& out, bool report = true) override;

private:
  std::vector<std::string> words_;
  size_t pos_ = 0;
};

} // namespace virtactor::client::shell
