/// Domain management commands: define, undefine, create, start, destroy,
/// shutdown, reboot, suspend, resume, autostart, setmem, setmaxmem,
/// setvcpus, domid, domname, domuuid, dumpxml.
#include "client/shell/commands.hpp"

#include <climits>

#include "client/shell/shell.hpp"
#include "client/shell/xml_dump.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

// Flag values of libvirt's public API.
constexpr uint32_t define_validate = 1;     // VIR_DOMAIN_DEFINE_VALIDATE
constexpr uint32_t start_paused = 1;        // VIR_DOMAIN_START_PAUSED
constexpr uint32_t start_autodestroy = 2;   // VIR_DOMAIN_START_AUTODESTROY
constexpr uint32_t start_bypass_cache = 4;  // VIR_DOMAIN_START_BYPASS_CACHE
constexpr uint32_t start_force_boot = 8;    // VIR_DOMAIN_START_FORCE_BOOT
constexpr uint32_t start_validate = 16;     // VIR_DOMAIN_START_VALIDATE
constexpr uint32_t start_reset_nvram = 32;  // VIR_DOMAIN_START_RESET_NVRAM
constexpr uint32_t destroy_graceful = 1;    // VIR_DOMAIN_DESTROY_GRACEFUL
constexpr uint32_t destroy_remove_logs = 2; // VIR_DOMAIN_DESTROY_REMOVE_LOGS
constexpr uint32_t affect_live = 1;         // VIR_DOMAIN_AFFECT_LIVE
constexpr uint32_t affect_config = 2;       // VIR_DOMAIN_AFFECT_CONFIG
constexpr uint32_t mem_maximum = 4;         // VIR_DOMAIN_MEM_MAXIMUM
constexpr uint32_t vcpu_maximum = 4;        // VIR_DOMAIN_VCPU_MAXIMUM
constexpr uint32_t vcpu_guest = 8;          // VIR_DOMAIN_VCPU_GUEST
constexpr uint32_t vcpu_hotpluggable = 16;  // VIR_DOMAIN_VCPU_HOTPLUGGABLE
constexpr uint32_t xml_security_info = 1;   // VIR_DOMAIN_XML_SECURE
constexpr uint32_t xml_inactive = 2;        // VIR_DOMAIN_XML_INACTIVE
constexpr uint32_t xml_update_cpu = 4;      // VIR_DOMAIN_XML_UPDATE_CPU
constexpr uint32_t xml_migratable = 8;      // VIR_DOMAIN_XML_MIGRATABLE

const char* cstr(const std::string& s) {
  return s.c_str();
}

/// --pass-fds and --console need file descriptor passing and a console
/// stream, which the client API does not offer.
bool refuse_unsupported(shell& sh, const parsed_command& cmd) {
  for (const char* opt : {"pass-fds", "console"}) {
    if (cmd.has(opt)) {
      sh.out().error(format("option --%s is not supported by virtactor", opt));
      return false;
    }
  }
  return true;
}

bool cmd_define(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> from;
  if (opt_string_req(sh.out(), cmd, "file", from) < 0 || !from)
    return false;
  uint32_t flags = cmd.has("validate") ? define_validate : 0;
  return from_file(sh, *from, "Failed to define domain from %s", "Domain '%s' defined from %s\n",
                   [&](const std::string& xml) -> std::optional<std::string> {
                     auto r = flags != 0 ? sh.call<proc::domain_define_xml_flags>({xml, flags})
                                         : sh.call<proc::domain_define_xml>({xml});
                     if (!r)
                       return std::nullopt;
                     return r->dom.name;
                   });
}

bool cmd_create(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> from;
  if (opt_string_req(sh.out(), cmd, "file", from) < 0 || !from)
    return false;
  if (!refuse_unsupported(sh, cmd))
    return false;
  uint32_t flags = option_bits(cmd, {{"paused", start_paused},
                                     {"autodestroy", start_autodestroy},
                                     {"validate", start_validate},
                                     {"reset-nvram", start_reset_nvram}});
  return from_file(sh, *from, "Failed to create domain from %s", "Domain '%s' created from %s\n",
                   [&](const std::string& xml) -> std::optional<std::string> {
                     auto r = sh.call<proc::domain_create_xml>({xml, flags});
                     if (!r)
                       return std::nullopt;
                     return r->dom.name;
                   });
}

