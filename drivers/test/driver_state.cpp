#include "drivers/test/driver_state.hpp"

#include <algorithm>
#include <string>

#include "drivers/test/dispatch.hpp"
#include "drivers/test/domain_checks.hpp"
#include "drivers/test/domain_setup.hpp"
#include "drivers/test/errors.hpp"
#include "drivers/test/networks.hpp"
#include "drivers/test/node.hpp"
#include "drivers/test/node_file.hpp"
#include "drivers/test/storage.hpp"
#include "drivers/xml/uuid.hpp"

namespace virtactor::drivers::test {

using protocol::proc;

namespace {

// VIR_CONNECT_LIST_DOMAINS_*
constexpr uint32_t list_active = 1;
constexpr uint32_t list_inactive = 2;
constexpr uint32_t list_persistent = 4;
constexpr uint32_t list_transient = 8;
constexpr uint32_t list_running = 16;
constexpr uint32_t list_paused = 32;
constexpr uint32_t list_shutoff = 64;
constexpr uint32_t list_other = 128;
constexpr uint32_t list_managedsave = 256;
constexpr uint32_t list_no_managedsave = 512;
constexpr uint32_t list_autostart = 1024;
constexpr uint32_t list_no_autostart = 2048;
constexpr uint32_t list_has_snapshot = 4096;
constexpr uint32_t list_no_snapshot = 8192;
constexpr uint32_t list_has_checkpoint = 16384;
constexpr uint32_t list_no_checkpoint = 32768;
constexpr uint32_t list_all = 0xffff;

// virDrvFeature values the test driver answers with 1.
constexpr int32_t feature_typed_param_string = 9;
constexpr int32_t feature_network_update_has_correct_order = 16;

constexpr int32_t started_booted = 0;
constexpr int32_t defined_added = 0;

bool state_listed(uint32_t flags, const domain_summary& s) {
  constexpr uint32_t states = list_running | list_paused | list_shutoff | list_other;
  if ((flags & states) == 0)
    return true;
  auto st = static_cast<domain_state>(s.state);
  bool other = st != domain_state::running && st != domain_state::paused &&
               st != domain_state::shutoff;
  return ((flags & list_running) && st == domain_state::running) ||
         ((flags & list_paused) && st == domain_state::paused) ||
         ((flags & list_shutoff) && st == domain_state::shutoff) ||
         ((flags & list_other) && other);
}

/// `virDomainObjMatchFilter`.
bool domain_listed(uint32_t flags, const domain_summary& s) {
  return group_match(flags, list_active, list_inactive, s.active) &&
         group_match(flags, list_persistent, list_transient, s.persistent) &&
         state_listed(flags, s) &&
         group_match(flags, list_managedsave, list_no_managedsave, s.has_managed_save) &&
         group_match(flags, list_autostart, list_no_autostart, s.autostart) &&
         group_match(flags, list_has_snapshot, list_no_snapshot, s.snapshot_count > 0) &&
         group_match(flags, list_has_checkpoint, list_no_checkpoint, false);
}

} // namespace

struct driver_state::impl {
  std::string uri_path;
  node_description node;
  /// The domain index, in the order the domains were added.
  std::vector<domain_summary> domains;
  std::vector<std::unique_ptr<domain_object>> initial;
  network_set networks;
  pool_set pools;

  domain_summary* find_uuid(const xdr::uuid& uuid) {
    auto it = std::find_if(domains.begin(), domains.end(),
                           [&](const domain_summary& s) { return s.dom.uuid == uuid; });
    return it == domains.end() ? nullptr : &*it;
  }

  domain_summary* find_name(const std::string& name) {
    auto it = std::find_if(domains.begin(), domains.end(),
                           [&](const domain_summary& s) { return s.dom.name == name; });
    return it == domains.end() ? nullptr : &*it;
  }

  domain_summary* find_id(int32_t id) {
    auto it = std::find_if(domains.begin(), domains.end(),
                           [&](const domain_summary& s) { return s.active && s.dom.id == id; });
    return it == domains.end() ? nullptr : &*it;
  }

