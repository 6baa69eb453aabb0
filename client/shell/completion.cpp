#include "client/shell/completion.hpp"

#include <algorithm>

#include "client/shell/commands.hpp"
#include "client/shell/lexer.hpp"
#include "client/shell/shell.hpp"

namespace virtactor::client::shell {

namespace {

// `virConnectListAllDomains` flags.
constexpr uint32_t dom_active = 1u << 0;
constexpr uint32_t dom_inactive = 1u << 1;
constexpr uint32_t dom_persistent = 1u << 2;
constexpr uint32_t dom_running = 1u << 4;
constexpr uint32_t dom_paused = 1u << 5;
// `virConnectListAllNetworks` and `virConnectListAllStoragePools` flags.
constexpr uint32_t obj_inactive = 1u << 0;
constexpr uint32_t obj_active = 1u << 1;
constexpr uint32_t obj_persistent = 1u << 2;

/// What fills in the value of one option.
enum class completer : uint8_t {
  none,
  domain,
  domain_uuid,
  network,
  network_uuid,
  pool,
  volume,
  command,
  event_name,
  shutdown_mode,
};

struct completer_rule {
  completer kind = completer::none;
  uint32_t flags = 0;
};

/// Which completer virsh 9.0 attaches to option `opt` of command `cmd`, and
/// with which list flags (the states a command accepts: `start` offers
/// inactive domains, `resume` paused ones).
completer_rule rule_for(std::string_view cmd, std::string_view opt) {
  auto in = [&](std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), cmd) != names.end();
  };
  if (opt == "domain") {
    if (cmd == "domname")
      return {completer::domain_uuid, 0};
    if (cmd == "start")
      return {completer::domain, dom_inactive};
    if (in({"destroy", "domid", "reboot", "reset", "shutdown"}))
      return {completer::domain, dom_active};
    if (cmd == "resume")
      return {completer::domain, dom_paused};
    if (cmd == "suspend")
      return {completer::domain, dom_running};
    if (in({"autostart", "undefine"}))
      return {completer::domain, dom_persistent};
    return {completer::domain, 0};
  }
  if (opt == "network") {
    if (cmd == "net-name")
      return {completer::network_uuid, 0};
    if (cmd == "net-start")
      return {completer::network, obj_inactive};
    if (cmd == "net-destroy")
      return {completer::network, obj_active};
    if (in({"net-autostart", "net-undefine"}))
      return {completer::network, obj_persistent};
    return {completer::network, 0};
  }
  if (opt == "pool") {
    if (cmd == "pool-start")
      return {completer::pool, obj_inactive};
    if (in({"pool-destroy", "pool-refresh"}) || cmd.substr(0, 4) == "vol-")
      return {completer::pool, obj_active};
    if (in({"pool-autostart", "pool-undefine"}))
      return {completer::pool, obj_persistent};
    return {completer::pool, 0};
  }
  if (opt == "vol")
    return {completer::volume, 0};
  if (cmd == "help" && opt == "command")
    return {completer::command, 0};
  if (cmd == "event" && opt == "event")
    return {completer::event_name, 0};
  if ((cmd == "shutdown" || cmd == "reboot") && opt == "mode")
    return {completer::shutdown_mode, 0};
  return {};
}

