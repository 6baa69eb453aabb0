#include "client/shell/command.hpp"

#include <cctype>
#include <climits>

#include "client/shell/units.hpp"
#include "client/shell/virsh_commands.hpp"

namespace virtactor::client::shell {

// -- table -----------------------------------------------------------------------------

const command_def* command_table::find(std::string_view name) const {
  for (const auto& g : groups_)
    for (const auto& c : g.commands)
      if (c.name == name)
        return &c;
  return nullptr;
}

const command_group* command_table::find_group(std::string_view name) const {
  for (const auto& g : groups_)
    if (g.name == name || g.keyword == name)
      return &g;
  return nullptr;
}

// -- parsed command --------------------------------------------------------------------

const parsed_option* parsed_command::find(std::string_view name) const {
  for (const auto& o : opts)
    if (o.def->name == name)
      return &o;
  return nullptr;
}

bool parsed_command::has(std::string_view name) const {
  return find(name) != nullptr;
}

std::vector<std::string> parsed_command::argv() const {
  std::vector<std::string> out;
  for (const auto& o : opts)
    if (o.def->type == opt_type::argv)
      out.push_back(o.data);
  return out;
}

// -- parser ----------------------------------------------------------------------------

namespace {

const option_def help_option{"help", opt_type::boolean, 0, "print help for this function"};

/// Per-command parser state: which options may still take positional data,
/// which are required, which were seen (virsh keeps three bitmaps).
struct opt_state {
  std::vector<bool> need_arg;
  std::vector<bool> required;
  std::vector<bool> seen;

