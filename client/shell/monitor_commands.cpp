/// Domain monitoring commands: list, dominfo, domstate, domstats.
#include "client/shell/commands.hpp"

#include <algorithm>
#include <climits>
#include <strings.h>

#include "client/shell/shell.hpp"
#include "client/shell/table.hpp"
#include "client/shell/xml_dump.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

/// `virConnectListAllDomainsFlags`.
enum list_flag : uint32_t {
  list_active = 1,
  list_inactive = 2,
  list_persistent = 4,
  list_transient = 8,
  list_running = 16,
  list_paused = 32,
  list_shutoff = 64,
  list_other = 128,
  list_managedsave = 256,
  list_no_managedsave = 512,
  list_autostart = 1024,
  list_no_autostart = 2048,
  list_has_snapshot = 4096,
  list_no_snapshot = 8192,
  list_has_checkpoint = 16384,
  list_no_checkpoint = 32768,
};

constexpr int state_shutoff = 5;

/// virsh's order: running domains by id, then inactive ones by name
/// (case-insensitive).
bool domain_before(const protocol::nonnull_domain& a, const protocol::nonnull_domain& b) {
  bool a_active = a.id != -1;
  bool b_active = b.id != -1;
  if (!a_active && !b_active)
    return ::strcasecmp(a.name.c_str(), b.name.c_str()) < 0;
  if (a_active && b_active)
    return static_cast<uint32_t>(a.id) < static_cast<uint32_t>(b.id);
  return a_active;
}

/// The domain's <title>, from its XML (virsh falls back to the XML when the
/// metadata API is missing, and virtactor has no metadata API).
std::optional<std::string> domain_title(shell& sh, const protocol::nonnull_domain& dom) {
  pugi::xml_document doc;
  if (!load_domain_xml(sh, dom, doc))
    return std::nullopt;
  return std::string{doc.child("domain").child("title").text().get()};
}

bool cmd_list(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool managed = cmd.has("managed-save");
  bool opt_title = cmd.has("title");
  bool opt_table = cmd.has("table");
  bool opt_uuid = cmd.has("uuid");
  bool opt_name = cmd.has("name");
  bool opt_id = cmd.has("id");
  uint32_t flags = list_active;
  if (cmd.has("inactive") || cmd.has("state-shutoff"))
    flags = list_inactive;
  if (cmd.has("all"))
    flags = list_inactive | list_active;
  flags |= option_bits(cmd, {{"persistent", list_persistent},
                             {"transient", list_transient},
                             {"with-managed-save", list_managedsave},
                             {"without-managed-save", list_no_managedsave},
                             {"autostart", list_autostart},
                             {"no-autostart", list_no_autostart},
                             {"with-snapshot", list_has_snapshot},
                             {"without-snapshot", list_no_snapshot},
                             {"with-checkpoint", list_has_checkpoint},
                             {"without-checkpoint", list_no_checkpoint},
                             {"state-running", list_running},
                             {"state-paused", list_paused},
                             {"state-shutoff", list_shutoff},
                             {"state-other", list_other}});
  if (!exclusive(out, cmd, "table", "name") || !exclusive(out, cmd, "table", "uuid") ||
      !exclusive(out, cmd, "table", "id"))
    return false;
  if (!opt_uuid && !opt_name && !opt_id)
    opt_table = true;

  auto r = sh.call<proc::connect_list_all_domains>({1, flags});
  if (!r) {
    out.error("Failed to list domains");
    return false;
  }
  std::vector<protocol::nonnull_domain> doms(r->domains.begin(), r->domains.end());
  std::stable_sort(doms.begin(), doms.end(), domain_before);

  std::optional<table> tab;
  if (opt_table) {
    if (opt_title)
      tab.emplace(std::vector<std::string>{"Id", "Name", "State", "Title"});
    else
      tab.emplace(std::vector<std::string>{"Id", "Name", "State"});
  }
  std::string text;
  for (const auto& dom : doms) {
    std::string id = dom.id != -1 ? format("%d", dom.id) : "-";
    if (opt_table) {
      int state = sh.domain_state(dom);
      if (state < 0)
        continue; // gone in the meantime
      std::string state_text = domain_state_name(state);
      if (managed && state == state_shutoff) {
        auto saved = sh.call<proc::domain_has_managed_save_image>({dom, 0});
        if (saved && saved->value > 0)
          state_text = "saved";
      }
      if (opt_title) {
        auto title = domain_title(sh, dom);
        if (!title)
          return false;
        tab->add_row({id, dom.name, state_text, *title});
      } else {
        tab->add_row({id, dom.name, state_text});
      }
      continue;
    }
    const char* sep = "";
    if (opt_uuid) {
      text += format_uuid(dom.uuid);
      sep = " ";
    }
    if (opt_id) {
      // IDs alone are printed for running domains only.
      if (dom.id == -1 && !opt_uuid && !opt_name)
        continue;
      text += sep + id;
      sep = " ";
    }
    if (opt_name)
      text += sep + dom.name;
    text += "\n";
  }
  sh.reset_error();
  if (opt_table)
    out.print(tab->render(!out.quiet()));
  else
    out.print(text);
  return true;
}