  /// The name/uuid rules of `virDomainObjListAdd` for a definition that
  /// names `def`: an error, the uuid of the existing domain it names, or
  /// nothing for a new domain.
  result<std::optional<xdr::uuid>> existing(const xml::domain_def& def) {
    if (auto s = find_uuid(def.uuid)) {
      if (s->dom.name != def.name)
        return errors::operation_failed("domain '" + s->dom.name +
                                          "' is already defined with uuid " +
                                          xml::format_uuid(s->dom.uuid),
                                        error_domain::domain);
      return std::optional<xdr::uuid>{s->dom.uuid};
    }
    if (auto s = find_name(def.name))
      return errors::operation_failed("domain '" + def.name + "' already exists with uuid " +
                                        xml::format_uuid(s->dom.uuid),
                                      error_domain::domain);
    return std::optional<xdr::uuid>{};
  }

  /// Adds a new domain object to the index and returns its handle.
  protocol::nonnull_domain adopt(std::unique_ptr<domain_object>& obj) {
    auto s = obj->summary();
    domains.push_back(s);
    return s.dom;
  }

  result<void> load(node_config cfg) {
    node = std::move(cfg.node);
    int32_t next_id = 1;
    constexpr int32_t shutoff = static_cast<int32_t>(domain_state::shutoff);
    for (auto& d : cfg.domains) {
      auto where = existing(d.def);
      if (!where)
        return where.error();
      if (*where) {
        // A second definition of the same domain replaces the first.
        auto it = std::find_if(initial.begin(), initial.end(), [&](auto& o) {
          return o->summary().dom.uuid == **where;
        });
        domains.erase(std::find_if(domains.begin(), domains.end(), [&](auto& s) {
          return s.dom.uuid == **where;
        }));
        initial.erase(it);
      }
      std::unique_ptr<domain_object> obj;
      if (d.runstate == shutoff)
        obj = std::make_unique<domain_object>(std::move(d.def), domain_object::origin::defined, -1);
      else
        obj = std::make_unique<domain_object>(std::move(d.def),
                                              d.transient ? domain_object::origin::created
                                                          : domain_object::origin::started,
                                              next_id++);
      obj->set_initial_state(d.runstate, 0, d.has_managed_save);
      adopt(obj);
      initial.push_back(std::move(obj));
    }
    for (auto& n : cfg.networks)
      if (auto ok = networks.add_from_node(std::move(n)); !ok)
        return ok;
    for (auto& p : cfg.pools)
      if (auto ok = pools.add_from_node(std::move(p.def), std::move(p.volumes)); !ok)
        return ok;
    return {};
  }

  result<outcome> define_or_create(int32_t number, const xdr::buffer& args, call_context& ctx);
  result<xdr::buffer> domain_lists(int32_t number, const xdr::buffer& args);
  result<xdr::buffer> host(int32_t number, const xdr::buffer& args);
};

driver_state::driver_state() : impl_(std::make_unique<impl>()) {}

driver_state::~driver_state() = default;

result<std::unique_ptr<driver_state>> driver_state::open(std::string_view uri_path,
                                                        const file_access* files) {
  if (uri_path.empty() || uri_path == "/")
    return errors::invalid_arg("testOpen: supply a path or use test:///default");
  auto cfg = uri_path == "/default" ? default_node_config()
                                    : load_node_file(std::string{uri_path}, files);
  if (!cfg)
    return cfg.error();
  std::unique_ptr<driver_state> st{new driver_state};
  st->impl_->uri_path = std::string{uri_path};
  if (auto ok = st->impl_->load(std::move(*cfg)); !ok)
    return ok.error();
  return st;
}

std::vector<std::unique_ptr<domain_object>> driver_state::take_initial_domains() {
  return std::move(impl_->initial);
}

void driver_state::update(const domain_summary& s) {
  auto& list = impl_->domains;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const domain_summary& x) { return x.dom.uuid == s.dom.uuid; });
  if (s.removed) {
    if (it != list.end())
      list.erase(it);
    return;
  }
  if (it != list.end())
    *it = s;
  else
    list.push_back(s);
}

bool driver_state::is_domain_proc(int32_t proc) {
  return is_domain_proc_number(proc);
}