bool cmd_start(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd, nullptr, by_name | by_uuid);
  if (!dom)
    return false;
  if (dom->id != -1) {
    sh.out().error("Domain is already active");
    return false;
  }
  if (!refuse_unsupported(sh, cmd))
    return false;
  uint32_t flags = option_bits(cmd, {{"paused", start_paused},
                                     {"autodestroy", start_autodestroy},
                                     {"bypass-cache", start_bypass_cache},
                                     {"force-boot", start_force_boot},
                                     {"reset-nvram", start_reset_nvram}});
  if (flags & start_force_boot) {
    // virsh emulates a forced boot for servers that refuse the flag.
    if (sh.call<proc::domain_create_with_flags>({*dom, flags})) {
      sh.out().print_extra(format("Domain '%s' started\n", cstr(dom->name)));
      return true;
    }
    auto code = sh.error_code_pending();
    if (code != error_code::no_support && code != error_code::invalid_arg)
      return false;
    sh.reset_error();
    auto saved = sh.call<proc::domain_has_managed_save_image>({*dom, 0});
    if (!saved) {
      sh.reset_error();
    } else if (saved->value > 0 && !sh.call_number<xdr::empty>(proc::domain_managed_save_remove,
                                                               protocol::dom_flags_args{*dom, 0})) {
      return false;
    }
    flags &= ~start_force_boot;
  }
  // virsh prefers the older call unless a flag must be passed.
  bool ok = flags != 0 ? sh.call<proc::domain_create_with_flags>({*dom, flags}).has_value()
                       : sh.call<proc::domain_create>({*dom}).has_value();
  if (!ok) {
    sh.out().error(format("Failed to start domain '%s'", cstr(dom->name)));
    return false;
  }
  sh.out().print_extra(format("Domain '%s' started\n", cstr(dom->name)));
  return true;
}

bool cmd_destroy(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  uint32_t flags =
      option_bits(cmd, {{"graceful", destroy_graceful}, {"remove-logs", destroy_remove_logs}});
  return run_action(
      sh.out(), name, "Failed to destroy domain '%s'", "Domain '%s' destroyed\n", [&] {
        return flags != 0 ? sh.call<proc::domain_destroy_flags>({*dom, flags}).has_value()
                          : sh.call<proc::domain_destroy>({*dom}).has_value();
      });
}