bool cmd_dominfo(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  auto& out = sh.out();
  bool ret = true;
  auto line = [&](const char* label, const std::string& value) {
    out.print(format("%-15s %s\n", label, value.c_str()));
  };
  line("Id:", dom->id == -1 ? "-" : format("%d", dom->id));
  line("Name:", dom->name);
  line("UUID:", format_uuid(dom->uuid));
  if (auto os = sh.call<proc::domain_get_os_type>({*dom}))
    line("OS Type:", os->type);
  if (auto info = sh.call<proc::domain_get_info>({*dom})) {
    line("State:", domain_state_name(info->state));
    line("CPU(s):", format("%d", info->nr_virt_cpu));
    if (info->cpu_time != 0)
      line("CPU time:", format("%.1lfs", static_cast<double>(info->cpu_time) / 1000000000.0));
    if (info->max_mem != UINT_MAX)
      line("Max memory:", format("%llu KiB", static_cast<unsigned long long>(info->max_mem)));
    else
      line("Max memory:", "no limit");
    line("Used memory:", format("%llu KiB", static_cast<unsigned long long>(info->memory)));
  } else {
    ret = false;
  }
  auto persistent = sh.call<proc::domain_is_persistent>({*dom});
  if (!persistent)
    line("Persistent:", "unknown");
  else
    line("Persistent:", persistent->value ? "yes" : "no");
  if (auto autostart = sh.call<proc::domain_get_autostart>({*dom}))
    line("Autostart:", autostart->value ? "enable" : "disable");
  auto saved = sh.call<proc::domain_has_managed_save_image>({*dom, 0});
  if (!saved)
    line("Managed save:", "unknown");
  else
    line("Managed save:", saved->value ? "yes" : "no");
  auto model = sh.call<proc::node_get_security_model>();
  if (!model) {
    if (sh.error_code_pending() != error_code::no_support)
      return false;
    sh.reset_error();
  } else if (!model->model.empty()) {
    line("Security model:", model->model);
    line("Security DOI:", model->doi);
    auto label = sh.call<proc::domain_get_security_label>({*dom});
    if (!label)
      return false;
    if (!label->label.empty())
      out.print(format("%-15s %s (%s)\n", "Security label:", label->label.c_str(),
                       label->enforcing ? "enforcing" : "permissive"));
  }
  if (auto msgs = sh.call<proc::domain_get_messages>({*dom, 0})) {
    for (size_t i = 0; i < msgs->msgs.size(); ++i)
      line(i == 0 ? "Messages:" : "", msgs->msgs[i]);
  }
  return ret;
}

bool cmd_domstate(shell& sh, const parsed_command& cmd) {
  auto dom = sh.domain_opt(cmd);
  if (!dom)
    return false;
  int reason = -1;
  int state = sh.domain_state(*dom, &reason);
  if (state < 0)
    return false;
  if (cmd.has("reason"))
    sh.out().print(
        format("%s (%s)\n", domain_state_name(state), domain_state_reason(state, reason)));
  else
    sh.out().print(format("%s\n", domain_state_name(state)));
  return true;
}

/// `virDomainStatsTypes`, in virsh's option order.
constexpr std::pair<std::string_view, uint32_t> stats_groups[] = {
    {"state", 1},     {"cpu-total", 2}, {"balloon", 4},  {"vcpu", 8},
    {"interface", 16}, {"block", 32},   {"perf", 64},     {"iothread", 128},
    {"memory", 256},  {"dirtyrate", 512}, {"vm", 1024},
};

/// `virConnectGetAllDomainStatsFlags`.
enum stats_flag : uint32_t {
  stats_nowait = 1u << 29,
  stats_backing = 1u << 30,
  stats_enforce = 1u << 31,
};

/// A parameter's value as virsh prints it (`vshGetTypedParamValue`).
std::string typed_param_text(const protocol::typed_param_value& v) {
  switch (v.discriminant()) {
    case 1:
      return format("%d", std::get<0>(v.value));
    case 2:
      return format("%u", std::get<1>(v.value));
    case 3:
      return format("%lld", static_cast<long long>(std::get<2>(v.value)));
    case 4:
      return format("%llu", static_cast<unsigned long long>(std::get<3>(v.value)));
    case 5:
      return format("%f", std::get<4>(v.value));
    case 6:
      return std::get<5>(v.value) ? "yes" : "no";
    default:
      return std::get<6>(v.value);
  }
}

