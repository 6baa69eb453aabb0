/// Storage pool commands: pool-list, pool-info, pool-dumpxml, pool-define,
/// pool-create, pool-start, pool-destroy, pool-undefine, pool-autostart,
/// pool-refresh, pool-uuid, pool-name.
#include "client/shell/commands.hpp"

#include <algorithm>

#include "client/shell/shell.hpp"
#include "client/shell/table.hpp"
#include "client/shell/units.hpp"
#include "client/shell/xml_dump.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

/// `virConnectListAllStoragePoolsFlags`.
enum pool_list_flag : uint32_t {
  pools_inactive = 1,
  pools_active = 2,
  pools_persistent = 4,
  pools_transient = 8,
  pools_autostart = 16,
  pools_no_autostart = 32,
};

/// Pool type names and their list filter bits, in `virStoragePoolType` order.
const std::pair<const char*, uint32_t> pool_types[] = {
    {"dir", 64},     {"fs", 128},          {"netfs", 256},           {"logical", 512},
    {"disk", 1024},  {"iscsi", 2048},      {"iscsi-direct", 524288}, {"scsi", 4096},
    {"mpath", 8192}, {"rbd", 16384},       {"sheepdog", 32768},      {"gluster", 65536},
    {"zfs", 131072}, {"vstorage", 262144},
};

constexpr int pool_running = 2;
constexpr int pool_degraded = 3;
constexpr uint32_t storage_xml_inactive = 1; // VIR_STORAGE_XML_INACTIVE
constexpr uint32_t pool_define_validate = 1; // VIR_STORAGE_POOL_DEFINE_VALIDATE

const char* pool_state_name(int state) {
  static const char* const names[] = {"inactive", "building", "running", "degraded",
                                      "inaccessible"};
  if (state >= 0 && state < 5)
    return names[state];
  return "unknown";
}

bool cmd_pool_list(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool details = cmd.has("details");
  bool inactive = cmd.has("inactive");
  bool all = cmd.has("all");
  if (!exclusive(out, "all", all, "inactive", inactive))
    return false;
  uint32_t flags = pools_active;
  if (inactive)
    flags = pools_inactive;
  if (all)
    flags = pools_active | pools_inactive;
  flags |= option_bits(cmd, {{"autostart", pools_autostart},
                             {"no-autostart", pools_no_autostart},
                             {"persistent", pools_persistent},
                             {"transient", pools_transient}});
  bool uuid = cmd.has("uuid");
  bool name = cmd.has("name");
  std::optional<std::string> type;
  if (opt_string_req(out, cmd, "type", type) < 0)
    return false;
  if (!exclusive(out, cmd, "details", "uuid") || !exclusive(out, cmd, "details", "name"))
    return false;
  if (type) {
    for (const auto& t : string_to_array(*type)) {
      auto it = std::find_if(std::begin(pool_types), std::end(pool_types),
                             [&](const auto& p) { return t == p.first; });
      if (it == std::end(pool_types)) {
        out.error(format("Invalid pool type '%s'", t.c_str()));
        return false;
      }
      flags |= it->second;
    }
  }
  auto r = sh.call<proc::connect_list_all_storage_pools>({1, flags});
  if (!r) {
    out.error("Failed to list pools");
    return false;
  }
  std::vector<protocol::nonnull_storage_pool> pools(r->pools.begin(), r->pools.end());
  sort_by_name(pools);

  struct texts {
    std::string state, autostart, persistent, capacity, allocation, available;
  };
  std::vector<texts> rows(pools.size());
  for (size_t i = 0; i < pools.size(); ++i) {
    auto& t = rows[i];
    auto autostart = sh.call<proc::storage_pool_get_autostart>({pools[i]});
    t.autostart = !autostart ? "no autostart" : autostart->value ? "yes" : "no";
    if (details) {
      auto persistent = sh.call<proc::storage_pool_is_persistent>({pools[i]});
      t.persistent = !persistent ? "unknown" : persistent->value ? "yes" : "no";
    }
    auto info = sh.call<proc::storage_pool_get_info>({pools[i]});
    if (!info) {
      out.error("Could not retrieve pool information");
      t.state = "unknown";
      if (details)
        t.capacity = t.allocation = t.available = "unknown";
    } else if (details) {
      t.state = pool_state_name(info->state);
      if (info->state == pool_running || info->state == pool_degraded) {
        t.capacity = format_capacity(info->capacity);
        t.allocation = format_capacity(info->allocation);
        t.available = format_capacity(info->available);
      } else {
        t.capacity = t.allocation = t.available = "-";
      }
    } else {
      auto active = sh.call<proc::storage_pool_is_active>({pools[i]});
      t.state = !active || active->value != 0 ? "active" : "inactive";
    }
  }
  sh.reset_error();

  if (!details) {
    if (uuid || name) {
      std::string text;
      for (const auto& p : pools) {
        if (uuid)
          text += format("%-36s%c", format_uuid(p.uuid).c_str(), name ? ' ' : '\n');
        if (name)
          text += format("%-20s\n", p.name.c_str());
      }
      out.print(text);
      return true;
    }
    table tab{{"Name", "State", "Autostart"}};
    for (size_t i = 0; i < pools.size(); ++i)
      tab.add_row({pools[i].name, rows[i].state, rows[i].autostart});
    out.print(tab.render(!out.quiet()));
    return true;
  }
  table tab{{"Name", "State", "Autostart", "Persistent", "Capacity", "Allocation", "Available"}};
  for (size_t i = 0; i < pools.size(); ++i) {
    const auto& t = rows[i];
    tab.add_row(
        {pools[i].name, t.state, t.autostart, t.persistent, t.capacity, t.allocation, t.available});
  }
  out.print(tab.render(!out.quiet()));
  return true;
}