/// Parses --mode of shutdown and reboot into `VIR_DOMAIN_SHUTDOWN_*` flags.
bool parse_modes(shell& sh, const parsed_command& cmd, const char* expecting, uint32_t& flags) {
  std::optional<std::string> mode;
  if (opt_string_req(sh.out(), cmd, "mode", mode) < 0)
    return false;
  if (!mode)
    return true;
  size_t start = 0;
  for (;;) {
    auto comma = mode->find(',', start);
    std::string m =
        mode->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (m == "acpi")
      flags |= 1;
    else if (m == "agent")
      flags |= 2;
    else if (m == "initctl")
      flags |= 4;
    else if (m == "signal")
      flags |= 8;
    else if (m == "paravirt")
      flags |= 16;
    else {
      sh.out().error(format("Unknown mode %s value, expecting %s", m.c_str(), expecting));
      return false;
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
}

/// shutdown and reboot: the modes first, then the domain, then the call.
template <class Call>
bool mode_action(shell& sh, const parsed_command& cmd, const char* expecting, const char* fail,
                 const char* done, Call call) {
  uint32_t flags = 0;
  if (!parse_modes(sh, cmd, expecting, flags))
    return false;
  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  return run_action(sh.out(), name, fail, done, [&] { return call(*dom, flags); });
}

bool cmd_shutdown(shell& sh, const parsed_command& cmd) {
  return mode_action(sh, cmd, "'acpi', 'agent', 'initctl', 'signal', or 'paravirt'",
                     "Failed to shutdown domain '%s'", "Domain '%s' is being shutdown\n",
                     [&](const protocol::nonnull_domain& dom, uint32_t flags) {
                       return flags != 0
                                  ? sh.call<proc::domain_shutdown_flags>({dom, flags}).has_value()
                                  : sh.call<proc::domain_shutdown>({dom}).has_value();
                     });
}

bool cmd_reboot(shell& sh, const parsed_command& cmd) {
  return mode_action(sh, cmd, "'acpi', 'agent', 'initctl', 'signal' or 'paravirt'",
                     "Failed to reboot domain '%s'", "Domain '%s' is being rebooted\n",
                     [&](const protocol::nonnull_domain& dom, uint32_t flags) {
                       return sh.call<proc::domain_reboot>({dom, flags}).has_value();
                     });
}

/// suspend and resume differ only in call and words.
template <proc P>
bool simple_domain_action(shell& sh, const parsed_command& cmd, const char* fail,
                          const char* done) {
  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  return run_action(sh.out(), name, fail, done, [&] { return sh.call<P>({*dom}).has_value(); });
}

bool cmd_suspend(shell& sh, const parsed_command& cmd) {
  return simple_domain_action<proc::domain_suspend>(sh, cmd, "Failed to suspend domain '%s'",
                                                    "Domain '%s' suspended\n");
}

bool cmd_resume(shell& sh, const parsed_command& cmd) {
  return simple_domain_action<proc::domain_resume>(sh, cmd, "Failed to resume domain '%s'",
                                                   "Domain '%s' resumed\n");
}

bool cmd_reset(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  return run_action(sh.out(), name, "Failed to reset domain '%s'", "Domain '%s' was reset\n",
                    [&] { return sh.call<proc::domain_reset>({*dom, 0}).has_value(); });
}

bool cmd_autostart(shell& sh, const parsed_command& cmd) {
  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  int32_t autostart = cmd.has("disable") ? 0 : 1;
  return run_action(sh.out(), name,
                    autostart ? "Failed to mark domain '%s' as autostarted"
                              : "Failed to unmark domain '%s' as autostarted",
                    autostart ? "Domain '%s' marked as autostarted\n"
                              : "Domain '%s' unmarked as autostarted\n",
                    [&] {
                      return sh.call<proc::domain_set_autostart>({*dom, autostart}).has_value();
                    });
}

/// A storage volume undefine --storage / --remove-all-storage removes.
struct volume_to_remove {
  protocol::nonnull_storage_vol vol;
  std::string source;
  std::string target;
};

/// Collects the volumes of `dom`'s disks that undefine is asked to remove;
/// false after reporting a problem.
bool collect_volumes(shell& sh, const protocol::nonnull_domain& dom,
                     const std::optional<std::string>& wanted,
                     std::vector<volume_to_remove>& vols) {
  auto& out = sh.out();
  pugi::xml_document doc;
  if (!load_domain_xml(sh, dom, doc))
    return false;
  std::vector<std::optional<std::string>> names;
  if (wanted)
    for (auto& n : string_to_array(*wanted))
      names.emplace_back(std::move(n));
  for (auto disk : doc.select_nodes("/domain/devices/disk")) {
    auto node = disk.node();
    std::string target = node.child("target").attribute("dev").value();
    auto src = node.child("source");
    std::string source;
    for (const char* attr : {"file", "dir", "name", "dev", "volume"}) {
      if (auto a = src.attribute(attr)) {
        source = a.value();
        break;
      }
    }
    if (target.empty() || source.empty())
      continue;
    if (wanted) {
      bool found = false;
      for (auto& n : names) {
        if (n && (*n == target || *n == source)) {
          n.reset();
          found = true;
          break;
        }
      }
      if (!found)
        continue;
    }
    std::optional<protocol::vol_only> vol;
    if (auto pool_name = std::string{src.attribute("pool").value()}; !pool_name.empty()) {
      auto pool = sh.call<proc::storage_pool_lookup_by_name>({pool_name});
      if (!pool) {
        out.error(format("Storage pool '%s' for volume '%s' not found.", pool_name.c_str(),
                         target.c_str()));
        sh.reset_error();
        continue;
      }
      vol = sh.call<proc::storage_vol_lookup_by_name>({pool->pool, source});
    } else {
      vol = sh.call<proc::storage_vol_lookup_by_path>({source});
    }
    if (!vol) {
      out.error(format("Storage volume '%s'(%s) is not managed by libvirt. Remove it manually.\n",
                       target.c_str(), source.c_str()));
      sh.reset_error();
      continue;
    }
    vols.push_back({vol->vol, source, target});
  }
  bool missing = false;
  for (const auto& n : names) {
    if (n) {
      out.error(format("Volume '%s' was not found in domain's definition.\n", n->c_str()));
      missing = true;
    }
  }
  return !missing;
}

bool cmd_undefine(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool managed_save = cmd.has("managed-save");
  bool snapshots_metadata = cmd.has("snapshots-metadata");
  bool wipe_storage = cmd.has("wipe-storage");
  bool remove_all_storage = cmd.has("remove-all-storage");
  bool delete_snapshots = cmd.has("delete-storage-volume-snapshots");
  bool nvram = cmd.has("nvram");
  if (delete_snapshots && !remove_all_storage) {
    out.error("Option --remove-all-storage is required by option "
              "--delete-storage-volume-snapshots");
    return false;
  }
  if (!exclusive(out, cmd, "nvram", "keep-nvram") || !exclusive(out, cmd, "tpm", "keep-tpm"))
    return false;
  std::optional<std::string> storage;
  (void)opt_string_quiet(cmd, "storage", storage);
  if (!(storage || remove_all_storage) && wipe_storage) {
    out.error("'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'");
    return false;
  }
  uint32_t vol_flags = delete_snapshots ? 2 : 0; // VIR_STORAGE_VOL_DELETE_WITH_SNAPSHOTS
  // VIR_DOMAIN_UNDEFINE_* bits.
  uint32_t flags = option_bits(cmd, {{"managed-save", 1},
                                     {"snapshots-metadata", 2},
                                     {"nvram", 4},
                                     {"keep-nvram", 8},
                                     {"checkpoints-metadata", 16},
                                     {"tpm", 32},
                                     {"keep-tpm", 64}});
  bool managed_save_safe = managed_save;
  bool snapshots_safe = snapshots_metadata;

  std::string name;
  auto dom = sh.domain_opt(cmd, &name);
  if (!dom)
    return false;
  // As virsh: drop flag bits that are not needed, so that an older server
  // does not refuse them, and learn whether the flags API is safe to use.
  auto active = sh.call<proc::domain_is_active>({*dom});
  if (!active)
    return false;
  int has_managed_save = 0;
  int has_snapshots = 0;
  int has_snapshots_metadata = 0;
  if (active->value == 0) {
    if (auto r = sh.call<proc::domain_has_managed_save_image>({*dom, 0})) {
      has_managed_save = r->value;
    } else {
      if (sh.error_code_pending() != error_code::no_support)
        return false;
      sh.reset_error();
    }
    if (auto r = sh.call<proc::domain_snapshot_num>({*dom, 0})) {
      has_snapshots = r->num;
    } else {
      if (sh.error_code_pending() != error_code::no_support)
        return false;
      sh.reset_error();
    }
    if (has_snapshots != 0) {
      constexpr uint32_t snapshot_list_metadata = 2; // VIR_DOMAIN_SNAPSHOT_LIST_METADATA
      if (auto r = sh.call<proc::domain_snapshot_num>({*dom, snapshot_list_metadata})) {
        has_snapshots_metadata = r->num;
        managed_save_safe = snapshots_safe = true;
      } else {
        sh.reset_error();
        has_snapshots_metadata = has_snapshots;
      }
    }
  }
  if (has_managed_save == 0) {
    flags &= ~1U;
    managed_save_safe = true;
  }
  if (has_snapshots == 0)
    snapshots_safe = true;
  if (has_snapshots_metadata == 0) {
    flags &= ~2U;
    snapshots_safe = true;
  }
  // virtactor's API has no checkpoints: a domain never has any.
  flags &= ~16U;

  std::vector<volume_to_remove> vols;
  if (storage || remove_all_storage) {
    if (active->value != 0) {
      out.error("Storage volume deletion is supported only on stopped domains");
      return false;
    }
    if (storage && remove_all_storage) {
      out.error("Specified both --storage and --remove-all-storage");
      return false;
    }
    if (!collect_volumes(sh, *dom, storage, vols))
      return false;
  }

  bool undefined = false;
  bool decided = false;
  if ((managed_save_safe && snapshots_safe) || nvram) {
    undefined = sh.call<proc::domain_undefine_flags>({*dom, flags}).has_value();
    auto code = sh.error_code_pending();
    if (undefined || nvram || (code != error_code::no_support && code != error_code::invalid_arg))
      decided = true;
    else
      sh.reset_error();
  }
  if (!decided) {
    // The flags API is missing or unsafe: do it piece by piece.
    if (has_managed_save != 0) {
      if (!managed_save) {
        out.error("Refusing to undefine while domain managed save image exists");
        return false;
      }
      if (!sh.call_number<xdr::empty>(proc::domain_managed_save_remove,
                                      protocol::dom_flags_args{*dom, 0})) {
        sh.report_error();
        return false;
      }
    }
    if (has_snapshots_metadata != 0) {
      out.error(format(snapshots_metadata ? "Unable to remove metadata of %d snapshots"
                                          : "Refusing to undefine while %d snapshots exist",
                       has_snapshots_metadata));
      return false;
    }
    undefined = sh.call<proc::domain_undefine>({*dom}).has_value();
  }
  if (!undefined) {
    out.error(format("Failed to undefine domain '%s'", cstr(name)));
    return false;
  }
  out.print_extra(format("Domain '%s' has been undefined\n", cstr(name)));

  bool ret = true;
  for (const auto& v : vols) {
    if (wipe_storage) {
      out.print_extra(format("Wiping volume '%s'(%s) ... ", v.target.c_str(), v.source.c_str()));
      if (!sh.call_number<xdr::empty>(proc::storage_vol_wipe, protocol::vol_flags_args{v.vol, 0})) {
        out.error("Failed! Volume not removed.");
        ret = false;
        continue;
      }
      out.print_extra("Done.\n");
    }
    if (!sh.call<proc::storage_vol_delete>({v.vol, vol_flags})) {
      out.error(
          format("Failed to remove storage volume '%s'(%s)", v.target.c_str(), v.source.c_str()));
      ret = false;
    } else {
      out.print_extra(format("Volume '%s'(%s) removed.\n", v.target.c_str(), v.source.c_str()));
    }
  }
  return ret;
}

/// libvirt refuses a zero size on the client side before any call.
bool check_memory_nonzero(shell& sh, unsigned long long kib) {
  if (kib != 0)
    return true;
  sh.save_error(make_virt_error(error_code::invalid_arg, error_domain::none,
                                "memory in virDomainSetMemoryFlags must not be zero"));
  return false;
}

/// Shared by setmem and setmaxmem (after their option checks): the flags
/// and the size in KiB.
std::optional<std::pair<uint32_t, unsigned long long>>
memory_args(shell& sh, const parsed_command& cmd, uint32_t flags) {
  if (cmd.has("config"))
    flags |= affect_config;
  if (cmd.has("live"))
    flags |= affect_live;
  unsigned long long bytes = 0;
  if (opt_scaled(sh.out(), cmd, "size", bytes, 1024, ULLONG_MAX) < 0)
    return std::nullopt;
  unsigned long long kib = bytes / 1024 + (bytes % 1024 != 0 ? 1 : 0);
  return std::make_pair(flags, kib);
}

bool cmd_setmem(shell& sh, const parsed_command& cmd) {
  if (!exclusive(sh.out(), cmd, "current", "live") ||
      !exclusive(sh.out(), cmd, "current", "config"))
    return false;
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  auto args = memory_args(sh, cmd, 0);
  if (!args)
    return false;
  if (!check_memory_nonzero(sh, args->second))
    return false;
  return sh.call<proc::domain_set_memory_flags>({*dom, args->second, args->first}).has_value();
}

bool cmd_setmaxmem(shell& sh, const parsed_command& cmd) {
  if (!exclusive(sh.out(), cmd, "current", "live") ||
      !exclusive(sh.out(), cmd, "current", "config"))
    return false;
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  auto args = memory_args(sh, cmd, mem_maximum);
  if (!args)
    return false;
  if (!check_memory_nonzero(sh, args->second) ||
      !sh.call<proc::domain_set_memory_flags>({*dom, args->second, args->first})) {
    sh.out().error("Unable to change MaxMemorySize");
    return false;
  }
  return true;
}

bool cmd_setvcpus(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool maximum = cmd.has("maximum");
  bool config = cmd.has("config");
  bool current = cmd.has("current");
  if (!exclusive(out, cmd, "current", "live") || !exclusive(out, cmd, "current", "config") ||
      !exclusive(out, cmd, "guest", "config"))
    return false;
  if (maximum && !config) {
    out.error("Option --config is required by option --maximum");
    return false;
  }
  uint32_t flags = option_bits(cmd, {{"config", affect_config},
                                     {"live", affect_live},
                                     {"guest", vcpu_guest},
                                     {"maximum", vcpu_maximum},
                                     {"hotpluggable", vcpu_hotpluggable}});
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  unsigned count = 0;
  if (opt_uint(out, cmd, "count", count) < 0)
    return false;
  if (count == 0) {
    out.error("Can't set 0 processors for a VM");
    return false;
  }
  if (!current && flags == 0)
    return sh.call<proc::domain_set_vcpus>({*dom, count}).has_value();
  return sh.call<proc::domain_set_vcpus_flags>({*dom, count, flags}).has_value();
}

bool cmd_domid(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd, nullptr, by_name | by_uuid);
  if (!dom)
    return false;
  sh.out().print(dom->id == -1 ? std::string{"-\n"} : format("%d\n", dom->id));
  return true;
}

bool cmd_domname(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd, nullptr, by_id | by_uuid);
  if (!dom)
    return false;
  sh.out().print(dom->name + "\n");
  return true;
}