virt_error driver_state::no_domain_error(const protocol::nonnull_domain& dom) const {
  return errors::no_domain_uuid(dom.uuid, dom.name);
}

virt_error driver_state::no_domain_error(int32_t proc, const xdr::buffer& args,
                                         const call_context& ctx) const {
  if (auto ok = check_domain_call(proc, args, ctx.read_only); !ok)
    return ok.error();
  protocol::nonnull_domain dom;
  if (!xdr::decode(args, dom).empty())
    return errors::decode_failed();
  return no_domain_error(dom);
}

virt_error driver_state::unsupported_error(int32_t proc) {
  return errors::unsupported_procedure(proc);
}

const node_description& driver_state::node() const {
  return impl_->node;
}

result<outcome> driver_state::impl::define_or_create(int32_t number, const xdr::buffer& args,
                                                     call_context& ctx) {
  std::string text;
  uint32_t flags = 0;
  bool create = number == static_cast<int32_t>(proc::domain_create_xml);
  bool decoded = true;
  if (create) {
    protocol::domain_create_xml_args a;
    decoded = xdr::decode(args, a).empty();
    text = std::move(a.xml_desc);
    flags = a.flags;
  } else if (number == static_cast<int32_t>(proc::domain_define_xml)) {
    protocol::xml_args a;
    decoded = xdr::decode(args, a).empty();
    text = std::move(a.xml);
  } else {
    protocol::xml_flags_args a;
    decoded = xdr::decode(args, a).empty();
    text = std::move(a.xml);
    flags = a.flags;
  }
  if (!decoded)
    return errors::decode_failed();
  auto def = create ? parse_for_create(text, flags) : parse_for_define(text, flags);
  if (!def)
    return def.error();
  auto where = existing(*def);
  if (!where)
    return where.error();
  outcome out;
  if (*where) {
    out.forward_to = **where;
    return out;
  }
  std::unique_ptr<domain_object> obj;
  if (create) {
    if (!ctx.next_domain_id)
      return errors::internal("no domain id allocator for this call");
    obj = std::make_unique<domain_object>(std::move(*def), domain_object::origin::created,
                                          ctx.next_domain_id());
  } else {
    obj = std::make_unique<domain_object>(std::move(*def), domain_object::origin::defined, -1);
  }
  auto dom = adopt(obj);
  if (create)
    ctx.lifecycle(dom, lifecycle_event::started, started_booted);
  else
    ctx.lifecycle(dom, lifecycle_event::defined, defined_added);
  out.reply = xdr::encode(protocol::dom_only{dom});
  out.created = std::move(obj);
  return out;
}