bool cmd_pool_info(shell& sh, const parsed_command& cmd) {
  bool bytes = cmd.has("bytes");
  auto pool = sh.pool_opt(cmd, "pool");
  if (!pool)
    return false;
  std::string text;
  auto line = [&](const char* label, const std::string& value) {
    text += format("%-15s %s\n", label, value.c_str());
  };
  line("Name:", pool->name);
  line("UUID:", format_uuid(pool->uuid));
  bool ret = true;
  if (auto info = sh.call<proc::storage_pool_get_info>({*pool})) {
    line("State:", pool_state_name(info->state));
    auto persistent = sh.call<proc::storage_pool_is_persistent>({*pool});
    line("Persistent:", !persistent ? "unknown" : persistent->value ? "yes" : "no");
    auto autostart = sh.call<proc::storage_pool_get_autostart>({*pool});
    line("Autostart:", !autostart ? "no autostart" : autostart->value ? "yes" : "no");
    if (info->state == pool_running || info->state == pool_degraded) {
      auto size = [&](const char* label, unsigned long long v) {
        if (bytes)
          text += format("%-15s %llu\n", label, v);
        else
          text += format("%-15s %s\n", label, format_capacity(v).c_str());
      };
      size("Capacity:", info->capacity);
      size("Allocation:", info->allocation);
      size("Available:", info->available);
    }
  } else {
    ret = false;
  }
  sh.out().print(text);
  return ret;
}

bool cmd_pool_dumpxml(shell& sh, const parsed_command& cmd) {
  uint32_t flags = cmd.has("inactive") ? storage_xml_inactive : 0;
  auto pool = sh.pool_opt(cmd, "pool");
  if (!pool)
    return false;
  std::optional<std::string> xpath;
  if (opt_string_quiet(cmd, "xpath", xpath) < 0)
    return false;
  auto xml = sh.call<proc::storage_pool_get_xml_desc>({*pool, flags});
  if (!xml)
    return false;
  return dump_xml(sh, xml->xml, xpath, cmd.has("wrap"));
}

