#include "client/shell/commands.hpp"

namespace virtactor::client::shell {

const command_table& all_commands() {
  static const command_table table{{
      domain_commands(),
      monitor_commands(),
      event_commands(),
      host_commands(),
      network_commands(),
      pool_commands(),
      volume_commands(),
      builtin_commands(),
  }};
  return table;
}

} // namespace virtactor::client::shell
