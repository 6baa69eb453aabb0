/// The command groups of the `virtactor` shell, in virsh's group order, and
/// the table that holds them all.
#pragma once

#include <algorithm>
#include <string>
#include <strings.h>
#include <vector>

#include "client/shell/command.hpp"
#include "client/shell/console.hpp"

namespace virtactor::client::shell {

command_group domain_commands();  ///< "Domain Management"
command_group monitor_commands(); ///< "Domain Monitoring"
command_group event_commands();   ///< "Domain Events"
command_group host_commands();    ///< "Host and Hypervisor"
command_group network_commands(); ///< "Networking"
command_group pool_commands();    ///< "Storage Pool"
command_group volume_commands();  ///< "Storage Volume"
command_group builtin_commands(); ///< "Virsh itself"

/// Every group above, built once.
const command_table& all_commands();

/// virsh's names of the domain event kinds, indexed by `virDomainEventID`.
std::vector<std::string> domain_event_names();

// Option definitions shared by several commands.

/// `<domain>`: a required positional domain name, id or uuid.
option_def domain_option(std::string_view help = "domain name, id or uuid");

/// `<file>`: a required positional file name.
option_def file_option(std::string_view help);

/// `--name`: a boolean option.
inline option_def bool_opt(std::string_view name, std::string_view help) {
  return {name, opt_type::boolean, 0, help};
}

/// `--name <string>`: an optional string option.
inline option_def string_opt(std::string_view name, std::string_view help, unsigned flags = 0) {
  return {name, opt_type::string, flags, help};
}

// Helpers of the command implementations.

/// Runs `act` for the object the user called `name` and prints virsh's
/// line for the outcome: `fail` as an error, or `done` unless quiet.
template <class Act>
bool run_action(console& out, const std::string& name, const char* fail, const char* done,
                Act&& act) {
  if (!act()) {
    out.error(format(fail, name.c_str()));
    return false;
  }
  out.print_extra(format(done, name.c_str()));
  return true;
}

/// Sorts objects by name, ignoring case, as virsh's list commands do.
template <class T> void sort_by_name(std::vector<T>& objects) {
  std::stable_sort(objects.begin(), objects.end(), [](const T& a, const T& b) {
    return ::strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
  });
}

} // namespace virtactor::client::shell
