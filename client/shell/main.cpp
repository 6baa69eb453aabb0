/// `virtactor`: the virsh-compatible shell. Global options as virsh reads them
/// (getopt_long, the same letters and messages), then one command string,
/// an argv command, or interactive mode.
#include <cerrno>
#include <climits>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <iostream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "client/shell/commands.hpp"
#include "client/shell/completion.hpp"
#include "client/shell/lexer.hpp"
#include "client/shell/line_editor.hpp"
#include "client/shell/shell.hpp"
#include "client/shell/units.hpp"

using namespace virtactor::client::shell;

namespace {

/// The libvirt release whose virsh this shell follows.
constexpr const char* libvirt_version = "9.0.0";

void print_usage(console& out) {
  std::string text = "\n"
                     "virtactor [options]... [<command_string>]\n"
                     "virtactor [options]... <command> [args...]\n"
                     "\n"
                     "  options:\n"
                     "    -c | --connect=URI      hypervisor connection URI\n"
                     "    -d | --debug=NUM        debug level [0-4]\n"
                     "    -e | --escape <char>    set escape sequence for console\n"
                     "    -h | --help             this help\n"
                     "    -k | --keepalive-interval=NUM\n"
                     "                            keepalive interval in seconds, 0 for disable\n"
                     "    -K | --keepalive-count=NUM\n"
                     "                            number of possible missed keepalive messages\n"
                     "    -l | --log=FILE         output logging to file\n"
                     "    -q | --quiet            quiet mode\n"
                     "    -r | --readonly         connect readonly\n"
                     "    -t | --timing           print timing information\n"
                     "    -v                      short version\n"
                     "    -V                      long version\n"
                     "         --version[=TYPE]   version, TYPE is short or long (default short)\n"
                     "  commands (non interactive mode):\n"
                     "\n";
  for (const auto& g : all_commands().groups()) {
    text += format(" %s (help keyword '%s')\n", std::string{g.name}.c_str(),
                   std::string{g.keyword}.c_str());
    for (const auto& c : g.commands) {
      if (c.flags & (cmd_alias | cmd_hidden))
        continue;
      text += format("    %-30s %s\n", std::string{c.name}.c_str(), std::string{c.help}.c_str());
    }
    text += "\n";
  }
  text += "\n  (specify help <group> for details about the commands in the group)\n";
  text += "\n  (specify help <command> for details about the command)\n\n";
  out.print(text);
}

void print_long_version(console& out) {
  out.print(format("virtactor command line tool, compatible with virsh of libvirt %s\n"
                   "Connects through the virtactor client API to its in-process drivers\n"
                   "(test:///...) or to a libvirt-protocol daemon (remote transports).\n",
                   libvirt_version));
}

bool allowed_escape_char(char c) {
  // virsh accepts a control character spelled as '^' and a letter or one of @[\]^_.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '@' || c == '[' || c == '\\' ||
         c == ']' || c == '^' || c == '_';
}

/// Interactive mode: one command line per input line until quit or EOF, read
/// with readline (history, line editing, completion) as virsh reads them.
bool interactive_loop(shell& sh, console& out) {
  std::string error;
  line_editor editor{"virtactor",
                     [&sh](std::string_view line, std::string_view text, bool quoted) {
                       auto names = connection_lister(sh);
                       return complete(sh.commands(), names, line, text, quoted);
                     },
                     error};
  if (!error.empty()) {
    out.error(error);
    return false;
  }
  if (!out.quiet())
    out.print("Welcome to virtactor, the virtualization interactive terminal.\n\n"
              "Type:  'help' for help with commands\n"
              "       'quit' to quit\n\n");
  while (sh.interactive()) {
    auto line = editor.read(sh.config().readonly ? "virtactor > " : "virtactor # ");
    if (!line)
      break;
    if (!line->empty()) {
      editor.remember(*line);
      (void)sh.run_string(*line);
    }
  }
  out.print("\n");
  return true;
}

} // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "");
  std::signal(SIGPIPE, SIG_IGN);
  console out;
  settings cfg;

  static const struct option long_options[] = {
      {"connect", required_argument, nullptr, 'c'},
      {"debug", required_argument, nullptr, 'd'},
      {"escape", required_argument, nullptr, 'e'},
      {"help", no_argument, nullptr, 'h'},
      {"keepalive-interval", required_argument, nullptr, 'k'},
      {"keepalive-count", required_argument, nullptr, 'K'},
      {"log", required_argument, nullptr, 'l'},
      {"quiet", no_argument, nullptr, 'q'},
      {"readonly", no_argument, nullptr, 'r'},
      {"timing", no_argument, nullptr, 't'},
      {"version", optional_argument, nullptr, 'v'},
      {nullptr, 0, nullptr, 0},
  };
  int log_fd = -1;
  int longindex = -1;
  opterr = 0;
  int arg = 0;
  while ((arg = getopt_long(argc, argv, "+:c:d:e:hk:K:l:qrtvV", long_options, &longindex)) != -1) {
    switch (arg) {
      case 'c':
        cfg.uri = optarg;
        cfg.uri_given = true;
        break;
      case 'd': {
        int level = 0;
        if (!parse_int(optarg, level)) {
          out.error(
              format("option %s takes a numeric argument", longindex == -1 ? "-d" : "--debug"));
          return EXIT_FAILURE;
        }
        if (level < 0 || level > 4)
          out.error(format("ignoring debug level %d out of range [0-4]", level));
        break;
      }
      case 'e': {
        size_t len = std::strlen(optarg);
        bool ok = (len == 2 && optarg[0] == '^' && allowed_escape_char(optarg[1])) ||
                  (len == 1 && optarg[0] != '^');
        if (!ok) {
          out.error(format("Invalid string '%s' for escape sequence", optarg));
          return EXIT_FAILURE;
        }
        break;
      }
      case 'h':
        print_usage(out);
        return EXIT_SUCCESS;
      case 'k':
      case 'K': {
        const char* name = arg == 'k' ? (longindex == -1 ? "-k" : "--keepalive-interval")
                                      : (longindex == -1 ? "-K" : "--keepalive-count");
        char* end = nullptr;
        errno = 0;
        long v = std::strtol(optarg, &end, 0);
        if (errno != 0 || end == optarg || *end != '\0' || v < INT_MIN || v > INT_MAX) {
          out.error(format("Invalid value for option %s", name));
          return EXIT_FAILURE;
        }
        if (v < 0) {
          out.error(format("option %s requires a positive integer argument", name));
          return EXIT_FAILURE;
        }
        (arg == 'k' ? cfg.keepalive_interval : cfg.keepalive_count) = static_cast<int>(v);
        break;
      }
      case 'l':
        if (log_fd >= 0) {
          out.set_log(-1);
          ::close(log_fd);
        }
        log_fd = ::open(optarg, O_WRONLY | O_APPEND | O_CREAT | O_SYNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
          out.error("failed to open the log file. check the log file path");
          return EXIT_FAILURE;
        }
        out.set_log(log_fd);
        break;
      case 'q':
        out.set_quiet(true);
        break;
      case 'r':
        cfg.readonly = true;
        break;
      case 't':
        cfg.timing = true;
        break;
      case 'v':
        if (optarg == nullptr || std::strcmp(optarg, "long") != 0) {
          out.print(std::string{libvirt_version} + "\n");
          return EXIT_SUCCESS;
        }
        [[fallthrough]];
      case 'V':
        print_long_version(out);
        return EXIT_SUCCESS;
      case ':': {
        const struct option* o = long_options;
        while (o->name != nullptr && o->val != optopt)
          ++o;
        if (o->name != nullptr)
          out.error(format("option '-%c'/'--%s' requires an argument", optopt, o->name));
        else
          out.error(format("option '-%c' requires an argument", optopt));
        return EXIT_FAILURE;
      }
      case '?':
        if (optopt != 0)
          out.error(format("unsupported option '-%c'. See --help.", optopt));
        else
          out.error(format("unsupported option '%s'. See --help.", argv[optind - 1]));
        return EXIT_FAILURE;
      default:
        out.error("unknown option");
        return EXIT_FAILURE;
    }
    longindex = -1;
  }

  const auto& table = all_commands();
  std::optional<std::vector<parsed_command>> cmds;
  bool interactive = argc == optind;
  if (!interactive) {
    // Commands are parsed before connecting, as virsh does.
    if (argc - optind == 1) {
      std::string line = argv[optind];
      if (line.empty())
        return EXIT_FAILURE;
      string_tokens tokens{line};
      cmds = parse_commands(table, tokens, out);
    } else {
      argv_tokens tokens{std::vector<std::string>(argv + optind, argv + argc)};
      cmds = parse_commands(table, tokens, out);
    }
    if (!cmds)
      return EXIT_FAILURE;
  }
  int rc = EXIT_SUCCESS;
  {
    shell sh{table, out, cfg};
    sh.set_interactive(interactive);
    if (!sh.connect_initial())
      rc = EXIT_FAILURE;
    else if (interactive)
      rc = interactive_loop(sh, out) ? EXIT_SUCCESS : EXIT_FAILURE;
    else
      rc = sh.run(*cmds) ? EXIT_SUCCESS : EXIT_FAILURE;
  } // closes the connection
  if (log_fd >= 0)
    ::close(log_fd);
  // The connection is closed and the output flushed; leave without static
  // destructors, which would run while the client runtime's actor threads
  // are still alive (the process-wide actor system lives until exit).
  std::fflush(nullptr);
  std::_Exit(rc);
}
