#include "drivers/test/networks.hpp"

#include <algorithm>
#include <string>

#include "drivers/conf/list_helpers.hpp"
#include "drivers/test/errors.hpp"
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

// VIR_CONNECT_LIST_NETWORKS_*
constexpr uint32_t list_inactive = 1;
constexpr uint32_t list_active = 2;
constexpr uint32_t list_persistent = 4;
constexpr uint32_t list_transient = 8;
constexpr uint32_t list_autostart = 16;
constexpr uint32_t list_no_autostart = 32;
constexpr uint32_t list_all = 0x3f;
/// VIR_NETWORK_DEFINE_VALIDATE and VIR_NETWORK_CREATE_VALIDATE.
constexpr uint32_t validate_flag = 1;

protocol::nonnull_network handle_of(const network_object& n) {
  return protocol::nonnull_network{n.def.name, n.def.uuid};
}

virt_error no_network(const std::string& what) {
  return make_virt_error(error_code::no_network, error_domain::test,
                         "Network not found: no network with matching " + what);
}

} // namespace

network_object* network_set::find_name(const std::string& name) {
  auto it = std::find_if(nets_.begin(), nets_.end(),
                         [&](const network_object& n) { return n.def.name == name; });
  return it == nets_.end() ? nullptr : &*it;
}

network_object* network_set::find_uuid(const xdr::uuid& uuid) {
  auto it = std::find_if(nets_.begin(), nets_.end(),
                         [&](const network_object& n) { return n.def.uuid == uuid; });
  return it == nets_.end() ? nullptr : &*it;
}

result<network_object*> network_set::by_name(const std::string& name) {
  if (auto n = find_name(name))
    return n;
  return no_network("name '" + name + "'");
}

result<network_object*> network_set::by_uuid(const xdr::uuid& uuid) {
  if (auto n = find_uuid(uuid))
    return n;
  return no_network("uuid '" + xml::format_uuid(uuid) + "'");
}

void network_set::remove(const network_object* n) {
  nets_.erase(nets_.begin() + (n - nets_.data()));
}

result<network_object*> network_set::assign(xml::network_def def, bool live) {
  if (auto n = find_uuid(def.uuid)) {
    if (n->def.name != def.name)
      return errors::operation_failed("network '" + n->def.name + "' is already defined with uuid " +
                                        xml::format_uuid(n->def.uuid),
                                      error_domain::network);
    if (live && n->active)
      return errors::operation_invalid("network is already active as '" + n->def.name + "'",
                                       error_domain::network);
    if (live) {
      // Keep the persistent definition to come back to.
      if (n->persistent && !n->new_def)
        n->new_def = std::move(n->def);
      n->def = std::move(def);
    } else {
      if (n->active) {
        n->new_def = std::move(def);
      } else {
        n->def = std::move(def);
        n->new_def.reset();
      }
      n->persistent = true;
    }
    return n;
  }
  if (auto n = find_name(def.name))
    return errors::operation_failed("network '" + def.name + "' already exists with uuid " +
                                      xml::format_uuid(n->def.uuid),
                                    error_domain::network);
  network_object n;
  n.def = std::move(def);
  n.persistent = !live;
  nets_.push_back(std::move(n));
  return &nets_.back();
}

result<void> network_set::add_from_node(xml::network_def def) {
  auto n = assign(std::move(def), false);
  if (!n)
    return n.error();
  (*n)->active = true;
  return {};
}

bool network_set::handles(int32_t number) {
  // Derived from the procedure table: every procedure of the family.
  return protocol::family_of(number) == protocol::object_kind::network;
}

result<protocol::net_only> network_set::define_or_create(const std::string& xml, bool create) {
  auto def = xml::parse_network(xml);
  if (!def)
    return def.error();
  auto n = assign(std::move(*def), create);
  if (!n)
    return n.error();
  if (create)
    (*n)->active = true;
  return protocol::net_only{handle_of(**n)};
}

