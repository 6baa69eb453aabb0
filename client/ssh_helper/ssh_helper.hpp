/// `virtactor-ssh-helper`: virt-ssh-helper's job on a host that runs
/// virtactord. ssh starts it with a libvirt URI; it connects to the local
/// daemon socket that URI means and carries bytes between that socket and its
/// own stdin/stdout until either side closes.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "client/uri.hpp"
#include "protocol/error.hpp"

namespace virtactor::ssh_helper {

/// The command line, as virt-ssh-helper's GLib option parser reads it.
struct options {
  bool read_only = false;
  bool version = false;
  bool help = false;
  /// Positional arguments; exactly one (the URI) is expected.
  std::vector<std::string> args;
};

/// Parses `-r/--readonly`, `-V/--version`, `-h/-?/--help` (short options may
/// be grouped, `--` ends the options). Returns the text after
/// "option parsing failed: " for an unknown option.
std::variant<options, std::string> parse_options(const std::vector<std::string>& argv);

/// The `--help` text for program `name`.
std::string usage(const std::string& name);

/// The socket to connect to, or the message to print after "<program>: ".
struct socket_choice {
  std::optional<std::string> path;
  std::string error;
};

/// The daemon socket `uri_text` means, as virt-ssh-helper chooses it: the
/// URI must name the unix transport (no host); `socket=` and `mode=` are
/// honoured as newer libvirt's helper does (9.0's ignores them; its client
/// never sends them); otherwise the socket of the daemon (session or
/// system, per-driver or libvirtd) the local remote driver would pick.
socket_choice choose_socket(const std::string& uri_text, bool read_only,
                            const client::local_env& env);

/// Carries bytes between `in`/`out` and `sock` until one side ends. Returns
/// an error text when a read or write failed, nothing at an orderly end.
std::optional<std::string> proxy(int in, int out, int sock);

} // namespace virtactor::ssh_helper
