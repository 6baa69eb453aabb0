/// Completion of a partly typed command line as virsh offers it (readline's
/// Tab and the `complete` command): command names, the options a command
/// still takes, and the values of options that name objects, read from the
/// live connection (domains by state, networks, pools, volumes, UUIDs).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/shell/command.hpp"

namespace virtactor::client::shell {

class shell;

/// Object names a completer may ask for; each returns nothing when there is
/// no connection or the call fails (completion never reports errors).
struct name_lister {
  /// Domain names (or UUIDs with `uuids`) matching `virConnectListAllDomains`
  /// flags.
  std::function<std::vector<std::string>(uint32_t flags, bool uuids)> domains;
  /// Network names (or UUIDs) matching `virConnectListAllNetworks` flags.
  std::function<std::vector<std::string>(uint32_t flags, bool uuids)> networks;
  /// Storage pool names matching `virConnectListAllStoragePools` flags.
  std::function<std::vector<std::string>(uint32_t flags)> pools;
  /// Volume names of the pool called `pool`.
  std::function<std::vector<std::string>(const std::string& pool)> volumes;
};

/// A name_lister that asks the shell's connection (connecting on first use,
/// silently).
name_lister connection_lister(shell& sh);

/// The candidates for `text`, the word that ends `line` (the line up to the
/// cursor; `text` is empty after a blank), in virsh's order and filtered by
/// prefix, with blanks backslash-escaped unless `quoted`. Nothing (nullopt)
/// when no completer applies, where readline falls back to file names.
std::optional<std::vector<std::string>> complete(const command_table& table,
                                                 const name_lister& names,
                                                 std::string_view line, std::string_view text,
                                                 bool quoted = false);

/// What readline and `complete` print: with one candidate that one, with
/// several their longest common prefix first (readline's convention).
std::vector<std::string> completion_matches(const std::vector<std::string>& candidates,
                                            std::string_view text);

} // namespace virtactor::client::shell
