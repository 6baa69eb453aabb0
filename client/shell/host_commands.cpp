/// Host and hypervisor commands: uri, hostname, version, nodeinfo,
/// capabilities, sysinfo, freecell, maxvcpus.
#include "client/shell/commands.hpp"

#include <pugixml.hpp>

#include "client/shell/shell.hpp"
#include "client/shell/units.hpp"

namespace virtactor::client::shell {

namespace {

using protocol::proc;

/// The libvirt release whose API and protocol virtactor implements; virsh
/// prints its own library version where we print this.
constexpr unsigned long api_version = 9000000;

std::string version_text(unsigned long long v) {
  return format("%llu.%llu.%llu", v / 1000000, (v / 1000) % 1000, v % 1000);
}

bool cmd_uri(shell& sh, const parsed_command&) {
  auto* conn = sh.connection();
  if (conn == nullptr)
    return false;
  sh.out().print(conn->uri() + "\n");
  return true;
}

bool cmd_hostname(shell& sh, const parsed_command&) {
  auto r = sh.call<proc::connect_get_hostname>();
  if (!r) {
    sh.out().error("failed to get hostname");
    return false;
  }
  sh.out().print(r->hostname + "\n");
  return true;
}

bool cmd_version(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  out.print("Compiled against library: libvirt " + version_text(api_version) + "\n");
  out.print("Using library: libvirt " + version_text(api_version) + "\n");
  auto type = sh.call<proc::connect_get_type>();
  if (!type) {
    out.error("failed to get hypervisor type");
    return false;
  }
  out.print("Using API: " + type->type + " " + version_text(api_version) + "\n");
  auto hv = sh.call<proc::connect_get_version>();
  if (!hv) {
    out.error("failed to get the hypervisor version");
    return false;
  }
  if (hv->hv_ver == 0)
    out.print("Cannot extract running " + type->type + " hypervisor version\n");
  else
    out.print("Running hypervisor: " + type->type + " " + version_text(hv->hv_ver) + "\n");
  if (cmd.has("daemon")) {
    auto lib = sh.call<proc::connect_get_lib_version>();
    if (!lib) {
      out.error("failed to get the daemon version");
      return false;
    }
    out.print("Running against daemon: " + version_text(lib->lib_ver) + "\n");
  }
  return true;
}

bool cmd_nodeinfo(shell& sh, const parsed_command&) {
  auto r = sh.call<proc::node_get_info>();
  if (!r) {
    sh.out().error("failed to get node information");
    return false;
  }
  std::string text;
  text += format("%-20s %s\n", "CPU model:", r->model.c_str());
  text += format("%-20s %d\n", "CPU(s):", r->cpus);
  if (r->mhz != 0)
    text += format("%-20s %d MHz\n", "CPU frequency:", r->mhz);
  text += format("%-20s %d\n", "CPU socket(s):", r->sockets);
  text += format("%-20s %d\n", "Core(s) per socket:", r->cores);
  text += format("%-20s %d\n", "Thread(s) per core:", r->threads);
  text += format("%-20s %d\n", "NUMA cell(s):", r->nodes);
  text += format("%-20s %llu KiB\n", "Memory size:", static_cast<unsigned long long>(r->memory));
  sh.out().print(text);
  return true;
}

bool cmd_capabilities(shell& sh, const parsed_command&) {
  auto r = sh.call<proc::connect_get_capabilities>();
  if (!r) {
    sh.out().error("failed to get capabilities");
    return false;
  }
  sh.out().print(r->capabilities + "\n");
  return true;
}

bool cmd_sysinfo(shell& sh, const parsed_command&) {
  auto r = sh.call<proc::connect_get_sysinfo>({0});
  if (!r) {
    sh.out().error("failed to get sysinfo");
    return false;
  }
  sh.out().print(r->sysinfo);
  return true;
}

bool cmd_freecell(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool all = cmd.has("all");
  int cell = 0;
  int rc = opt_int(out, cmd, "cellno", cell);
  if (rc < 0)
    return false;
  bool cellno = rc > 0;
  if (!exclusive(out, "all", all, "cellno", cellno))
    return false;
  if (all) {
    auto caps = sh.call<proc::connect_get_capabilities>();
    if (!caps) {
      out.error("unable to get node capabilities");
      return false;
    }
    pugi::xml_document doc;
    if (!doc.load_string(caps->capabilities.c_str())) {
      out.error("could not get information about NUMA topology");
      return false;
    }
    std::vector<unsigned long> ids;
    for (auto node : doc.select_nodes("/capabilities/host/topology/cells/cell")) {
      unsigned long long id = 0;
      if (!parse_ulonglong(node.node().attribute("id").value(), id, false)) {
        out.error("conversion from string failed");
        return false;
      }
      ids.push_back(static_cast<unsigned long>(id));
    }
    std::vector<unsigned long long> free_mem;
    for (auto id : ids) {
      auto r = sh.call<proc::node_get_cells_free_memory>({static_cast<int32_t>(id), 1});
      if (!r || r->cells.size() != 1) {
        out.error(format("failed to get free memory for NUMA node number: %lu", id));
        return false;
      }
      free_mem.push_back(r->cells[0]);
    }
    unsigned long long total = 0;
    std::string text;
    for (size_t i = 0; i < ids.size(); ++i) {
      text += format("%5lu: %10llu KiB\n", ids[i], free_mem[i] / 1024);
      total += free_mem[i];
    }
    out.print(text);
    out.print_extra("--------------------\n");
    out.print_extra(format("%5s: %10llu KiB\n", "Total", total / 1024));
    return true;
  }
  if (cellno) {
    if (cell < 0) {
      sh.save_error(make_virt_error(error_code::invalid_arg, error_domain::none,
                                    "startCell in virNodeGetCellsFreeMemory must be zero or "
                                    "greater"));
      return false;
    }
    auto r = sh.call<proc::node_get_cells_free_memory>({cell, 1});
    if (!r || r->cells.size() != 1)
      return false;
    out.print(format("%d: %llu KiB\n", cell, static_cast<unsigned long long>(r->cells[0] / 1024)));
    return true;
  }
  auto r = sh.call<proc::node_get_free_memory>();
  if (!r || r->free_mem == 0)
    return false;
  out.print(format("%s: %llu KiB\n", "Total", static_cast<unsigned long long>(r->free_mem / 1024)));
  return true;
}

bool cmd_maxvcpus(shell& sh, const parsed_command& cmd) {
  std::optional<std::string> type;
  if (opt_string_req(sh.out(), cmd, "type", type) < 0)
    return false;
  auto r = sh.call<proc::connect_get_max_vcpus>({type});
  if (!r)
    return false;
  sh.out().print(format("%d\n", r->max_vcpus));
  return true;
}

} // namespace

command_group host_commands() {
  return {
      "Host and Hypervisor",
      "host",
      {
          {"capabilities",
           "capabilities",
           "Returns capabilities of hypervisor/driver.",
           {},
           cmd_capabilities},
          {"freecell",
           "NUMA free memory",
           "display available free memory for the NUMA cell.",
           {{"cellno", opt_type::integer, 0, "NUMA cell number"},
            {"all", opt_type::boolean, 0, "show free memory for all NUMA cells"}},
           cmd_freecell},
          {"hostname", "print the hypervisor hostname", "", {}, cmd_hostname},
          {"maxvcpus",
           "connection vcpu maximum",
           "Show maximum number of virtual CPUs for guests on this connection.",
           {{"type", opt_type::string, 0, "domain type"}},
           cmd_maxvcpus},
          {"nodeinfo",
           "node information",
           "Returns basic information about the node.",
           {},
           cmd_nodeinfo},
          {"sysinfo",
           "print the hypervisor sysinfo",
           "output an XML string for the hypervisor sysinfo, if available",
           {},
           cmd_sysinfo},
          {"uri", "print the hypervisor canonical URI", "", {}, cmd_uri},
          {"version",
           "show version",
           "Display the system version information.",
           {{"daemon", opt_type::boolean, 0, "report daemon version too"}},
           cmd_version},
      },
  };
}

} // namespace virtactor::client::shell