result<xdr::buffer> driver_state::impl::domain_lists(int32_t number, const xdr::buffer& args) {
  auto found = [](domain_summary* s) -> result<protocol::dom_only> {
    if (!s)
      return errors::no_domain();
    return protocol::dom_only{s->dom};
  };
  auto count = [&](bool active) -> result<protocol::num_ret> {
    return count_by_state(domains, active);
  };
  switch (static_cast<proc>(number)) {
    case proc::domain_lookup_by_id:
      return handle<proc::domain_lookup_by_id>(args, [&](auto& a) { return found(find_id(a.id)); });
    case proc::domain_lookup_by_name:
      return handle<proc::domain_lookup_by_name>(args,
                                                 [&](auto& a) { return found(find_name(a.name)); });
    case proc::domain_lookup_by_uuid:
      return handle<proc::domain_lookup_by_uuid>(args,
                                                 [&](auto& a) { return found(find_uuid(a.uuid)); });
    case proc::connect_num_of_domains:
      return handle<proc::connect_num_of_domains>(args, [&](auto&) { return count(true); });
    case proc::connect_num_of_defined_domains:
      return handle<proc::connect_num_of_defined_domains>(args,
                                                          [&](auto&) { return count(false); });
    case proc::connect_list_domains:
      return handle<proc::connect_list_domains>(
        args, [&](auto& a) -> result<protocol::connect_list_domains_ret> {
          if (auto ok = check_maxnames(a.maxids, list_bound{protocol::domain_list_max,
                                                            "REMOTE_DOMAIN_LIST_MAX", "maxids",
                                                            "virConnectListDomains",
                                                            error_domain::domain});
              !ok)
            return ok.error();
          protocol::connect_list_domains_ret r;
          r.ids = first_n<decltype(r.ids)>(
            domains, a.maxids, [](auto& s) { return s.active; },
            [](const domain_summary& s) { return s.dom.id; });
          return r;
        });
    case proc::connect_list_defined_domains:
      return handle<proc::connect_list_defined_domains>(
        args, [&](auto& a) -> result<protocol::connect_list_defined_domains_ret> {
          if (auto ok = check_maxnames(a.maxnames, list_bound{protocol::domain_list_max,
                                                              "REMOTE_DOMAIN_LIST_MAX", "maxnames",
                                                              "virConnectListDefinedDomains",
                                                              error_domain::domain});
              !ok)
            return ok.error();
          protocol::connect_list_defined_domains_ret r;
          r.names = first_n<decltype(r.names)>(
            domains, a.maxnames, [](auto& s) { return !s.active; },
            [](const domain_summary& s) { return s.dom.name; });
          return r;
        });
    case proc::connect_list_all_domains:
      return handle<proc::connect_list_all_domains>(
        args, [&](auto& a) -> result<protocol::connect_list_all_domains_ret> {
          if (!errors::flags_ok(a.flags, list_all))
            return errors::unsupported_flags(a.flags & ~list_all, "testConnectListAllDomains");
          protocol::connect_list_all_domains_ret r;
          for (auto& s : domains) {
            if (!domain_listed(a.flags, s))
              continue;
            ++r.ret;
            if (a.need_results)
              r.domains.push_back(s.dom);
          }
          return r;
        });
    default:
      return errors::unsupported_procedure(number);
  }
}

