/// The text of `help`, `help GROUP` and `help COMMAND` (and `COMMAND --help`),
/// laid out as virsh lays it out.
#pragma once

#include "client/shell/command.hpp"
#include "client/shell/console.hpp"

namespace virtactor::client::shell {

/// NAME, SYNOPSIS, DESCRIPTION and OPTIONS of one command.
void print_command_help(console& out, const command_def& cmd);

/// The commands of one group.
void print_group_help(console& out, const command_group& group);

/// "Grouped commands:" and every group.
void print_all_help(console& out, const command_table& table);

} // namespace virtactor::client::shell
