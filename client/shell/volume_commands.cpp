/// Storage volume commands: vol-list, vol-info, vol-dumpxml, vol-create-as,
/// vol-delete, vol-path, vol-key, vol-name, vol-pool.
#include "client/shell/commands.hpp"

#include <climits>

#include "client/shell/shell.hpp"
#include "client/shell/table.hpp"
#include "client/shell/units.hpp"
#include "client/shell/xml_dump.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

constexpr uint32_t vol_get_physical = 1;      // VIR_STORAGE_VOL_GET_PHYSICAL
constexpr uint32_t vol_delete_snapshots = 2;  // VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS
constexpr uint32_t vol_prealloc_metadata = 1; // VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA

const char* vol_type_name(int type) {
  static const char* const names[] = {"file", "block", "dir", "network", "netdir", "ploop"};
  if (type >= 0 && type < 6)
    return names[type];
  return "unknown";
}

/// `virshVolSize`: bytes with an optional unit suffix.
bool vol_size(shell& sh, const std::string& text, unsigned long long& value) {
  std::string rest;
  if (!parse_ulonglong_prefix(text, value, rest))
    return false;
  if (auto err = scale_integer(value, rest, 1, ULLONG_MAX)) {
    sh.save_error(std::move(*err));
    return false;
  }
  return true;
}

bool cmd_vol_list(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool details = cmd.has("details");
  auto pool = sh.pool_opt(cmd, "pool");
  if (!pool)
    return false;
  auto r = sh.call<proc::storage_pool_list_all_volumes>({*pool, 1, 0});
  if (!r) {
    out.error("Failed to list storage volumes");
    return false;
  }
  std::vector<protocol::nonnull_storage_vol> vols(r->vols.begin(), r->vols.end());
  sort_by_name(vols);
  std::optional<table> tab;
  if (details)
    tab.emplace(std::vector<std::string>{"Name", "Path", "Type", "Capacity", "Allocation"});
  else
    tab.emplace(std::vector<std::string>{"Name", "Path"});
  for (const auto& vol : vols) {
    auto path = sh.call<proc::storage_vol_get_path>({vol});
    std::string path_text = path ? path->name : "unknown";
    if (!details) {
      tab->add_row({vol.name, path_text});
      continue;
    }
    auto info = sh.call<proc::storage_vol_get_info>({vol});
    if (!info)
      tab->add_row({vol.name, path_text, "unknown", "unknown", "unknown"});
    else
      tab->add_row({vol.name, path_text, vol_type_name(info->type), format_capacity(info->capacity),
                    format_capacity(info->allocation)});
  }
  sh.reset_error();
  out.print(tab->render(!out.quiet()));
  return true;
}

bool cmd_vol_info(shell& sh, const parsed_command& cmd) {
  bool bytes = cmd.has("bytes");
  bool physical = cmd.has("physical");
  auto vol = sh.vol_opt(cmd, "vol", "pool");
  if (!vol)
    return false;
  auto& out = sh.out();
  out.print(format("%-15s %s\n", "Name:", vol->name.c_str()));
  std::optional<protocol::storage_vol_get_info_ret> info;
  if (physical)
    info = sh.call_number<protocol::storage_vol_get_info_ret>(
        proc::storage_vol_get_info_flags, protocol::vol_flags_args{*vol, vol_get_physical});
  else
    info = sh.call<proc::storage_vol_get_info>({*vol});
  if (!info)
    return false;
  std::string text = format("%-15s %s\n", "Type:", vol_type_name(info->type));
  auto size = [&](const char* label, unsigned long long v) {
    if (bytes)
      text += format("%-15s %llu %s\n", label, v, "bytes");
    else
      text += format("%-15s %s\n", label, format_capacity(v).c_str());
  };
  size("Capacity:", info->capacity);
  size(physical ? "Physical:" : "Allocation:", info->allocation);
  out.print(text);
  return true;
}

bool cmd_vol_dumpxml(shell& sh, const parsed_command& cmd) {
  auto vol = sh.vol_opt(cmd, "vol", "pool");
  if (!vol)
    return false;
  std::optional<std::string> xpath;
  if (opt_string_quiet(cmd, "xpath", xpath) < 0)
    return false;
  auto xml = sh.call<proc::storage_vol_get_xml_desc>({*vol, 0});
  if (!xml)
    return false;
  return dump_xml(sh, xml->xml, xpath, cmd.has("wrap"));
}