  explicit opt_state(const command_def& cmd)
      : need_arg(cmd.opts.size()), required(cmd.opts.size()), seen(cmd.opts.size()) {
    for (size_t i = 0; i < cmd.opts.size(); ++i) {
      const auto& o = cmd.opts[i];
      if (o.type == opt_type::boolean || o.type == opt_type::alias)
        continue;
      if (!(o.flags & opt_named_only))
        need_arg[i] = true;
      if (o.flags & opt_required)
        required[i] = true;
    }
  }
};

/// `vshCmddefGetOption`: the definition of `--name`, following aliases.
/// `optstr` carries an `=value` given inline or implied by an alias.
const option_def* get_option(console& out, const command_def& cmd, std::string name, opt_state& st,
                             size_t& index, std::optional<std::string>& optstr) {
  if (name == help_option.name)
    return &help_option;
  for (size_t i = 0; i < cmd.opts.size(); ++i) {
    const auto& o = cmd.opts[i];
    if (o.name != name)
      continue;
    if (o.type == opt_type::alias) {
      std::string target{o.help};
      if (auto eq = target.find('='); eq != std::string::npos) {
        if (optstr) {
          out.error(format("invalid '=' after option --%.*s", static_cast<int>(o.name.size()),
                           o.name.data()));
          return nullptr;
        }
        optstr = target.substr(eq + 1);
        target.resize(eq);
      }
      name = target;
      continue;
    }
    if (st.seen[i] && o.type != opt_type::argv) {
      out.error(format("option --%s already seen", name.c_str()));
      return nullptr;
    }
    st.seen[i] = true;
    index = i;
    return &o;
  }
  if (cmd.name != "help")
    out.error(format("command '%.*s' doesn't support option --%s",
                     static_cast<int>(cmd.name.size()), cmd.name.data(), name.c_str()));
  return nullptr;
}

/// `vshCmddefGetData`: the first option still taking positional data.
const option_def* get_data(const command_def& cmd, opt_state& st) {
  for (size_t i = 0; i < cmd.opts.size(); ++i) {
    if (!st.need_arg[i])
      continue;
    const auto& o = cmd.opts[i];
    if (o.type != opt_type::argv)
      st.need_arg[i] = false;
    st.seen[i] = true;
    return &o;
  }
  return nullptr;
}

/// `vshCommandCheckOpts`: one message per missing required option.
bool check_required(console& out, const command_def& cmd, const opt_state& st) {
  bool ok = true;
  for (size_t i = 0; i < cmd.opts.size(); ++i) {
    if (!st.required[i] || st.seen[i])
      continue;
    const auto& o = cmd.opts[i];
    const char* fmt = o.type == opt_type::data || o.type == opt_type::argv
                          ? "command '%.*s' requires <%.*s> option"
                          : "command '%.*s' requires --%.*s option";
    out.error(format(fmt, static_cast<int>(cmd.name.size()), cmd.name.data(),
                     static_cast<int>(o.name.size()), o.name.data()));
    ok = false;
  }
  return ok;
}

bool is_long_option(const std::string& s) {
  return s.size() > 2 && s[0] == '-' && s[1] == '-' &&
         std::isalnum(static_cast<unsigned char>(s[2]));
}

} // namespace

std::optional<std::vector<parsed_command>> parse_commands(const command_table& table,
                                                          token_source& tokens, console& out) {
  std::vector<parsed_command> result;
  for (;;) {
    const command_def* cmd = nullptr;
    std::optional<opt_state> st;
    parsed_command pc;
    bool data_only = false;
    token tk;
    for (;;) {
      tk = tokens.next(out);
      if (tk.kind == token_kind::error)
        return std::nullopt;
      if (tk.kind != token_kind::arg)
        break;
      const option_def* opt = nullptr;
      std::string data;
      if (cmd == nullptr) {
        if (!tk.text.empty() && tk.text[0] == '#') {
          // A comment word: drop the rest of this command.
          do
            tk = tokens.next(out, false);
          while (tk.kind == token_kind::arg);
          break;
        }
        cmd = table.find(tk.text);
        if (cmd == nullptr) {
          if (is_virsh_command(tk.text))
            out.error(format("command '%s' is not supported by virtactor yet", tk.text.c_str()));
          else
            out.error(format("unknown command: '%s'", tk.text.c_str()));
          return std::nullopt;
        }
        if ((cmd->flags & cmd_alias) && (cmd = table.find(cmd->alias_of)) == nullptr)
          return std::nullopt;
        st.emplace(*cmd);
        continue;
      }
      if (!data_only && is_long_option(tk.text)) {
        std::string name = tk.text.substr(2);
        std::optional<std::string> optstr;
        if (auto eq = name.find('='); eq != std::string::npos) {
          optstr = name.substr(eq + 1);
          name.resize(eq);
        }
        size_t index = 0;
        opt = get_option(out, *cmd, name, *st, index, optstr);
        if (opt == nullptr) {
          if (cmd->name == "help")
            continue;
          return std::nullopt;
        }
        if (opt->type != opt_type::boolean) {
          if (optstr) {
            data = std::move(*optstr);
          } else {
            tk = tokens.next(out);
            if (tk.kind == token_kind::error)
              return std::nullopt;
            if (tk.kind != token_kind::arg) {
              out.error(format("expected syntax: --%.*s <%s>", static_cast<int>(opt->name.size()),
                               opt->name.data(),
                               opt->type == opt_type::integer ? "number" : "string"));
              return std::nullopt;
            }
            data = std::move(tk.text);
          }
          if (opt->type != opt_type::argv && opt != &help_option)
            st->need_arg[index] = false;
        } else if (optstr) {
          out.error(format("invalid '=' after option --%.*s", static_cast<int>(opt->name.size()),
                           opt->name.data()));
          return std::nullopt;
        }
      } else if (!data_only && tk.text == "--") {
        data_only = true;
        continue;
      } else {
        opt = get_data(*cmd, *st);
        if (opt == nullptr && cmd->name != "help") {
          out.error(format("unexpected data '%s'", tk.text.c_str()));
          return std::nullopt;
        }
        data = std::move(tk.text);
      }
      if (opt != nullptr)
        pc.opts.push_back(parsed_option{opt, std::move(data)});
    }

    if (cmd != nullptr) {
      pc.def = cmd;
      bool wants_help = false;
      for (const auto& o : pc.opts)
        if (o.def->name == "help")
          wants_help = true;
      if (wants_help) {
        // `cmd --help` is `help cmd`.
        const command_def* help = table.find("help");
        if (help == nullptr || help->opts.empty())
          return std::nullopt;
        pc.opts.clear();
        pc.opts.push_back(parsed_option{&help->opts.front(), std::string{cmd->name}});
        pc.def = help;
      } else if (!check_required(out, *cmd, *st)) {
        return std::nullopt;
      }
      result.push_back(std::move(pc));
    }
    if (tk.kind == token_kind::end)
      break;
  }
  return result;
}

uint32_t option_bits(const parsed_command& cmd,
                     std::initializer_list<std::pair<std::string_view, uint32_t>> bits) {
  uint32_t flags = 0;
  for (const auto& [name, bit] : bits)
    if (cmd.has(name))
      flags |= bit;
  return flags;
}

std::vector<std::string> string_to_array(const std::string& s) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (;;) {
    auto comma = s.find(',', start);
    pieces.push_back(
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  std::vector<std::string> out;
  if (s.empty())
    return out;
  out.push_back(pieces[0]);
  bool concat = false;
  for (size_t i = 1; i < pieces.size(); ++i) {
    if (concat) {
      out.back() += "," + pieces[i];
      concat = false;
      continue;
    }
    if (pieces[i].empty())
      concat = true;
    else
      out.push_back(pieces[i]);
  }
  if (concat)
    out.emplace_back();
  return out;
}

// -- option access -------------------------------------------------------------------------

namespace {

/// `vshCommandOpt`: 1 found, 0 absent and optional, -1 absent and required.
int lookup(const parsed_command& cmd, std::string_view name, const parsed_option*& opt) {
  opt = cmd.find(name);
  if (opt != nullptr)
    return 1;
  for (const auto& d : cmd.def->opts)
    if (d.name == name && (d.flags & opt_required))
      return -1;
  return 0;
}

void malformed(console& out, const std::string& data, std::string_view name) {
  out.error(format("Numeric value '%s' for <%.*s> option is malformed or out of range",
                   data.c_str(), static_cast<int>(name.size()), name.data()));
}

} // namespace

int opt_string_req(console& out, const parsed_command& cmd, std::string_view name,
                   std::optional<std::string>& value) {
  value.reset();
  const parsed_option* opt = nullptr;
  int ret = lookup(cmd, name, opt);
  if (ret == 0)
    return 0;
  const char* problem = nullptr;
  if (ret < 0)
    problem = "Mandatory option not present";
  else if (opt->data.empty() && !(opt->def->flags & opt_empty_ok))
    problem = "Option argument is empty";
  if (problem != nullptr) {
    out.error(format("Failed to get option '%.*s': %s", static_cast<int>(name.size()), name.data(),
                     problem));
    return -1;
  }
  value = opt->data;
  return 1;
}

int opt_string_quiet(const parsed_command& cmd, std::string_view name,
                     std::optional<std::string>& value) {
  const parsed_option* opt = nullptr;
  int ret = lookup(cmd, name, opt);
  if (ret <= 0)
    return ret;
  if (opt->data.empty() && !(opt->def->flags & opt_empty_ok))
    return -1;
  value = opt->data;
  return 1;
}

namespace {

/// The `vshCommandOpt<number>` pattern: look up, parse with `parse`,
/// report a malformed value.
template <class Parse>
int opt_number(console& out, const parsed_command& cmd, std::string_view name, Parse parse) {
  const parsed_option* opt = nullptr;
  int ret = lookup(cmd, name, opt);
  if (ret <= 0)
    return ret;
  if (!parse(opt->data)) {
    malformed(out, opt->data, name);
    return -1;
  }
  return 1;
}

} // namespace

int opt_int(console& out, const parsed_command& cmd, std::string_view name, int& value) {
  return opt_number(out, cmd, name, [&](const std::string& s) { return parse_int(s, value); });
}

int opt_uint(console& out, const parsed_command& cmd, std::string_view name, unsigned& value,
             bool wrap) {
  return opt_number(out, cmd, name,
                    [&](const std::string& s) { return parse_uint(s, value, wrap); });
}

int opt_ulonglong(console& out, const parsed_command& cmd, std::string_view name,
                  unsigned long long& value, bool wrap) {
  return opt_number(out, cmd, name,
                    [&](const std::string& s) { return parse_ulonglong(s, value, wrap); });
}

int opt_scaled(console& out, const parsed_command& cmd, std::string_view name,
               unsigned long long& value, unsigned long long scale, unsigned long long max) {
  const parsed_option* opt = nullptr;
  int ret = lookup(cmd, name, opt);
  if (ret <= 0)
    return ret;
  std::string rest;
  bool ok = parse_ulonglong_prefix(opt->data, value, rest);
  if (ok) {
    if (auto err = scale_integer(value, rest, scale, max)) {
      out.last_error = std::move(*err);
      ok = false;
    }
  }
  if (!ok) {
    out.error(format("Scaled numeric value '%s' for <%.*s> option is malformed or out of range",
                     opt->data.c_str(), static_cast<int>(name.size()), name.data()));
    return -1;
  }
  return 1;
}

int opt_timeout_ms(console& out, const parsed_command& cmd, int& timeout_ms) {
  unsigned seconds = 0;
  int ret = opt_uint(out, cmd, "timeout", seconds);
  if (ret <= 0)
    return ret;
  if (seconds == 0 || seconds > INT_MAX / 1000) {
    out.error(
        format("Numeric value '%u' for <timeout> option is malformed or out of range", seconds));
    return -1;
  }
  timeout_ms = static_cast<int>(seconds) * 1000;
  return ret;
}

bool exclusive(console& out, std::string_view a, bool has_a, std::string_view b, bool has_b) {
  if (has_a && has_b) {
    out.error(format("Options --%.*s and --%.*s are mutually exclusive", static_cast<int>(a.size()),
                     a.data(), static_cast<int>(b.size()), b.data()));
    return false;
  }
  return true;
}

bool exclusive(console& out, const parsed_command& cmd, std::string_view a, std::string_view b) {
  return exclusive(out, a, cmd.has(a), b, cmd.has(b));
}

} // namespace virtactor::client::shell