/// readline's word-break escaping as virsh applies it to candidates.
std::string escape_blanks(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ')
      out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

/// Commands completion offers: neither aliases nor hidden ones.
std::vector<std::string> command_names(const command_table& table) {
  std::vector<std::string> out;
  for (const auto& g : table.groups())
    for (const auto& c : g.commands)
      if (!(c.flags & (cmd_alias | cmd_hidden)))
        out.emplace_back(c.name);
  return out;
}

/// What the words of a command typed so far leave open.
struct partial_command {
  const command_def* def = nullptr;
  std::vector<bool> given;
  /// The option whose value the current word is (`--opt <TAB>`), if any.
  const option_def* value_of = nullptr;
  /// Everything after `--` is data.
  bool data_only = false;
  /// `--pool NAME` as given, for the volume completer.
  std::string pool;
};

bool is_long_option(std::string_view s) {
  return s.size() > 2 && s[0] == '-' && s[1] == '-' &&
         std::isalnum(static_cast<unsigned char>(s[2]));
}

/// The option called `name` (aliases followed), or nullptr.
const option_def* find_option(const command_def& cmd, std::string name, size_t& index) {
  for (int hops = 0; hops < 4; ++hops) {
    bool alias = false;
    for (size_t i = 0; i < cmd.opts.size(); ++i) {
      const auto& o = cmd.opts[i];
      if (o.name != name)
        continue;
      if (o.type == opt_type::alias) {
        name = std::string{o.help.substr(0, o.help.find('='))};
        alias = true;
        break;
      }
      index = i;
      return &o;
    }
    if (!alias)
      return nullptr;
  }
  return nullptr;
}

/// The next option that positional data fills (virsh's `vshCmddefGetData`).
const option_def* next_positional(const partial_command& pc, size_t& index) {
  for (size_t i = 0; i < pc.def->opts.size(); ++i) {
    const auto& o = pc.def->opts[i];
    if (o.type == opt_type::boolean || o.type == opt_type::alias || (o.flags & opt_named_only))
      continue;
    if (pc.given[i] && o.type != opt_type::argv)
      continue;
    index = i;
    return &o;
  }
  return nullptr;
}

/// Walks the words after the command name as the parser would.
partial_command walk(const command_def& def, const std::vector<std::string>& args) {
  partial_command pc;
  pc.def = &def;
  pc.given.assign(def.opts.size(), false);
  for (size_t w = 0; w < args.size(); ++w) {
    const auto& word = args[w];
    size_t index = 0;
    const option_def* opt = nullptr;
    std::optional<std::string> value;
    if (!pc.data_only && word == "--") {
      pc.data_only = true;
      continue;
    }
    if (!pc.data_only && is_long_option(word)) {
      std::string name = word.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      opt = find_option(def, name, index);
      if (opt == nullptr)
        continue;
      pc.given[index] = true;
      if (opt->type != opt_type::boolean && !value) {
        if (w + 1 == args.size()) {
          pc.value_of = opt; // the word being completed is its value
          return pc;
        }
        value = args[++w];
      }
    } else {
      opt = next_positional(pc, index);
      if (opt == nullptr)
        continue;
      pc.given[index] = true;
      value = word;
    }
    if (opt->name == "pool" && value)
      pc.pool = *value;
  }
  return pc;
}

/// The options still open: each once, an argv option always; no aliases.
std::vector<std::string> open_options(const partial_command& pc) {
  std::vector<std::string> out;
  for (size_t i = 0; i < pc.def->opts.size(); ++i) {
    const auto& o = pc.def->opts[i];
    if (o.type == opt_type::alias || (pc.given[i] && o.type != opt_type::argv))
      continue;
    out.push_back("--" + std::string{o.name});
  }
  return out;
}

std::optional<std::vector<std::string>> values(const command_table& table, const name_lister& names,
                                               const partial_command& pc, const option_def& opt) {
  auto rule = rule_for(pc.def->name, opt.name);
  auto call = [](const auto& f, auto... args) {
    return f ? f(args...) : std::vector<std::string>{};
  };
  switch (rule.kind) {
    case completer::none:
      return std::nullopt;
    case completer::domain:
    case completer::domain_uuid:
      return call(names.domains, rule.flags, rule.kind == completer::domain_uuid);
    case completer::network:
    case completer::network_uuid:
      return call(names.networks, rule.flags, rule.kind == completer::network_uuid);
    case completer::pool:
      return call(names.pools, rule.flags);
    case completer::volume:
      if (pc.pool.empty())
        return std::vector<std::string>{};
      return call(names.volumes, pc.pool);
    case completer::command:
      return command_names(table);
    case completer::event_name:
      return domain_event_names();
    case completer::shutdown_mode:
      return std::vector<std::string>{"acpi", "agent", "initctl", "signal", "paravirt"};
  }
  return std::nullopt;
}

} // namespace