/// The backing volume of vol-create-as: by name in the pool, by key, by path.
std::optional<protocol::nonnull_storage_vol>
backing_volume(shell& sh, const protocol::nonnull_storage_pool& pool, const std::string& spec) {
  if (auto r = sh.call<proc::storage_vol_lookup_by_name>({pool, spec}))
    return r->vol;
  if (auto r = sh.call<proc::storage_vol_lookup_by_key>({spec}))
    return r->vol;
  if (auto r = sh.call<proc::storage_vol_lookup_by_path>({spec}))
    return r->vol;
  return std::nullopt;
}

bool cmd_vol_create_as(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  auto pool = sh.pool_opt(cmd, "pool");
  if (!pool)
    return false;
  std::optional<std::string> name, capacity_text, allocation_text, fmt, backing, backing_fmt;
  if (opt_string_req(out, cmd, "name", name) < 0 ||
      opt_string_req(out, cmd, "capacity", capacity_text) < 0 || !name || !capacity_text)
    return false;
  unsigned long long capacity = 0;
  if (!vol_size(sh, *capacity_text, capacity)) {
    out.error(format("Malformed size %s", capacity_text->c_str()));
    return false;
  }
  unsigned long long allocation = 0;
  bool has_allocation = opt_string_quiet(cmd, "allocation", allocation_text) > 0;
  if (has_allocation && !vol_size(sh, *allocation_text, allocation)) {
    out.error(format("Malformed size %s", allocation_text->c_str()));
    return false;
  }
  if (opt_string_req(out, cmd, "format", fmt) < 0 ||
      opt_string_req(out, cmd, "backing-vol", backing) < 0 ||
      opt_string_req(out, cmd, "backing-vol-format", backing_fmt) < 0)
    return false;
  uint32_t flags = cmd.has("prealloc-metadata") ? vol_prealloc_metadata : 0;

  std::string xml = "<volume>\n";
  xml += "  <name>" + *name + "</name>\n";
  xml += format("  <capacity>%llu</capacity>\n", capacity);
  if (has_allocation)
    xml += format("  <allocation>%llu</allocation>\n", allocation);
  if (fmt) {
    xml += "  <target>\n";
    xml += "    <format type='" + *fmt + "'/>\n";
    xml += "  </target>\n";
  }
  if (backing) {
    auto snap = backing_volume(sh, *pool, *backing);
    if (!snap) {
      out.error(format("failed to get vol '%s'", backing->c_str()));
      return false;
    }
    auto path = sh.call<proc::storage_vol_get_path>({*snap});
    if (!path)
      return false;
    sh.reset_error();
    xml += "  <backingStore>\n";
    xml += "    <path>" + path->name + "</path>\n";
    if (backing_fmt)
      xml += "    <format type='" + *backing_fmt + "'/>\n";
    xml += "  </backingStore>\n";
  }
  xml += "</volume>\n";
  if (cmd.has("print-xml")) {
    out.print(xml);
    return true;
  }
  if (!sh.call<proc::storage_vol_create_xml>({*pool, xml, flags})) {
    out.error(format("Failed to create vol %s", name->c_str()));
    return false;
  }
  out.print_extra(format("Vol %s created\n", name->c_str()));
  return true;
}

bool cmd_vol_delete(shell& sh, const parsed_command& cmd) {
  uint32_t flags = cmd.has("delete-snapshots") ? vol_delete_snapshots : 0;
  std::string name;
  auto vol = sh.vol_opt(cmd, "vol", "pool", &name);
  if (!vol)
    return false;
  if (!sh.call<proc::storage_vol_delete>({*vol, flags})) {
    sh.out().error(format("Failed to delete vol %s", name.c_str()));
    return false;
  }
  sh.out().print_extra(format("Vol %s deleted\n", name.c_str()));
  return true;
}

bool cmd_vol_path(shell& sh, const parsed_command& cmd) {
  auto vol = sh.vol_opt(cmd, "vol", "pool");
  if (!vol)
    return false;
  auto path = sh.call<proc::storage_vol_get_path>({*vol});
  if (!path)
    return false;
  sh.out().print(path->name + "\n");
  return true;
}

