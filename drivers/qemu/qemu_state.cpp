#include "drivers/qemu/qemu_state.hpp"

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "drivers/conf/errors.hpp"
#include "drivers/conf/list_helpers.hpp"
#include "drivers/qemu/capabilities.hpp"
#include "drivers/qemu/status.hpp"
#include "drivers/xml/uuid.hpp"
#include "drivers/xml/xml_util.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::qemu {

namespace rt = virtactor::qemu;
using conf::domain_object;
using protocol::proc;

namespace {

/// The libvirt release whose protocol and behaviour virtactor follows.
constexpr uint64_t library_version = 9'000'000;

// virDrvFeature values the qemu driver answers with 1 (a subset).
constexpr int32_t feature_typed_param_string = 9;

virt_error no_support(int32_t number) {
  return conf::errors::unsupported_procedure(number);
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// A `Key: value` line of /proc/meminfo, in KiB.
uint64_t meminfo_kib(const std::string& key) {
  std::istringstream in{read_file("/proc/meminfo")};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::stoull(line.substr(key.size() + 1));
  return 0;
}

/// The host's CPU frequency in MHz from /proc/cpuinfo (0 if unknown).
int32_t cpu_mhz() {
  std::istringstream in{read_file("/proc/cpuinfo")};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("cpu MHz", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos)
        return static_cast<int32_t>(std::stod(line.substr(colon + 1)));
    }
  return 0;
}

std::string host_arch() {
  utsname u{};
  ::uname(&u);
  return u.machine;
}

} // namespace

qemu_state::qemu_state(std::shared_ptr<driver_context> ctx) : ctx_(std::move(ctx)) {}

const conf::driver_traits& qemu_state::traits() const {
  return ctx_->traits;
}

std::unique_ptr<conf::domain_backend> qemu_state::make_backend() {
  return make_domain_backend(ctx_);
}

result<xml::domain_def> qemu_state::parse_for_define(std::string_view xml, uint32_t flags) {
  constexpr uint32_t validate = 1; // VIR_DOMAIN_DEFINE_VALIDATE
  if (!conf::errors::flags_ok(flags, validate))
    return conf::errors::unsupported_flags(flags & ~validate, "qemuDomainDefineXMLFlags",
                                           error_domain::qemu);
  return parse_domain(xml, ctx_->facts);
}

result<xml::domain_def> qemu_state::parse_for_create(std::string_view xml, uint32_t flags) {
  constexpr uint32_t allowed = 1 | 16; // START_PAUSED | START_VALIDATE
  if (!conf::errors::flags_ok(flags, allowed))
    return conf::errors::unsupported_flags(flags & ~allowed, "qemuDomainCreateXML",
                                           error_domain::qemu);
  return parse_domain(xml, ctx_->facts);
}

std::vector<std::unique_ptr<domain_object>> qemu_state::take_initial_domains() {
  std::vector<std::unique_ptr<domain_object>> out;
  std::map<std::string, xml::domain_def> configs;
  if (auto names = ctx_->configs->list(".xml")) {
    for (auto& file : *names) {
      auto text = ctx_->configs->load(file);
      if (!text || !*text)
        continue;
      auto def = parse_domain(**text, ctx_->facts);
      if (!def) {
        warnings_.push_back("cannot load definition " + file + ": " + def.error().message);
        continue;
      }
      configs.emplace(def->name, std::move(*def));
    }
  }
  // Running domains first (their status files), then the inactive rest.
  if (auto names = ctx_->statuses->list(".xml")) {
    for (auto& file : *names) {
      auto text = ctx_->statuses->load(file);
      if (!text || !*text)
        continue;
      auto st = parse_status(**text);
      auto started = st ? parse_domain(st->definition, ctx_->facts)
                        : result<xml::domain_def>{st.error()};
      if (!st || !started) {
        warnings_.push_back("cannot load status " + file);
        (void) ctx_->statuses->remove(file);
        continue;
      }
      start_facts facts;
      facts.resource_partition = ctx_->cfg.privileged ? "/machine" : "";
      facts.seclabel = ctx_->seclabel;
      auto live = live_definition(*started, facts);
      set_chardev_paths(live, st->chardevs);
      for (size_t i = 0; i < live.devices.graphics.size() && i < st->graphics_ports.size(); ++i)
        live.devices.graphics[i].port = st->graphics_ports[i];
      if (st->balloon_kib > 0)
        live.memory.current_kib = st->balloon_kib;
      std::unique_ptr<domain_object> obj;
      auto config = configs.find(live.name);
      if (st->persistent && config != configs.end()) {
        obj = std::make_unique<domain_object>(std::move(config->second),
                                              domain_object::origin::started, st->id);
        configs.erase(config);
      } else {
        obj = std::make_unique<domain_object>(*started, domain_object::origin::created, st->id);
      }
      obj->live = std::move(live);
      obj->set_state(static_cast<conf::domain_state>(st->state), st->reason);
      out.push_back(std::move(obj));
    }
  }
  for (auto& [name, def] : configs)
    out.push_back(std::make_unique<domain_object>(std::move(def),
                                                  domain_object::origin::defined, -1));
  for (auto& obj : out) {
    struct stat sb{};
    auto link = ctx_->cfg.config_dir + "/autostart/" + obj->name + ".xml";
    obj->autostart = obj->persistent && ::lstat(link.c_str(), &sb) == 0;
  }
  return out;
}

