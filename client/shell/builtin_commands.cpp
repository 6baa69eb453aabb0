/// The commands about the shell itself: help, echo, cd, pwd, quit, exit,
/// connect.
#include "client/shell/commands.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include "client/shell/completion.hpp"
#include "client/shell/help.hpp"
#include "client/shell/shell.hpp"
#include "client/shell/virsh_commands.hpp"
#include "drivers/xml/xml_util.hpp"

namespace virtactor::client::shell {

namespace {

bool cmd_help(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> name;
  if (opt_string_quiet(cmd, "command", name) <= 0) {
    print_all_help(sh.out(), sh.commands());
    return true;
  }
  if (const auto* def = sh.commands().find(*name)) {
    if ((def->flags & cmd_alias) != 0)
      def = sh.commands().find(def->alias_of);
    print_command_help(sh.out(), *def);
    return true;
  }
  if (const auto* grp = sh.commands().find_group(*name)) {
    print_group_help(sh.out(), *grp);
    return true;
  }
  if (is_virsh_command(*name))
    sh.out().error(format("command '%s' is not supported by virtactor yet", name->c_str()));
  else
    sh.out().error(format("command or command group '%s' doesn't exist", name->c_str()));
  return false;
}

bool cmd_cd(shell& sh, const parsed_command& cmd) {
  if (!sh.interactive()) {
    sh.out().error("cd: command valid only in interactive mode");
    return false;
  }
  std::optional<std::string> dir;
  if (opt_string_quiet(cmd, "dir", dir) <= 0) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
      if (const auto* pw = ::getpwuid(::getuid()))
        home = pw->pw_dir;
    }
    dir = home != nullptr ? home : "/";
  }
  if (::chdir(dir->c_str()) == -1) {
    sh.out().error(format("cd: %s: %s", std::strerror(errno), dir->c_str()));
    return false;
  }
  return true;
}

bool cmd_pwd(shell& sh, const parsed_command&) {
  std::string cwd;
  if (char* p = ::getcwd(nullptr, 0)) {
    cwd = p;
    std::free(p);
  }
  sh.out().print(cwd + "\n");
  return true;
}

bool cmd_quit(shell& sh, const parsed_command&) {
  sh.set_interactive(false);
  return true;
}

bool cmd_connect(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> name;
  if (opt_string_req(sh.out(), cmd, "name", name) < 0)
    return false;
  return sh.reconnect(name.value_or(""), cmd.has("readonly"), true);
}

/// `virBufferEscapeShell`: single-quotes words with shell metacharacters.
std::string escape_shell(const std::string& s) {
  if (s.empty())
    return "''";
  if (s.find_first_of("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\'";
    out.push_back(c);
  }
  out += "'";
  return out;
}

bool cmd_echo(shell& sh, const parsed_command& cmd) {
  bool shell_quote = cmd.has("shell");
  bool xml = cmd.has("xml");
  bool err = cmd.has("err");
  bool split = cmd.has("split");
  if (!exclusive(sh.out(), "shell", shell_quote, "xml", xml) ||
      !exclusive(sh.out(), "shell", shell_quote, "split", split) ||
      !exclusive(sh.out(), "xml", xml, "split", split))
    return false;
  std::optional<std::string> text;
  for (const auto& arg : cmd.argv()) {
    if (!text)
      text.emplace();
    if (xml) {
      *text += drivers::xml::escape(arg);
    } else if (shell_quote) {
      *text += escape_shell(arg);
    } else if (split) {
      for (const auto& piece : string_to_array(arg))
        *text += piece + "\n";
    } else {
      *text += arg;
    }
    *text += ' ';
  }
  if (!text)
    return true;
  if (!text->empty() && text->back() == ' ')
    text->pop_back();
  if (err)
    sh.out().error(*text);
  else
    sh.out().print(*text);
  return true;
}

/// virsh's `complete`: the words given form a command line being typed, the
/// last one the word under the cursor; prints what Tab would offer, one per
/// line. Fails when nothing completes it.
bool cmd_complete(shell& sh, const parsed_command& cmd) {
  auto words = cmd.argv();
  if (words.empty())
    return false;
  // As virsh: nothing may ask for input (credentials) meanwhile.
  if (!sh.interactive())
    if (int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0) {
      ::dup2(fd, STDIN_FILENO);
      ::close(fd);
    }
  if (sh.connection() == nullptr)
    return false;
  std::string line;
  for (const auto& w : words)
    line += (line.empty() ? "" : " ") + w;
  auto names = connection_lister(sh);
  auto candidates = complete(sh.commands(), names, line, words.back());
  if (!candidates || candidates->empty())
    return false;
  auto matches = completion_matches(*candidates, words.back());
  for (size_t i = matches.size() > 1 ? 1 : 0; i < matches.size(); ++i)
    sh.out().print(matches[i] + "\n");
  return true;
}

} // namespace

command_group builtin_commands() {
  return {
      "Virsh itself",
      "virsh",
      {
          {"cd",
           "change the current directory",
           "Change the current directory.",
           {{"dir", opt_type::string, 0, "directory to switch to (default: home or else root)"}},
           cmd_cd,
           cmd_no_connect},
          {"echo",
           "echo arguments. Used for internal testing.",
           "Echo back arguments, possibly with quoting. Used for internal testing.",
           {{"shell", opt_type::boolean, 0, "escape for shell use"},
            {"xml", opt_type::boolean, 0, "escape for XML use"},
            {"split", opt_type::boolean, 0,
             "split each argument on ','; ',,' is an escape sequence"},
            {"err", opt_type::boolean, 0, "output to stderr"},
            {"str", opt_type::alias, 0, "string"},
            {"hi", opt_type::alias, 0, "string=hello"},
            {"string", opt_type::argv, 0, "arguments to echo"}},
           cmd_echo,
           cmd_no_connect},
          {"exit", "quit this interactive terminal", "", {}, cmd_quit, cmd_no_connect},
          {"help",
           "print help",
           "Prints global help, command specific help, or help for a\n    group of related "
           "commands",
           {{"command", opt_type::string, 0,
             "Prints global help, command specific help, or help for a group of related commands"}},
           cmd_help,
           cmd_no_connect},
          {"pwd",
           "print the current directory",
           "Print the current directory.",
           {},
           cmd_pwd,
           cmd_no_connect},
          {"quit", "quit this interactive terminal", "", {}, cmd_quit, cmd_no_connect},
          {"connect",
           "(re)connect to hypervisor",
           "Connect to local hypervisor. This is built-in command after shell start up.",
           {{"name", opt_type::string, opt_empty_ok, "hypervisor connection URI"},
            {"readonly", opt_type::boolean, 0, "read-only connection"}},
           cmd_connect,
           cmd_no_connect},
          {"complete",
           "internal command for autocompletion",
           "internal use only",
           {{"string", opt_type::argv, opt_empty_ok, "partial string to autocomplete"}},
           cmd_complete,
           cmd_no_connect | cmd_hidden},
      },
  };
}

} // namespace virtactor::client::shell