result<xdr::buffer> driver_state::impl::host(int32_t number, const xdr::buffer& args) {
  switch (static_cast<proc>(number)) {
    case proc::connect_get_type:
      return handle<proc::connect_get_type>(args, [](auto&) -> result<protocol::connect_get_type_ret> {
        return protocol::connect_get_type_ret{driver_type};
      });
    case proc::connect_get_version:
      return handle<proc::connect_get_version>(
        args, [](auto&) -> result<protocol::connect_get_version_ret> {
          return protocol::connect_get_version_ret{hypervisor_version};
        });
    case proc::connect_get_lib_version:
      return handle<proc::connect_get_lib_version>(
        args, [](auto&) -> result<protocol::connect_get_lib_version_ret> {
          return protocol::connect_get_lib_version_ret{library_version};
        });
    case proc::connect_get_max_vcpus:
      return handle<proc::connect_get_max_vcpus>(
        args, [](auto&) -> result<protocol::connect_get_max_vcpus_ret> {
          return protocol::connect_get_max_vcpus_ret{max_vcpus};
        });
    case proc::node_get_info:
      return handle<proc::node_get_info>(args, [&](auto&) -> result<protocol::node_get_info_ret> {
        auto& i = node.info;
        protocol::node_get_info_ret r;
        r.model = i.model;
        r.memory = i.memory;
        r.cpus = i.cpus;
        r.mhz = i.mhz;
        r.nodes = i.nodes;
        r.sockets = i.sockets;
        r.cores = i.cores;
        r.threads = i.threads;
        return r;
      });
    case proc::connect_get_capabilities:
      return handle<proc::connect_get_capabilities>(
        args, [&](auto&) -> result<protocol::connect_get_capabilities_ret> {
          return protocol::connect_get_capabilities_ret{node.capabilities_xml()};
        });
    case proc::connect_get_hostname:
      return handle<proc::connect_get_hostname>(
        args, [](auto&) -> result<protocol::connect_get_hostname_ret> {
          return protocol::connect_get_hostname_ret{host_name()};
        });
    case proc::connect_get_sysinfo:
      return handle<proc::connect_get_sysinfo>(
        args, [](auto& a) -> result<protocol::connect_get_sysinfo_ret> {
          if (a.flags != 0)
            return errors::unsupported_flags(a.flags, "testConnectGetSysinfo");
          return protocol::connect_get_sysinfo_ret{sysinfo_xml()};
        });
    case proc::node_get_free_memory:
      return handle<proc::node_get_free_memory>(
        args, [&](auto&) -> result<protocol::node_get_free_memory_ret> {
          return protocol::node_get_free_memory_ret{node.free_memory()};
        });
    case proc::node_get_cells_free_memory:
      return handle<proc::node_get_cells_free_memory>(
        args, [&](auto& a) -> result<protocol::node_get_cells_free_memory_ret> {
          if (a.maxcells > static_cast<int32_t>(protocol::node_max_cells))
            return make_virt_error(error_code::rpc, error_domain::rpc,
                                   "maxCells > REMOTE_NODE_MAX_CELLS");
          if (a.maxcells <= 0)
            return make_virt_error(error_code::invalid_arg, error_domain::none,
                                   "maxCells in virNodeGetCellsFreeMemory must be greater than zero");
          auto cells = node.cells_free_memory(a.start_cell, a.maxcells);
          if (!cells)
            return cells.error();
          protocol::node_get_cells_free_memory_ret r;
          r.cells.assign(cells->begin(), cells->end());
          return r;
        });
    case proc::node_get_security_model:
      return handle<proc::node_get_security_model>(
        args, [](auto&) -> result<protocol::node_get_security_model_ret> {
          protocol::node_get_security_model_ret r;
          r.model = security_model;
          r.doi = security_doi;
          return r;
        });
    case proc::connect_supports_feature:
      return handle<proc::connect_supports_feature>(
        args, [](auto& a) -> result<protocol::connect_supports_feature_ret> {
          bool yes = a.feature == feature_typed_param_string ||
                     a.feature == feature_network_update_has_correct_order;
          return protocol::connect_supports_feature_ret{yes ? 1 : 0};
        });
    case proc::connect_is_secure:
      return handle<proc::connect_is_secure>(
        args, [](auto&) -> result<protocol::connect_is_secure_ret> {
          return protocol::connect_is_secure_ret{1};
        });
    case proc::connect_get_uri:
      return handle<proc::connect_get_uri>(args, [&](auto&) -> result<protocol::connect_get_uri_ret> {
        return protocol::connect_get_uri_ret{"test://" + uri_path};
      });
    default:
      return errors::unsupported_procedure(number);
  }
}

result<outcome> driver_state::dispatch(int32_t number, const xdr::buffer& args,
                                       call_context& ctx) {
  auto& m = *impl_;
  auto wrap = [](result<xdr::buffer> r) -> result<outcome> {
    if (!r)
      return r.error();
    outcome out;
    out.reply = std::move(*r);
    return out;
  };
  if (is_domain_proc(number)) {
    // Per-domain calls go to the domain's object; one that reaches us names
    // no domain we know.
    if (auto ok = check_domain_call(number, args, ctx.read_only); !ok)
      return ok.error();
    protocol::nonnull_domain dom;
    (void) xdr::decode(args, dom);
    if (m.find_uuid(dom.uuid))
      return errors::internal("a call on domain '" + dom.name + "' must go to its domain object");
    return no_domain_error(dom);
  }
  switch (static_cast<proc>(number)) {
    case proc::domain_define_xml:
    case proc::domain_define_xml_flags:
    case proc::domain_create_xml:
      return m.define_or_create(number, args, ctx);
    case proc::domain_lookup_by_id:
    case proc::domain_lookup_by_name:
    case proc::domain_lookup_by_uuid:
    case proc::connect_num_of_domains:
    case proc::connect_num_of_defined_domains:
    case proc::connect_list_domains:
    case proc::connect_list_defined_domains:
    case proc::connect_list_all_domains:
      return wrap(m.domain_lists(number, args));
    default:
      break;
  }
  if (network_set::handles(number))
    return wrap(m.networks.dispatch(number, args, ctx));
  if (pool_set::handles(number))
    return wrap(m.pools.dispatch(number, args, ctx));
  return wrap(m.host(number, args));
}

} // namespace virtactor::drivers::test