/// `--build`, `--overwrite`, `--no-overwrite` as `VIR_STORAGE_POOL_CREATE_*`.
std::optional<uint32_t> build_flags(shell& sh, const parsed_command& cmd) {
  bool overwrite = cmd.has("overwrite");
  bool no_overwrite = cmd.has("no-overwrite");
  if (!exclusive(sh.out(), "overwrite", overwrite, "no-overwrite", no_overwrite))
    return std::nullopt;
  return option_bits(cmd, {{"build", 1}, {"overwrite", 2}, {"no-overwrite", 4}});
}

bool cmd_pool_define(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> from;
  if (opt_string_req(sh.out(), cmd, "file", from) < 0 || !from)
    return false;
  uint32_t flags = cmd.has("validate") ? pool_define_validate : 0;
  return from_file(sh, *from, "Failed to define pool from %s", "Pool %s defined from %s\n",
                   [&](const std::string& xml) -> std::optional<std::string> {
                     auto r = sh.call<proc::storage_pool_define_xml>({xml, flags});
                     if (!r)
                       return std::nullopt;
                     return r->pool.name;
                   });
}

bool cmd_pool_create(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> from;
  if (opt_string_req(sh.out(), cmd, "file", from) < 0 || !from)
    return false;
  auto flags = build_flags(sh, cmd);
  if (!flags)
    return false;
  return from_file(sh, *from, "Failed to create pool from %s", "Pool %s created from %s\n",
                   [&](const std::string& xml) -> std::optional<std::string> {
                     auto r = sh.call<proc::storage_pool_create_xml>({xml, *flags});
                     if (!r)
                       return std::nullopt;
                     return r->pool.name;
                   });
}

bool cmd_pool_start(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto pool = sh.pool_opt(cmd, "pool", &name);
  if (!pool)
    return false;
  auto flags = build_flags(sh, cmd);
  if (!flags)
    return false;
  return run_action(sh.out(), name, "Failed to start pool %s", "Pool %s started\n", [&] {
    return sh.call<proc::storage_pool_create>({*pool, *flags}).has_value();
  });
}

/// pool-destroy, pool-undefine and pool-refresh differ in call and words.
template <class Call>
bool simple_pool_action(shell& sh, const parsed_command& cmd, const char* fail, const char* done,
                        Call call) {
  std::string name;
  auto pool = sh.pool_opt(cmd, "pool", &name);
  if (!pool)
    return false;
  return run_action(sh.out(), name, fail, done, [&] { return call(*pool); });
}

bool cmd_pool_destroy(shell& sh, const parsed_command& cmd) {
  return simple_pool_action(
      sh, cmd, "Failed to destroy pool %s", "Pool %s destroyed\n",
      [&](const auto& p) { return sh.call<proc::storage_pool_destroy>({p}).has_value(); });
}

bool cmd_pool_undefine(shell& sh, const parsed_command& cmd) {
  return simple_pool_action(
      sh, cmd, "Failed to undefine pool %s", "Pool %s has been undefined\n",
      [&](const auto& p) { return sh.call<proc::storage_pool_undefine>({p}).has_value(); });
}

bool cmd_pool_refresh(shell& sh, const parsed_command& cmd) {
  return simple_pool_action(sh, cmd, "Failed to refresh pool %s", "Pool %s refreshed\n",
                            [&](const auto& p) {
                              return sh.call<proc::storage_pool_refresh>({p, 0}).has_value();
                            });
}

bool cmd_pool_autostart(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto pool = sh.pool_opt(cmd, "pool", &name);
  if (!pool)
    return false;
  int32_t autostart = cmd.has("disable") ? 0 : 1;
  return run_action(
      sh.out(), name,
      autostart ? "failed to mark pool %s as autostarted"
                : "failed to unmark pool %s as autostarted",
      autostart ? "Pool %s marked as autostarted\n" : "Pool %s unmarked as autostarted\n", [&] {
        return sh.call<proc::storage_pool_set_autostart>({*pool, autostart}).has_value();
      });
}

