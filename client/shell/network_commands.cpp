/// Virtual network commands: net-list, net-info, net-dumpxml, net-define,
/// net-create, net-undefine, net-start, net-destroy, net-autostart,
/// net-uuid, net-name.
#include "client/shell/commands.hpp"

#include "client/shell/shell.hpp"
#include "client/shell/table.hpp"
#include "client/shell/xml_dump.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

/// `virConnectListAllNetworksFlags`.
enum net_list_flag : uint32_t {
  net_inactive = 1,
  net_active = 2,
  net_persistent = 4,
  net_transient = 8,
  net_autostart = 16,
  net_no_autostart = 32,
};

constexpr uint32_t network_xml_inactive = 1;    // VIR_NETWORK_XML_INACTIVE
constexpr uint32_t network_define_validate = 1; // VIR_NETWORK_DEFINE_VALIDATE
constexpr uint32_t network_create_validate = 1; // VIR_NETWORK_CREATE_VALIDATE

bool cmd_net_list(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool opt_table = cmd.has("table");
  bool opt_uuid = cmd.has("uuid");
  bool opt_name = cmd.has("name");
  uint32_t flags = net_active;
  if (cmd.has("inactive"))
    flags = net_inactive;
  if (cmd.has("all"))
    flags = net_active | net_inactive;
  flags |= option_bits(cmd, {{"persistent", net_persistent},
                             {"transient", net_transient},
                             {"autostart", net_autostart},
                             {"no-autostart", net_no_autostart}});
  if (int(opt_table) + int(opt_uuid) + int(opt_name) > 1) {
    out.error("Only one argument from --table, --name and --uuid may be specified.");
    return false;
  }
  if (!opt_uuid && !opt_name)
    opt_table = true;
  auto r = sh.call<proc::connect_list_all_networks>({1, flags});
  if (!r) {
    out.error("Failed to list networks");
    return false;
  }
  std::vector<protocol::nonnull_network> nets(r->nets.begin(), r->nets.end());
  sort_by_name(nets);
  if (opt_table) {
    table tab{{"Name", "State", "Autostart", "Persistent"}};
    for (const auto& net : nets) {
      auto autostart = sh.call<proc::network_get_autostart>({net});
      auto active = sh.call<proc::network_is_active>({net});
      auto persistent = sh.call<proc::network_is_persistent>({net});
      tab.add_row({net.name, !active || active->value != 0 ? "active" : "inactive",
                   !autostart         ? "no autostart"
                   : autostart->value ? "yes"
                                      : "no",
                   !persistent || persistent->value != 0 ? "yes" : "no"});
    }
    sh.reset_error();
    out.print(tab.render(!out.quiet()));
    return true;
  }
  std::string text;
  for (const auto& net : nets)
    text += (opt_uuid ? format_uuid(net.uuid) : net.name) + "\n";
  out.print(text);
  return true;
}

bool cmd_net_info(shell& sh, const parsed_command& cmd) {
  auto net = sh.network_opt(cmd);
  if (!net)
    return false;
  std::string text;
  auto line = [&](const char* label, const std::string& value) {
    text += format("%-15s %s\n", label, value.c_str());
  };
  line("Name:", net->name);
  line("UUID:", format_uuid(net->uuid));
  if (auto active = sh.call<proc::network_is_active>({*net}))
    line("Active:", active->value ? "yes" : "no");
  auto persistent = sh.call<proc::network_is_persistent>({*net});
  line("Persistent:", !persistent ? "unknown" : persistent->value ? "yes" : "no");
  auto autostart = sh.call<proc::network_get_autostart>({*net});
  line("Autostart:", !autostart ? "no autostart" : autostart->value ? "yes" : "no");
  if (auto bridge = sh.call<proc::network_get_bridge_name>({*net}))
    line("Bridge:", bridge->name);
  sh.out().print(text);
  return true;
}

bool cmd_net_dumpxml(shell& sh, const parsed_command& cmd) {
  auto net = sh.network_opt(cmd);
  if (!net)
    return false;
  std::optional<std::string> xpath;
  if (opt_string_quiet(cmd, "xpath", xpath) < 0)
    return false;
  uint32_t flags = cmd.has("inactive") ? network_xml_inactive : 0;
  auto xml = sh.call<proc::network_get_xml_desc>({*net, flags});
  if (!xml)
    return false;
  return dump_xml(sh, xml->xml, xpath, cmd.has("wrap"));
}

/// net-define and net-create: read the file, call, report.
bool define_or_create(shell& sh, const parsed_command& cmd, bool create) {
  std::optional<std::string> from;
  if (opt_string_req(sh.out(), cmd, "file", from) < 0 || !from)
    return false;
  bool validate = cmd.has("validate");
  return from_file(sh, *from,
                   create ? "Failed to create network from %s" : "Failed to define network from %s",
                   create ? "Network %s created from %s\n" : "Network %s defined from %s\n",
                   [&](const std::string& xml) -> std::optional<std::string> {
                     std::optional<protocol::net_only> r;
                     if (create && validate)
                       r = sh.call_number<protocol::net_only>(
                           proc::network_create_xml_flags,
                           protocol::xml_flags_args{xml, network_create_validate});
                     else if (create)
                       r = sh.call<proc::network_create_xml>({xml});
                     else if (validate)
                       r = sh.call_number<protocol::net_only>(
                           proc::network_define_xml_flags,
                           protocol::xml_flags_args{xml, network_define_validate});
                     else
                       r = sh.call<proc::network_define_xml>({xml});
                     if (!r)
                       return std::nullopt;
                     return r->net.name;
                   });
}

