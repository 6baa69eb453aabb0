#include "drivers/conf/domain_list.hpp"

#include <algorithm>

#include "drivers/conf/errors.hpp"
#include "drivers/conf/list_helpers.hpp"
#include "drivers/xml/uuid.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::conf {

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

} // namespace

bool domain_listed(uint32_t flags, const domain_summary& s) {
  return group_match(flags, list_active, list_inactive, s.active) &&
         group_match(flags, list_persistent, list_transient, s.persistent) &&
         state_listed(flags, s) &&
         group_match(flags, list_managedsave, list_no_managedsave, s.has_managed_save) &&
         group_match(flags, list_autostart, list_no_autostart, s.autostart) &&
         group_match(flags, list_has_snapshot, list_no_snapshot, s.snapshot_count > 0) &&
         group_match(flags, list_has_checkpoint, list_no_checkpoint, false);
}

const domain_summary* domain_list::find_uuid(const xdr::uuid& uuid) const {
  auto it = std::find_if(domains_.begin(), domains_.end(),
                         [&](const domain_summary& s) { return s.dom.uuid == uuid; });
  return it == domains_.end() ? nullptr : &*it;
}

const domain_summary* domain_list::find_name(const std::string& name) const {
  auto it = std::find_if(domains_.begin(), domains_.end(),
                         [&](const domain_summary& s) { return s.dom.name == name; });
  return it == domains_.end() ? nullptr : &*it;
}

const domain_summary* domain_list::find_id(int32_t id) const {
  auto it = std::find_if(domains_.begin(), domains_.end(),
                         [&](const domain_summary& s) { return s.active && s.dom.id == id; });
  return it == domains_.end() ? nullptr : &*it;
}

result<std::optional<xdr::uuid>> domain_list::existing(const xml::domain_def& def) const {
  if (auto s = find_uuid(def.uuid)) {
    if (s->dom.name != def.name)
      return errors::operation_failed("domain '" + s->dom.name + "' is already defined with uuid " +
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

void domain_list::update(const domain_summary& s) {
  auto it = std::find_if(domains_.begin(), domains_.end(),
                         [&](const domain_summary& x) { return x.dom.uuid == s.dom.uuid; });
  if (s.removed) {
    if (it != domains_.end())
      domains_.erase(it);
    return;
  }
  if (it != domains_.end())
    *it = s;
  else
    domains_.push_back(s);
}

bool domain_list::handles(int32_t number) {
  switch (static_cast<proc>(number)) {
    case proc::domain_lookup_by_id:
    case proc::domain_lookup_by_name:
    case proc::domain_lookup_by_uuid:
    case proc::connect_num_of_domains:
    case proc::connect_num_of_defined_domains:
    case proc::connect_list_domains:
    case proc::connect_list_defined_domains:
    case proc::connect_list_all_domains:
      return true;
    default:
      return false;
  }
}

result<xdr::buffer> domain_list::dispatch(int32_t number, const std::any& args) const {
  auto found = [&](const domain_summary* s) -> result<protocol::dom_only> {
    if (!s)
      return errors::no_domain(traits_.domain);
    return protocol::dom_only{s->dom};
  };
  auto count = [&](bool active) -> result<protocol::num_ret> {
    return count_by_state(domains_, active);
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
            domains_, a.maxids, [](auto& s) { return s.active; },
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
            domains_, a.maxnames, [](auto& s) { return !s.active; },
            [](const domain_summary& s) { return s.dom.name; });
          return r;
        });
    case proc::connect_list_all_domains:
      return handle<proc::connect_list_all_domains>(
        args, [&](auto& a) -> result<protocol::connect_list_all_domains_ret> {
          if (!errors::flags_ok(a.flags, list_all))
            return errors::unsupported_flags(a.flags & ~list_all,
                                             traits_.function("ConnectListAllDomains"),
                                             traits_.domain);
          protocol::connect_list_all_domains_ret r;
          for (auto& s : domains_) {
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

} // namespace virtactor::drivers::conf
