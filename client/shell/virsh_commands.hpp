/// The commands of virsh 9.0, so that one virtactor lacks is told apart from
/// a typo.
#pragma once

#include <string_view>

namespace virtactor::client::shell {

/// True if `name` is a command (or alias, or hidden command) of virsh 9.0.
bool is_virsh_command(std::string_view name);

} // namespace virtactor::client::shell
