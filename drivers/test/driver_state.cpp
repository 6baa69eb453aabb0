#include "drivers/test/driver_state.hpp"

#include <algorithm>
#include <string>

#include "drivers/conf/list_helpers.hpp"
#include "drivers/test/domain_backend.hpp"
#include "drivers/test/domain_setup.hpp"
#include "drivers/test/errors.hpp"
#include "drivers/test/networks.hpp"
#include "drivers/test/node.hpp"
#include "drivers/test/node_file.hpp"
#include "drivers/test/storage.hpp"
#include "drivers/xml/uuid.hpp"

namespace virtactor::drivers::test {

using protocol::proc;
using conf::check_maxnames;
using conf::count_by_state;
using conf::first_n;
using conf::group_match;
using conf::handle;
using conf::list_bound;
using conf::names_by_state;

namespace {

// virDrvFeature values the test driver answers with 1.
constexpr int32_t feature_typed_param_string = 9;
constexpr int32_t feature_network_update_has_correct_order = 16;

} // namespace

struct driver_state::impl {
  std::string uri_path;
  node_description node;
  std::vector<std::unique_ptr<domain_object>> initial;
  network_set networks;
  pool_set pools;

  /// Replaces an earlier domain of the node file with the same uuid, as a
  /// second definition replaces the first; refuses libvirt's clashes.
  result<void> add_initial(std::unique_ptr<domain_object> obj) {
    for (auto it = initial.begin(); it != initial.end(); ++it) {
      auto& o = **it;
      if (o.uuid == obj->uuid) {
        if (o.name != obj->name)
          return errors::operation_failed("domain '" + o.name + "' is already defined with uuid " +
                                            xml::format_uuid(o.uuid),
                                          error_domain::domain);
        initial.erase(it);
        break;
      }
      if (o.name == obj->name)
        return errors::operation_failed("domain '" + obj->name + "' already exists with uuid " +
                                          xml::format_uuid(o.uuid),
                                        error_domain::domain);
    }
    initial.push_back(std::move(obj));
    return {};
  }

  result<void> load(node_config cfg) {
    node = std::move(cfg.node);
    int32_t next_id = 1;
    constexpr int32_t shutoff = static_cast<int32_t>(domain_state::shutoff);
    for (auto& d : cfg.domains) {
      std::unique_ptr<domain_object> obj;
      if (d.runstate == shutoff)
        obj = std::make_unique<domain_object>(std::move(d.def), domain_object::origin::defined, -1);
      else
        obj = std::make_unique<domain_object>(std::move(d.def),
                                              d.transient ? domain_object::origin::created
                                                          : domain_object::origin::started,
                                              next_id++);
      obj->set_state(static_cast<domain_state>(d.runstate), 0);
      obj->managed_save = d.has_managed_save;
      if (auto ok = add_initial(std::move(obj)); !ok)
        return ok;
    }
    for (auto& n : cfg.networks)
      if (auto ok = networks.add_from_node(std::move(n)); !ok)
        return ok;
    for (auto& p : cfg.pools)
      if (auto ok = pools.add_from_node(std::move(p.def), std::move(p.volumes)); !ok)
        return ok;
    return {};
  }

  result<xdr::buffer> host(int32_t number, const std::any& args);
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

const conf::driver_traits& driver_state::traits() const {
  return test::traits();
}

std::unique_ptr<conf::domain_backend> driver_state::make_backend() {
  return make_domain_backend();
}

result<xml::domain_def> driver_state::parse_for_define(std::string_view xml, uint32_t flags) {
  return test::parse_for_define(xml, flags);
}

result<xml::domain_def> driver_state::parse_for_create(std::string_view xml, uint32_t flags) {
  return test::parse_for_create(xml, flags);
}

virt_error driver_state::unsupported_error(int32_t proc) {
  return errors::unsupported_procedure(proc);
}

const node_description& driver_state::node() const {
  return impl_->node;
}

result<xdr::buffer> driver_state::impl::host(int32_t number, const std::any& args) {
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

result<xdr::buffer> driver_state::call(int32_t number, const std::any& args, call_context& ctx) {
  auto& m = *impl_;
  if (network_set::handles(number))
    return m.networks.dispatch(number, args, ctx);
  if (pool_set::handles(number))
    return m.pools.dispatch(number, args, ctx);
  return m.host(number, args);
}

} // namespace virtactor::drivers::test
