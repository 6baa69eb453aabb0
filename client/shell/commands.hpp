/// The command groups of the `virtactor` shell, in virsh's group order, and
/// the table that holds them all.
#pragma once

#include "client/shell/command.hpp"

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

// Option definitions shared by several commands.

/// `<domain>`: a required positional domain name, id or uuid.
option_def domain_option(std::string_view help = "domain name, id or uuid");

/// `<file>`: a required positional file name.
option_def file_option(std::string_view help);

} // namespace virtactor::client::shell
