/// Command and option definitions in virsh's model, the parser that turns
/// tokens into commands (positional data, `--opt value`, `--opt=value`,
/// `--`, aliases, `--help`), and typed access to the parsed options.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/shell/console.hpp"
#include "client/shell/lexer.hpp"

namespace virtactor::client::shell {

class shell;
struct parsed_command;

/// `vshCmdOptType`.
enum class opt_type : uint8_t {
  boolean, ///< `--name`, no value
  string,  ///< `--name value`; positional unless `named_only`
  integer, ///< like string, documented as <number>
  data,    ///< required positional string
  argv,    ///< every remaining positional word
  alias,   ///< another spelling; `help` holds the target (`"target"` or `"target=value"`)
};

/// `vshCmdOptFlags`.
enum opt_flag : unsigned {
  opt_required = 1 << 0,   ///< VSH_OFLAG_REQ
  opt_named_only = 1 << 1, ///< VSH_OFLAG_REQ_OPT: only as `--name value`
  opt_empty_ok = 1 << 2,   ///< VSH_OFLAG_EMPTY_OK
};

struct option_def {
  std::string_view name;
  opt_type type = opt_type::boolean;
  unsigned flags = 0;
  std::string_view help;
};

/// Command flags (`VSH_CMD_FLAG_*`).
enum command_flag : unsigned {
  cmd_no_connect = 1 << 0, ///< runs without a hypervisor connection
  cmd_alias = 1 << 1,      ///< another name of `alias_of`
  cmd_hidden = 1 << 2,     ///< VSH_CMD_FLAG_HIDDEN: not listed by help or completion
};

using command_handler = bool (*)(shell&, const parsed_command&);

struct command_def {
  std::string_view name;
  std::string_view help;
  std::string_view desc;
  std::vector<option_def> opts;
  command_handler handler = nullptr;
  unsigned flags = 0;
  std::string_view alias_of = {};
};

struct command_group {
  std::string_view name;
  std::string_view keyword;
  std::vector<command_def> commands;
};

/// All commands the shell knows, grouped as `virsh help` shows them.
class command_table {
public:
  explicit command_table(std::vector<command_group> groups) : groups_(std::move(groups)) {}

  const std::vector<command_group>& groups() const { return groups_; }

  /// The command called `name` (aliases resolved by the parser), or nullptr.
  const command_def* find(std::string_view name) const;

  /// The group whose name or keyword is `name`, or nullptr.
  const command_group* find_group(std::string_view name) const;

private:
  std::vector<command_group> groups_;
};

/// One option given on the command line.
struct parsed_option {
  const option_def* def = nullptr;
  std::string data;
};

/// One command ready to run.
struct parsed_command {
  const command_def* def = nullptr;
  std::vector<parsed_option> opts;

  /// True if option `name` was given (any type).
  bool has(std::string_view name) const;

  /// The option `name` if given.
  const parsed_option* find(std::string_view name) const;

  /// Every value of the argv option, in order.
  std::vector<std::string> argv() const;
};

/// Parses every command from `tokens`. On a syntax error prints virsh's
/// message and returns nullopt: none of the commands runs.
std::optional<std::vector<parsed_command>> parse_commands(const command_table& table,
                                                          token_source& tokens, console& out);

// -- option access (`vshCommandOpt*`) ----------------------------------------------------
//
// Each returns 1 when the option is present and valid, 0 when absent, and -1
// (after printing virsh's message) when present but invalid.

/// `vshCommandOptStringReq`: an empty value is an error unless `opt_empty_ok`.
int opt_string_req(console& out, const parsed_command& cmd, std::string_view name,
                   std::optional<std::string>& value);

/// `vshCommandOptStringQuiet`: like the above without a message.
int opt_string_quiet(const parsed_command& cmd, std::string_view name,
                     std::optional<std::string>& value);

int opt_int(console& out, const parsed_command& cmd, std::string_view name, int& value);
int opt_uint(console& out, const parsed_command& cmd, std::string_view name, unsigned& value,
             bool wrap = false);
int opt_ulonglong(console& out, const parsed_command& cmd, std::string_view name,
                  unsigned long long& value, bool wrap = false);

/// `vshCommandOptScaledInt`: a number with an optional unit suffix; `scale`
/// applies without a suffix, the result may not exceed `max`.
int opt_scaled(console& out, const parsed_command& cmd, std::string_view name,
               unsigned long long& value, unsigned long long scale, unsigned long long max);

/// `vshCommandOptTimeoutToMs`: seconds in, milliseconds out.
int opt_timeout_ms(console& out, const parsed_command& cmd, int& timeout_ms);

/// The bits of the options given in `cmd`, for virsh's chains of
/// `if (option) flags |= BIT`.
uint32_t option_bits(const parsed_command& cmd,
                     std::initializer_list<std::pair<std::string_view, uint32_t>> bits);

/// `vshStringToArray`: splits a list on ',' where ",," stands for a literal
/// comma.
std::vector<std::string> string_to_array(const std::string& s);

/// Reports "Options --a and --b are mutually exclusive" when both are set.
bool exclusive(console& out, const parsed_command& cmd, std::string_view a, std::string_view b);

/// Same for two already-evaluated conditions.
bool exclusive(console& out, std::string_view a, bool has_a, std::string_view b, bool has_b);

} // namespace virtactor::client::shell