bool cmd_net_define(shell& sh, const parsed_command& cmd) {
  return define_or_create(sh, cmd, false);
}

bool cmd_net_create(shell& sh, const parsed_command& cmd) {
  return define_or_create(sh, cmd, true);
}

/// net-start, net-destroy and net-undefine differ only in call and words.
template <proc P>
bool simple_net_action(shell& sh, const parsed_command& cmd, const char* fail, const char* done) {
  std::string name;
  auto net = sh.network_opt(cmd, &name);
  if (!net)
    return false;
  return run_action(sh.out(), name, fail, done, [&] { return sh.call<P>({*net}).has_value(); });
}

bool cmd_net_start(shell& sh, const parsed_command& cmd) {
  return simple_net_action<proc::network_create>(sh, cmd, "Failed to start network %s",
                                                 "Network %s started\n");
}

bool cmd_net_destroy(shell& sh, const parsed_command& cmd) {
  return simple_net_action<proc::network_destroy>(sh, cmd, "Failed to destroy network %s",
                                                  "Network %s destroyed\n");
}

bool cmd_net_undefine(shell& sh, const parsed_command& cmd) {
  return simple_net_action<proc::network_undefine>(sh, cmd, "Failed to undefine network %s",
                                                   "Network %s has been undefined\n");
}

bool cmd_net_autostart(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto net = sh.network_opt(cmd, &name);
  if (!net)
    return false;
  int32_t autostart = cmd.has("disable") ? 0 : 1;
  return run_action(sh.out(), name,
                    autostart ? "failed to mark network %s as autostarted"
                              : "failed to unmark network %s as autostarted",
                    autostart ? "Network %s marked as autostarted\n"
                              : "Network %s unmarked as autostarted\n",
                    [&] {
                      return sh.call<proc::network_set_autostart>({*net, autostart}).has_value();
                    });
}

bool cmd_net_uuid(shell& sh, const parsed_command& cmd) {
  auto net = sh.network_opt(cmd, nullptr, by_name);
  if (!net)
    return false;
  sh.out().print(format_uuid(net->uuid) + "\n");
  return true;
}

bool cmd_net_name(shell& sh, const parsed_command& cmd) {
  auto net = sh.network_opt(cmd, nullptr, by_uuid);
  if (!net)
    return false;
  sh.out().print(net->name + "\n");
  return true;
}

option_def network_option(std::string_view help = "network name or uuid") {
  return {"network", opt_type::data, opt_required, help};
}

} // namespace

command_group network_commands() {
  const auto validate = bool_opt("validate", "validate the XML against the schema");
  return {
      "Networking",
      "network",
      {
          {"net-autostart",
           "autostart a network",
           "Configure a network to be automatically started at boot.",
           {network_option(), bool_opt("disable", "disable autostarting")},
           cmd_net_autostart},
          {"net-create",
           "create a network from an XML file",
           "Create a network.",
           {file_option("file containing an XML network description"), validate},
           cmd_net_create},
          {"net-define",
           "define an inactive persistent virtual network or modify an existing persistent one "
           "from an XML file",
           "Define or modify a persistent virtual network.",
           {file_option("file containing an XML network description"), validate},
           cmd_net_define},
          {"net-destroy",
           "destroy (stop) a network",
           "Forcefully stop a given network.",
           {network_option()},
           cmd_net_destroy},
          {"net-dumpxml",
           "network information in XML",
           "Output the network information as an XML dump to stdout.",
           {network_option(),
            bool_opt("inactive", "show inactive defined XML"),
            {"xpath", opt_type::string, opt_named_only,
             "xpath expression to filter the XML document"},
            bool_opt("wrap", "wrap xpath results in an common root element")},
           cmd_net_dumpxml},
          {"net-info",
           "network information",
           "Returns basic information about the network",
           {network_option()},
           cmd_net_info},
          {"net-list",
           "list networks",
           "Returns list of networks.",
           {bool_opt("inactive", "list inactive networks"),
            bool_opt("all", "list inactive & active networks"),
            bool_opt("persistent", "list persistent networks"),
            bool_opt("transient", "list transient networks"),
            bool_opt("autostart", "list networks with autostart enabled"),
            bool_opt("no-autostart", "list networks with autostart disabled"),
            bool_opt("uuid", "list uuid's only"), bool_opt("name", "list network names only"),
            bool_opt("table", "list table (default)")},
           cmd_net_list},
          {"net-name",
           "convert a network UUID to network name",
           "",
           {network_option("network uuid")},
           cmd_net_name},
          {"net-start",
           "start a (previously defined) inactive network",
           "Start a network.",
           {network_option()},
           cmd_net_start},
          {"net-undefine",
           "undefine a persistent network",
           "Undefine the configuration for a persistent network.",
           {network_option()},
           cmd_net_undefine},
          {"net-uuid",
           "convert a network name to network UUID",
           "",
           {network_option("network name")},
           cmd_net_uuid},
      },
  };
}

} // namespace virtactor::client::shell