bool cmd_vol_key(shell& sh, const parsed_command& cmd) {
  auto vol = sh.vol_opt(cmd, "vol", "pool");
  if (!vol)
    return false;
  sh.out().print(vol->key + "\n");
  return true;
}

bool cmd_vol_name(shell& sh, const parsed_command& cmd) {
  auto vol = sh.vol_opt(cmd, "vol", {}, nullptr, by_uuid);
  if (!vol)
    return false;
  sh.out().print(vol->name + "\n");
  return true;
}

bool cmd_vol_pool(shell& sh, const parsed_command& cmd) {
  auto vol = sh.vol_opt(cmd, "vol", {}, nullptr, by_uuid);
  if (!vol)
    return false;
  auto pool = sh.call<proc::storage_pool_lookup_by_volume>({*vol});
  if (!pool) {
    sh.out().error("failed to get parent pool");
    return false;
  }
  sh.out().print((cmd.has("uuid") ? format_uuid(pool->pool.uuid) : pool->pool.name) + "\n");
  return true;
}

option_def vol_option(std::string_view help = "vol name, key or path") {
  return {"vol", opt_type::data, opt_required, help};
}

option_def pool_name_option() {
  return {"pool", opt_type::string, 0, "pool name or uuid"};
}

} // namespace

command_group volume_commands() {
  return {
      "Storage Volume",
      "volume",
      {
          {"vol-create-as",
           "create a volume from a set of args",
           "Create a vol.",
           {{"pool", opt_type::data, opt_required, "pool name"},
            {"name", opt_type::data, opt_required, "name of the volume"},
            {"capacity", opt_type::data, opt_required,
             "size of the vol, as scaled integer (default bytes)"},
            string_opt("allocation", "initial allocation size, as scaled integer (default bytes)"),
            string_opt("format", "file format type raw,bochs,qcow,qcow2,qed,vmdk"),
            string_opt("backing-vol", "the backing volume if taking a snapshot"),
            string_opt("backing-vol-format", "format of backing volume if taking a snapshot"),
            bool_opt("prealloc-metadata",
                     "preallocate metadata (for qcow2 instead of full allocation)"),
            bool_opt("print-xml", "print XML document, but don't define/create")},
           cmd_vol_create_as},
          {"vol-delete",
           "delete a vol",
           "Delete a given vol.",
           {vol_option(), pool_name_option(),
            bool_opt(
                "delete-snapshots",
                "delete snapshots associated with volume (must be supported by storage driver)")},
           cmd_vol_delete},
          {"vol-dumpxml",
           "vol information in XML",
           "Output the vol information as an XML dump to stdout.",
           {vol_option(),
            pool_name_option(),
            {"xpath", opt_type::string, opt_named_only,
             "xpath expression to filter the XML document"},
            bool_opt("wrap", "wrap xpath results in an common root element")},
           cmd_vol_dumpxml},
          {"vol-info",
           "storage vol information",
           "Returns basic information about the storage vol.",
           {vol_option(), pool_name_option(),
            bool_opt("bytes", "sizes are represented in bytes rather than pretty units"),
            bool_opt("physical", "return the physical size of the volume in allocation field")},
           cmd_vol_info},
          {"vol-key",
           "returns the volume key for a given volume name or path",
           "",
           {vol_option("volume name or path"), pool_name_option()},
           cmd_vol_key},
          {"vol-list",
           "list vols",
           "Returns list of vols by pool.",
           {{"pool", opt_type::data, opt_required, "pool name or uuid"},
            bool_opt("details", "display extended details for volumes")},
           cmd_vol_list},
          {"vol-name",
           "returns the volume name for a given volume key or path",
           "",
           {vol_option("volume key or path")},
           cmd_vol_name},
          {"vol-path",
           "returns the volume path for a given volume name or key",
           "",
           {vol_option("volume name or key"), pool_name_option()},
           cmd_vol_path},
          {"vol-pool",
           "returns the storage pool for a given volume key or path",
           "",
           {vol_option("volume key or path"),
            bool_opt("uuid", "return the pool uuid rather than pool name")},
           cmd_vol_pool},
      },
  };
}

} // namespace virtactor::client::shell
