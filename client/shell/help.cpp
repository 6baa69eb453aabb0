#include "client/shell/help.hpp"

#include <string>

namespace virtactor::client::shell {

namespace {

std::string sv(std::string_view s) {
  return std::string{s};
}

/// "--name" style templates with the option name filled in.
std::string fill(const char* fmt, std::string_view name) {
  return format(fmt, sv(name).c_str());
}

} // namespace

void print_command_help(console& out, const command_def& cmd) {
  std::string text = "  NAME\n";
  text += format("    %s - %s\n", sv(cmd.name).c_str(), sv(cmd.help).c_str());
  text += "\n  SYNOPSIS\n";
  text += "    " + sv(cmd.name);
  // True once an option may be given without its --name.
  bool shortopt = false;
  for (const auto& o : cmd.opts) {
    const bool req = (o.flags & opt_required) != 0;
    const bool positional = (o.flags & opt_named_only) == 0;
    std::string part;
    switch (o.type) {
      case opt_type::boolean:
        part = fill("[--%s]", o.name);
        break;
      case opt_type::integer:
        part = fill(req ? "<%s>" : "[--%s <number>]", o.name);
        shortopt = shortopt || positional;
        break;
      case opt_type::string:
        part = fill("[--%s <string>]", o.name);
        shortopt = shortopt || positional;
        break;
      case opt_type::data:
        part = fill(req ? "<%s>" : "[<%s>]", o.name);
        shortopt = shortopt || positional;
        break;
      case opt_type::argv:
        if (shortopt)
          part = fill(req ? "{[--%s] <string>}..." : "[[--%s] <string>]...", o.name);
        else
          part = fill(req ? "<%s>..." : "[<%s>]...", o.name);
        break;
      case opt_type::alias:
        continue;
    }
    text += " " + part;
  }
  text += "\n";
  if (!cmd.desc.empty()) {
    text += "\n  DESCRIPTION\n";
    text += "    " + sv(cmd.desc) + "\n";
  }
  if (!cmd.opts.empty()) {
    text += "\n  OPTIONS\n";
    for (const auto& o : cmd.opts) {
      const bool req = (o.flags & opt_required) != 0;
      std::string label;
      switch (o.type) {
        case opt_type::boolean:
          label = fill("--%s", o.name);
          break;
        case opt_type::integer:
          label = fill(req ? "[--%s] <number>" : "--%s <number>", o.name);
          break;
        case opt_type::string:
          label = fill("--%s <string>", o.name);
          break;
        case opt_type::data:
          label = fill("[--%s] <string>", o.name);
          break;
        case opt_type::argv:
          label = fill(shortopt ? "[--%s] <string>" : "<%s>", o.name);
          break;
        case opt_type::alias:
          continue;
      }
      text += format("    %-15s  %s\n", label.c_str(), sv(o.help).c_str());
    }
  }
  text += "\n";
  out.print(text);
}

void print_group_help(console& out, const command_group& group) {
  std::string text =
      format(" %s (help keyword '%s'):\n", sv(group.name).c_str(), sv(group.keyword).c_str());
  for (const auto& c : group.commands) {
    if (c.flags & (cmd_alias | cmd_hidden))
      continue;
    text += format("    %-30s %s\n", sv(c.name).c_str(), sv(c.help).c_str());
  }
  out.print(text);
}

void print_all_help(console& out, const command_table& table) {
  out.print("Grouped commands:\n\n");
  for (const auto& g : table.groups()) {
    print_group_help(out, g);
    out.print("\n");
  }
}

} // namespace virtactor::client::shell