std::optional<std::vector<std::string>> complete(const command_table& table,
                                                 const name_lister& names,
                                                 std::string_view line, std::string_view text,
                                                 bool quoted) {
  // The words before the one being completed, of the last command on the line.
  std::string_view before = line;
  if (before.size() >= text.size() && before.substr(before.size() - text.size()) == text)
    before.remove_suffix(text.size());
  if (quoted && !before.empty() && (before.back() == '"' || before.back() == '\''))
    before.remove_suffix(1);
  std::vector<std::string> words;
  {
    console quiet_out{nullptr, nullptr};
    string_tokens tokens{std::string{before}};
    for (;;) {
      auto tk = tokens.next(quiet_out, false);
      if (tk.kind == token_kind::error)
        return std::nullopt;
      if (tk.kind == token_kind::end)
        break;
      if (tk.kind == token_kind::command_end)
        words.clear();
      else
        words.push_back(std::move(tk.text));
    }
  }

  std::optional<std::vector<std::string>> list;
  const command_def* def = words.empty() ? nullptr : table.find(words.front());
  if (def != nullptr && (def->flags & cmd_alias))
    def = table.find(def->alias_of);
  if (def == nullptr) {
    // No command yet (or an unknown one): complete a command name.
    list = command_names(table);
  } else {
    auto pc = walk(*def, {words.begin() + 1, words.end()});
    if (pc.value_of != nullptr) {
      list = values(table, names, pc, *pc.value_of);
    } else if (text.empty() || (!pc.data_only && text.substr(0, 2) == "--")) {
      if (text.find('=') != std::string_view::npos)
        return std::nullopt;
      list = open_options(pc);
    } else {
      size_t index = 0;
      if (const auto* opt = next_positional(pc, index))
        list = values(table, names, pc, *opt);
    }
  }
  if (!list)
    return std::nullopt;
  std::vector<std::string> out;
  for (auto& s : *list) {
    auto candidate = quoted ? s : escape_blanks(s);
    if (candidate.compare(0, text.size(), text) == 0)
      out.push_back(std::move(candidate));
  }
  return out;
}

std::vector<std::string> completion_matches(const std::vector<std::string>& candidates,
                                            std::string_view text) {
  if (candidates.size() <= 1)
    return candidates;
  std::string prefix = candidates.front();
  for (const auto& c : candidates) {
    size_t n = 0;
    while (n < prefix.size() && n < c.size() && prefix[n] == c[n])
      ++n;
    prefix.resize(n);
  }
  if (prefix.size() < text.size())
    prefix = std::string{text};
  std::vector<std::string> out{prefix};
  out.insert(out.end(), candidates.begin(), candidates.end());
  return out;
}

name_lister connection_lister(shell& sh) {
  // Completion asks quietly: a failure leaves nothing to print and no
  // pending error behind.
  auto quietly = [&sh](auto&& f) {
    auto saved = sh.out().last_error;
    auto r = f();
    sh.out().last_error = std::move(saved);
    return r;
  };
  name_lister names;
  names.domains = [&sh, quietly](uint32_t flags, bool uuids) {
    return quietly([&] {
      std::vector<std::string> out;
      if (sh.quiet_connection() == nullptr)
        return out;
      if (auto r = sh.call<protocol::proc::connect_list_all_domains>({1, flags}))
        for (const auto& d : r->domains)
          out.push_back(uuids ? format_uuid(d.uuid) : d.name);
      return out;
    });
  };
  names.networks = [&sh, quietly](uint32_t flags, bool uuids) {
    return quietly([&] {
      std::vector<std::string> out;
      if (sh.quiet_connection() == nullptr)
        return out;
      if (auto r = sh.call<protocol::proc::connect_list_all_networks>({1, flags}))
        for (const auto& n : r->nets)
          out.push_back(uuids ? format_uuid(n.uuid) : n.name);
      return out;
    });
  };
  names.pools = [&sh, quietly](uint32_t flags) {
    return quietly([&] {
      std::vector<std::string> out;
      if (sh.quiet_connection() == nullptr)
        return out;
      if (auto r = sh.call<protocol::proc::connect_list_all_storage_pools>({1, flags}))
        for (const auto& p : r->pools)
          out.push_back(p.name);
      return out;
    });
  };
  names.volumes = [&sh, quietly](const std::string& pool) {
    return quietly([&] {
      std::vector<std::string> out;
      if (sh.quiet_connection() == nullptr)
        return out;
      auto p = sh.call<protocol::proc::storage_pool_lookup_by_name>({pool});
      if (!p)
        return out;
      if (auto r = sh.call<protocol::proc::storage_pool_list_all_volumes>({p->pool, 1, 0}))
        for (const auto& v : r->vols)
          out.push_back(v.name);
      return out;
    });
  };
  return names;
}

} // namespace virtactor::client::shell