result<xdr::buffer> network_set::dispatch(int32_t number, const std::any& args,
                                          call_context&) {
  auto names = [&](bool active, const protocol::maxnames_args& a, const char* api) {
    return names_by_state<protocol::connect_list_networks_ret>(
      nets_, active, a.maxnames,
      list_bound{protocol::network_list_max, "REMOTE_NETWORK_LIST_MAX", "maxnames", api,
                 error_domain::network});
  };
  auto count = [&](bool active) -> result<protocol::num_ret> {
    return count_by_state(nets_, active);
  };
  switch (static_cast<proc>(number)) {
    case proc::connect_num_of_networks:
      return handle<proc::connect_num_of_networks>(args, [&](auto&) { return count(true); });
    case proc::connect_num_of_defined_networks:
      return handle<proc::connect_num_of_defined_networks>(args,
                                                           [&](auto&) { return count(false); });
    case proc::connect_list_networks:
      return handle<proc::connect_list_networks>(
        args, [&](auto& a) { return names(true, a, "virConnectListNetworks"); });
    case proc::connect_list_defined_networks:
      return handle<proc::connect_list_defined_networks>(
        args, [&](auto& a) { return names(false, a, "virConnectListDefinedNetworks"); });
    case proc::connect_list_all_networks:
      return handle<proc::connect_list_all_networks>(
        args, [&](auto& a) -> result<protocol::connect_list_all_networks_ret> {
          if (!errors::flags_ok(a.flags, list_all))
            return errors::unsupported_flags(a.flags & ~list_all, "testConnectListAllNetworks");
          protocol::connect_list_all_networks_ret r;
          for (auto& n : nets_) {
            if (!group_match(a.flags, list_active, list_inactive, n.active) ||
                !group_match(a.flags, list_persistent, list_transient, n.persistent) ||
                !group_match(a.flags, list_autostart, list_no_autostart, n.autostart))
              continue;
            ++r.ret;
            if (a.need_results)
              r.nets.push_back(handle_of(n));
          }
          return r;
        });
    case proc::network_lookup_by_name:
      return handle<proc::network_lookup_by_name>(args, [&](auto& a) -> result<protocol::net_only> {
        auto n = by_name(a.name);
        if (!n)
          return n.error();
        return protocol::net_only{handle_of(**n)};
      });
    case proc::network_lookup_by_uuid:
      return handle<proc::network_lookup_by_uuid>(args, [&](auto& a) -> result<protocol::net_only> {
        auto n = by_uuid(a.uuid);
        if (!n)
          return n.error();
        return protocol::net_only{handle_of(**n)};
      });
    case proc::network_define_xml:
      return handle<proc::network_define_xml>(
        args, [&](auto& a) { return define_or_create(a.xml, false); });
    case proc::network_create_xml:
      return handle<proc::network_create_xml>(
        args, [&](auto& a) { return define_or_create(a.xml, true); });
    case proc::network_define_xml_flags:
      return handle<proc::network_define_xml_flags>(args, [&](auto& a) -> result<protocol::net_only> {
        // VIR_NETWORK_DEFINE_VALIDATE: libvirt checks the document against
        // its RNG schema first; our parser's own checks stand in for it.
        if (!errors::flags_ok(a.flags, validate_flag))
          return errors::unsupported_flags(a.flags & ~validate_flag, "testNetworkDefineXMLFlags");
        return define_or_create(a.xml, false);
      });
    case proc::network_create_xml_flags:
      return handle<proc::network_create_xml_flags>(args, [&](auto& a) -> result<protocol::net_only> {
        if (!errors::flags_ok(a.flags, validate_flag))
          return errors::unsupported_flags(a.flags & ~validate_flag, "testNetworkCreateXMLFlags");
        return define_or_create(a.xml, true);
      });
    case proc::network_create:
      return handle<proc::network_create>(args, [&](auto& a) -> result<xdr::empty> {
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        if ((*n)->active)
          return errors::operation_invalid("Network '" + a.net.name + "' is already running",
                                           error_domain::test);
        (*n)->active = true;
        return xdr::empty{};
      });
    case proc::network_destroy:
      return handle<proc::network_destroy>(args, [&](auto& a) -> result<xdr::empty> {
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        (*n)->active = false;
        if (!(*n)->persistent)
          remove(*n);
        return xdr::empty{};
      });
    case proc::network_undefine:
      return handle<proc::network_undefine>(args, [&](auto& a) -> result<xdr::empty> {
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        if ((*n)->active)
          return errors::operation_invalid("Network '" + a.net.name + "' is still running",
                                           error_domain::test);
        remove(*n);
        return xdr::empty{};
      });
    case proc::network_get_xml_desc:
      return handle<proc::network_get_xml_desc>(args, [&](auto& a) -> result<protocol::xml_ret> {
        if (a.flags != 0)
          return errors::unsupported_flags(a.flags, "testNetworkGetXMLDesc");
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        return protocol::xml_ret{xml::format_network((*n)->def)};
      });
    case proc::network_get_autostart:
      return handle<proc::network_get_autostart>(args, [&](auto& a) -> result<protocol::int_ret> {
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        return protocol::int_ret{(*n)->autostart ? 1 : 0};
      });
    case proc::network_set_autostart:
      return handle<proc::network_set_autostart>(args, [&](auto& a) -> result<xdr::empty> {
        auto n = by_name(a.net.name);
        if (!n)
          return n.error();
        (*n)->autostart = a.autostart != 0;
        return xdr::empty{};
      });
    case proc::network_get_bridge_name:
      return handle<proc::network_get_bridge_name>(
        args, [&](auto& a) -> result<protocol::network_get_bridge_name_ret> {
          auto n = by_name(a.net.name);
          if (!n)
            return n.error();
          if ((*n)->def.bridge_name.empty())
            return errors::internal("network '" + (*n)->def.name +
                                    "' does not have a bridge name.");
          return protocol::network_get_bridge_name_ret{(*n)->def.bridge_name};
        });
    case proc::network_is_active:
      return handle<proc::network_is_active>(args, [&](auto& a) -> result<protocol::int_ret> {
        auto n = by_uuid(a.net.uuid);
        if (!n)
          return n.error();
        return protocol::int_ret{(*n)->active ? 1 : 0};
      });
    case proc::network_is_persistent:
      return handle<proc::network_is_persistent>(args, [&](auto& a) -> result<protocol::int_ret> {
        auto n = by_uuid(a.net.uuid);
        if (!n)
          return n.error();
        return protocol::int_ret{(*n)->persistent ? 1 : 0};
      });
    default:
      return errors::unsupported_procedure(number);
  }
}

} // namespace virtactor::drivers::test