/// virsh's `domstats`: one GET_ALL_DOMAIN_STATS call (the domains named, or
/// all), then per record `Domain: 'NAME'` and its `  field=value` lines, a
/// blank line between records. virsh 9.0 ignores --raw (it has no pretty
/// printing to turn off), and so does this.
bool cmd_domstats(shell& sh, const parsed_command& cmd) {
  uint32_t stats = 0;
  for (auto& [name, bit] : stats_groups)
    if (cmd.has(name))
      stats |= bit;
  uint32_t flags = option_bits(cmd, {{"list-active", list_active},
                                     {"list-inactive", list_inactive},
                                     {"list-persistent", list_persistent},
                                     {"list-transient", list_transient},
                                     {"list-running", list_running},
                                     {"list-paused", list_paused},
                                     {"list-shutoff", list_shutoff},
                                     {"list-other", list_other},
                                     {"enforce", stats_enforce},
                                     {"backing", stats_backing},
                                     {"nowait", stats_nowait}});
  protocol::connect_get_all_domain_stats_args args;
  args.stats = stats;
  args.flags = flags;
  for (const auto& name : cmd.argv()) {
    auto dom = sh.lookup_domain(name);
    if (!dom)
      return false;
    args.doms.push_back(*dom);
  }
  auto r = sh.call<proc::connect_get_all_domain_stats>(args);
  if (!r)
    return false;
  auto& out = sh.out();
  for (size_t i = 0; i < r->ret_stats.size(); ++i) {
    const auto& rec = r->ret_stats[i];
    if (i > 0)
      out.print("\n");
    out.print(format("Domain: '%s'\n", rec.dom.name.c_str()));
    for (const auto& p : rec.params)
      out.print(format("  %s=%s\n", p.field.c_str(), typed_param_text(p.value).c_str()));
  }
  return true;
}

} // namespace

option_def domain_option(std::string_view help) {
  return {"domain", opt_type::data, opt_required, help};
}

option_def file_option(std::string_view help) {
  return {"file", opt_type::data, opt_required, help};
}

command_group monitor_commands() {
  auto b = [](std::string_view name, std::string_view help) {
    return option_def{name, opt_type::boolean, 0, help};
  };
  return {
      "Domain Monitoring",
      "monitor",
      {
          {"dominfo",
           "domain information",
           "Returns basic information about the domain.",
           {domain_option()},
           cmd_dominfo},
          {"domstate",
           "domain state",
           "Returns state about a domain.",
           {domain_option(), b("reason", "also print reason for the state")},
           cmd_domstate},
          {"domstats",
           "get statistics about one or multiple domains",
           "Gets statistics about one or more (or all) domains",
           {b("state", "report domain state"),
            b("cpu-total", "report domain physical cpu usage"),
            b("balloon", "report domain balloon statistics"),
            b("vcpu", "report domain virtual cpu information"),
            b("interface", "report domain network interface information"),
            b("block", "report domain block device statistics"),
            b("perf", "report domain perf event statistics"),
            b("iothread", "report domain IOThread information"),
            b("memory", "report domain memory usage"),
            b("dirtyrate", "report domain dirty rate information"),
            b("vm", "report hypervisor-specific statistics"),
            b("list-active", "list only active domains"),
            b("list-inactive", "list only inactive domains"),
            b("list-persistent", "list only persistent domains"),
            b("list-transient", "list only transient domains"),
            b("list-running", "list only running domains"),
            b("list-paused", "list only paused domains"),
            b("list-shutoff", "list only shutoff domains"),
            b("list-other", "list only domains in other states"),
            b("raw", "do not pretty-print the fields"),
            b("enforce", "enforce requested stats parameters"),
            b("backing", "add backing chain information to block stats"),
            b("nowait", "report only stats that are accessible instantly"),
            {"domain", opt_type::argv, 0, "list of domains to get stats for"}},
           cmd_domstats},
          {"list",
           "list domains",
           "Returns list of domains.",
           {b("inactive", "list inactive domains"),
            b("all", "list inactive & active domains"),
            b("transient", "list transient domains"),
            b("persistent", "list persistent domains"),
            b("with-snapshot", "list domains with existing snapshot"),
            b("without-snapshot", "list domains without a snapshot"),
            b("with-checkpoint", "list domains with existing checkpoint"),
            b("without-checkpoint", "list domains without a checkpoint"),
            b("state-running", "list domains in running state"),
            b("state-paused", "list domains in paused state"),
            b("state-shutoff", "list domains in shutoff state"),
            b("state-other", "list domains in other states"),
            b("autostart", "list domains with autostart enabled"),
            b("no-autostart", "list domains with autostart disabled"),
            b("with-managed-save", "list domains with managed save state"),
            b("without-managed-save", "list domains without managed save"),
            b("uuid", "list uuid's only"),
            b("name", "list domain names only"),
            b("id", "list domain IDs only"),
            b("table", "list table (default)"),
            b("managed-save", "mark inactive domains with managed save state"),
            b("title", "show domain title")},
           cmd_list},
      },
  };
}

} // namespace virtactor::client::shell