bool cmd_domuuid(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd, nullptr, by_name | by_id);
  if (!dom)
    return false;
  sh.out().print(format_uuid(dom->uuid) + "\n");
  return true;
}

bool cmd_dumpxml(shell& sh, const parsed_command& cmd) {
  uint32_t flags = option_bits(cmd, {{"inactive", xml_inactive},
                                     {"security-info", xml_security_info},
                                     {"update-cpu", xml_update_cpu},
                                     {"migratable", xml_migratable}});
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  std::optional<std::string> xpath;
  if (opt_string_quiet(cmd, "xpath", xpath) < 0)
    return false;
  auto xml = sh.call<proc::domain_get_xml_desc>({*dom, flags});
  if (!xml)
    return false;
  return dump_xml(sh, xml->xml, xpath, cmd.has("wrap"));
}

} // namespace

command_group domain_commands() {
  const auto config = bool_opt("config", "affect next boot");
  const auto live = bool_opt("live", "affect running domain");
  const auto current = bool_opt("current", "affect current domain");
  const auto mode = string_opt("mode", "shutdown mode: acpi|agent|initctl|signal|paravirt");
  const auto xpath =
      string_opt("xpath", "xpath expression to filter the XML document", opt_named_only);
  const auto wrap = bool_opt("wrap", "wrap xpath results in an common root element");
  return {
      "Domain Management",
      "domain",
      {
          {"autostart",
           "autostart a domain",
           "Configure a domain to be automatically started at boot.",
           {domain_option(), bool_opt("disable", "disable autostarting")},
           cmd_autostart},
          {"create",
           "create a domain from an XML file",
           "Create a domain.",
           {file_option("file containing an XML domain description"),
            bool_opt("console", "attach to console after creation"),
            bool_opt("paused", "leave the guest paused after creation"),
            bool_opt("autodestroy", "automatically destroy the guest when virsh disconnects"),
            string_opt("pass-fds", "pass file descriptors N,M,... to the guest"),
            bool_opt("validate", "validate the XML against the schema"),
            bool_opt("reset-nvram", "re-initialize NVRAM from its pristine template")},
           cmd_create},
          {"define",
           "define (but don't start) a domain from an XML file",
           "Define a domain.",
           {file_option("file containing an XML domain description"),
            bool_opt("validate", "validate the XML against the schema")},
           cmd_define},
          {"destroy",
           "destroy (stop) a domain",
           "Forcefully stop a given domain, but leave its resources intact.",
           {domain_option(), bool_opt("graceful", "terminate gracefully"),
            bool_opt("remove-logs", "remove domain logs")},
           cmd_destroy},
          {"domid",
           "convert a domain name or UUID to domain id",
           "",
           {domain_option("domain name or uuid")},
           cmd_domid},
          {"domname",
           "convert a domain id or UUID to domain name",
           "",
           {domain_option("domain id or uuid")},
           cmd_domname},
          {"domuuid",
           "convert a domain name or id to domain UUID",
           "",
           {domain_option("domain id or name")},
           cmd_domuuid},
          {"dumpxml",
           "domain information in XML",
           "Output the domain information as an XML dump to stdout.",
           {domain_option(), bool_opt("inactive", "show inactive defined XML"),
            bool_opt("security-info", "include security sensitive information in XML dump"),
            bool_opt("update-cpu", "update guest CPU according to host CPU"),
            bool_opt("migratable", "provide XML suitable for migrations"), xpath, wrap},
           cmd_dumpxml},
          {"reboot",
           "reboot a domain",
           "Run a reboot command in the target domain.",
           {domain_option(), mode},
           cmd_reboot},
          {"reset",
           "reset a domain",
           "Reset the target domain as if by power button",
           {domain_option()},
           cmd_reset},
          {"resume",
           "resume a domain",
           "Resume a previously suspended domain.",
           {domain_option()},
           cmd_resume},
          {"setmaxmem",
           "change maximum memory limit",
           "Change the maximum memory allocation limit in the guest domain.",
           {domain_option(),
            {"size", opt_type::integer, opt_required,
             "new maximum memory size, as scaled integer (default KiB)"},
            config,
            live,
            current},
           cmd_setmaxmem},
          {"setmem",
           "change memory allocation",
           "Change the current memory allocation in the guest domain.",
           {domain_option(),
            {"size", opt_type::integer, opt_required,
             "new memory size, as scaled integer (default KiB)"},
            config,
            live,
            current},
           cmd_setmem},
          {"setvcpus",
           "change number of virtual CPUs",
           "Change the number of virtual CPUs in the guest domain.",
           {domain_option(),
            {"count", opt_type::integer, opt_required, "number of virtual CPUs"},
            bool_opt("maximum", "set maximum limit on next boot"),
            config,
            live,
            current,
            bool_opt("guest", "modify cpu state in the guest"),
            bool_opt("hotpluggable", "make added vcpus hot(un)pluggable")},
           cmd_setvcpus},
          {"shutdown",
           "gracefully shutdown a domain",
           "Run shutdown in the target domain.",
           {domain_option(), mode},
           cmd_shutdown},
          {"start",
           "start a (previously defined) inactive domain",
           "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no "
           "managedsave state\n    is present.",
           {domain_option("name of the inactive domain"),
            bool_opt("console", "attach to console after creation"),
            bool_opt("paused", "leave the guest paused after creation"),
            bool_opt("autodestroy", "automatically destroy the guest when virsh disconnects"),
            bool_opt("bypass-cache", "avoid file system cache when loading"),
            bool_opt("force-boot", "force fresh boot by discarding any managed save"),
            string_opt("pass-fds", "pass file descriptors N,M,... to the guest"),
            bool_opt("reset-nvram", "re-initialize NVRAM from its pristine template")},
           cmd_start},
          {"suspend",
           "suspend a domain",
           "Suspend a running domain.",
           {domain_option()},
           cmd_suspend},
          {"undefine",
           "undefine a domain",
           "Undefine an inactive domain, or convert persistent to transient.",
           {domain_option(), bool_opt("managed-save", "remove domain managed state file"),
            string_opt("storage", "remove associated storage volumes (comma separated list of "
                                  "targets or source paths) (see domblklist)"),
            bool_opt("remove-all-storage",
                     "remove all associated storage volumes (use with caution)"),
            bool_opt(
                "delete-storage-volume-snapshots",
                "delete snapshots associated with volume(s), requires --remove-all-storage (must "
                "be supported by storage driver)"),
            bool_opt("wipe-storage", "wipe data on the removed volumes"),
            bool_opt("snapshots-metadata",
                     "remove all domain snapshot metadata (vm must be inactive)"),
            bool_opt("checkpoints-metadata",
                     "remove all domain checkpoint metadata (vm must be inactive)"),
            bool_opt("nvram", "remove nvram file"), bool_opt("keep-nvram", "keep nvram file"),
            bool_opt("tpm", "remove TPM state"), bool_opt("keep-tpm", "keep TPM state")},
           cmd_undefine},
      },
  };
}

} // namespace virtactor::client::shell