result<xdr::buffer> qemu_state::call(int32_t number, const std::any& args, conf::call_context&) {
  using conf::handle;
  switch (static_cast<proc>(number)) {
    case proc::connect_get_type:
      return handle<proc::connect_get_type>(
        args, [](auto&) -> result<protocol::connect_get_type_ret> {
          return protocol::connect_get_type_ret{"QEMU"};
        });
    case proc::connect_get_version:
      return handle<proc::connect_get_version>(
        args, [this](auto&) -> result<protocol::connect_get_version_ret> {
          return protocol::connect_get_version_ret{ctx_->qemu_version};
        });
    case proc::connect_get_lib_version:
      return handle<proc::connect_get_lib_version>(
        args, [](auto&) -> result<protocol::connect_get_lib_version_ret> {
          return protocol::connect_get_lib_version_ret{library_version};
        });
    case proc::connect_get_hostname:
      return handle<proc::connect_get_hostname>(
        args, [](auto&) -> result<protocol::connect_get_hostname_ret> {
          char name[256] = {};
          ::gethostname(name, sizeof name - 1);
          return protocol::connect_get_hostname_ret{name};
        });
    case proc::connect_get_max_vcpus:
      return handle<proc::connect_get_max_vcpus>(
        args, [](auto& a) -> result<protocol::connect_get_max_vcpus_ret> {
          // qemuConnectGetMaxVcpus: 16 for TCG ("qemu" or none).
          if (a.type && !a.type->empty() && *a.type != "qemu" && *a.type != "QEMU")
            return make_virt_error(error_code::invalid_arg, error_domain::qemu,
                                   "invalid argument: unknown type '" + *a.type + "'");
          return protocol::connect_get_max_vcpus_ret{16};
        });
    case proc::node_get_info:
      return handle<proc::node_get_info>(args, [](auto&) -> result<protocol::node_get_info_ret> {
        protocol::node_get_info_ret r;
        r.model = host_arch();
        r.memory = meminfo_kib("MemTotal");
        r.cpus = static_cast<int32_t>(::sysconf(_SC_NPROCESSORS_ONLN));
        r.mhz = cpu_mhz();
        r.nodes = 1;
        r.sockets = 1;
        r.cores = r.cpus;
        r.threads = 1;
        return r;
      });
    case proc::node_get_free_memory:
      return handle<proc::node_get_free_memory>(
        args, [](auto&) -> result<protocol::node_get_free_memory_ret> {
          return protocol::node_get_free_memory_ret{meminfo_kib("MemFree") * 1024};
        });
    case proc::connect_get_capabilities:
      return handle<proc::connect_get_capabilities>(
        args, [this](auto&) -> result<protocol::connect_get_capabilities_ret> {
          return protocol::connect_get_capabilities_ret{capabilities_xml()};
        });
    case proc::node_get_security_model:
      return handle<proc::node_get_security_model>(
        args, [this](auto&) -> result<protocol::node_get_security_model_ret> {
          protocol::node_get_security_model_ret r;
          r.model = ctx_->seclabel.model;
          r.doi = "0";
          return r;
        });
    case proc::connect_supports_feature:
      return handle<proc::connect_supports_feature>(
        args, [](auto& a) -> result<protocol::connect_supports_feature_ret> {
          return protocol::connect_supports_feature_ret{a.feature == feature_typed_param_string};
        });
    case proc::connect_is_secure:
      return handle<proc::connect_is_secure>(
        args, [](auto&) -> result<protocol::connect_is_secure_ret> {
          return protocol::connect_is_secure_ret{1};
        });
    default:
      return no_support(number);
  }
}

std::string qemu_state::capabilities_xml() const {
  auto arch = host_arch();
  std::string x = "<capabilities>\n\n  <host>\n";
  x += "    <cpu>\n      <arch>" + arch + "</arch>\n    </cpu>\n";
  x += "    <secmodel>\n      <model>" + ctx_->seclabel.model + "</model>\n      <doi>0</doi>\n"
       "    </secmodel>\n";
  x += "  </host>\n\n  <guest>\n    <os_type>hvm</os_type>\n";
  x += "    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n";
  x += "      <emulator>" + xml::escape(ctx_->facts.path) + "</emulator>\n";
  for (auto& m : ctx_->facts.machines) {
    if (!m.alias.empty())
      x += "      <machine canonical='" + m.name + "' maxCpus='255'>" + m.alias + "</machine>\n";
    x += "      <machine maxCpus='255'>" + m.name + "</machine>\n";
  }
  x += "      <domain type='qemu'/>\n";
  if (ctx_->facts.kvm)
    x += "      <domain type='kvm'/>\n";
  x += "    </arch>\n    <features>\n      <acpi default='on' toggle='yes'/>\n"
       "      <apic default='on' toggle='no'/>\n    </features>\n  </guest>\n\n"
       "</capabilities>\n";
  return x;
}

} // namespace virtactor::drivers::qemu