bool cmd_pool_uuid(shell& sh, const parsed_command& cmd) {
  auto pool = sh.pool_opt(cmd, "pool", nullptr, by_name);
  if (!pool)
    return false;
  sh.out().print(format_uuid(pool->uuid) + "\n");
  return true;
}

bool cmd_pool_name(shell& sh, const parsed_command& cmd) {
  auto pool = sh.pool_opt(cmd, "pool", nullptr, by_uuid);
  if (!pool)
    return false;
  sh.out().print(pool->name + "\n");
  return true;
}

option_def pool_option() {
  return {"pool", opt_type::data, opt_required, "pool name or uuid"};
}

} // namespace

command_group pool_commands() {
  const auto build = bool_opt("build", "build the pool as normal");
  const auto no_overwrite = bool_opt("no-overwrite", "do not overwrite any existing data");
  const auto overwrite = bool_opt("overwrite", "overwrite any existing data");
  return {
      "Storage Pool",
      "pool",
      {
          {"pool-autostart",
           "autostart a pool",
           "Configure a pool to be automatically started at boot.",
           {pool_option(), bool_opt("disable", "disable autostarting")},
           cmd_pool_autostart},
          {"pool-create",
           "create a pool from an XML file",
           "Create a pool.",
           {file_option("file containing an XML pool description"), build, no_overwrite, overwrite},
           cmd_pool_create},
          {"pool-define",
           "define an inactive persistent storage pool or modify an existing persistent one from "
           "an XML file",
           "Define or modify a persistent storage pool.",
           {file_option("file containing an XML pool description"),
            bool_opt("validate", "validate the XML against the schema")},
           cmd_pool_define},
          {"pool-destroy",
           "destroy (stop) a pool",
           "Forcefully stop a given pool. Raw data in the pool is untouched",
           {pool_option()},
           cmd_pool_destroy},
          {"pool-dumpxml",
           "pool information in XML",
           "Output the pool information as an XML dump to stdout.",
           {pool_option(),
            bool_opt("inactive", "show inactive defined XML"),
            {"xpath", opt_type::string, opt_named_only,
             "xpath expression to filter the XML document"},
            bool_opt("wrap", "wrap xpath results in an common root element")},
           cmd_pool_dumpxml},
          {"pool-info",
           "storage pool information",
           "Returns basic information about the storage pool.",
           {pool_option(), bool_opt("bytes", "Return pool info in bytes")},
           cmd_pool_info},
          {"pool-list",
           "list pools",
           "Returns list of pools.",
           {bool_opt("inactive", "list inactive pools"),
            bool_opt("all", "list inactive & active pools"),
            bool_opt("transient", "list transient pools"),
            bool_opt("persistent", "list persistent pools"),
            bool_opt("autostart", "list pools with autostart enabled"),
            bool_opt("no-autostart", "list pools with autostart disabled"),
            {"type", opt_type::string, 0, "only list pool of specified type(s) (if supported)"},
            bool_opt("details", "display extended details for pools"),
            bool_opt("uuid", "list UUID of active pools only"),
            bool_opt("name", "list name of active pools only")},
           cmd_pool_list},
          {"pool-name", "convert a pool UUID to pool name", "", {pool_option()}, cmd_pool_name},
          {"pool-refresh",
           "refresh a pool",
           "Refresh a given pool.",
           {pool_option()},
           cmd_pool_refresh},
          {"pool-start",
           "start a (previously defined) inactive pool",
           "Start a pool.",
           {pool_option(), build, no_overwrite, overwrite},
           cmd_pool_start},
          {"pool-undefine",
           "undefine an inactive pool",
           "Undefine the configuration for an inactive pool.",
           {pool_option()},
           cmd_pool_undefine},
          {"pool-uuid", "convert a pool name to pool UUID", "", {pool_option()}, cmd_pool_uuid},
      },
  };
}

} // namespace virtactor::client::shell
