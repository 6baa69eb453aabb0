#include "drivers/test/storage.hpp"

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

// VIR_CONNECT_LIST_STORAGE_POOLS_*: the state pairs, then one bit per pool
// type from DIR (64) to ISCSI_DIRECT (524288), in `pool_types` order.
constexpr uint32_t list_inactive = 1;
constexpr uint32_t list_active = 2;
constexpr uint32_t list_persistent = 4;
constexpr uint32_t list_transient = 8;
constexpr uint32_t list_autostart = 16;
constexpr uint32_t list_no_autostart = 32;
constexpr uint32_t list_all = 0xfffff;
constexpr const char* pool_types[] = {"dir",     "fs",       "netfs",   "logical", "disk",
                                      "iscsi",   "scsi",     "mpath",   "rbd",     "sheepdog",
                                      "gluster", "zfs",      "vstorage", "iscsi-direct"};

/// What libvirt's test driver gives every pool: 100 GiB, all of it free.
constexpr uint64_t default_capacity = 100ull * 1024 * 1024 * 1024;

// virStoragePoolState / virStorageVolType
constexpr uint32_t pool_inactive = 0;
constexpr uint32_t pool_running = 2;
constexpr int32_t vol_file = 0;
constexpr int32_t vol_block = 1;
constexpr int32_t vol_network = 3;

protocol::nonnull_storage_pool handle_of(const pool_object& p) {
  return protocol::nonnull_storage_pool{p.def.name, p.def.uuid};
}

protocol::nonnull_storage_vol handle_of(const pool_object& p, const xml::volume_def& v) {
  return protocol::nonnull_storage_vol{p.def.name, v.name, v.key};
}

/// `testStoragePoolObjSetDefaults`.
void set_defaults(xml::pool_def& def) {
  def.capacity = default_capacity;
  def.allocation = 0;
  def.available = default_capacity;
}

bool type_listed(uint32_t flags, const std::string& type) {
  uint32_t type_bits = flags & ~uint32_t{0x3f};
  if (type_bits == 0)
    return true;
  for (size_t i = 0; i < std::size(pool_types); ++i)
    if (type == pool_types[i] && (type_bits & (uint32_t{64} << i)))
      return true;
  return false;
}

/// `testStorageVolumeTypeForPool`.
int32_t volume_type_for(const std::string& pool_type) {
  if (pool_type == "sheepdog" || pool_type == "iscsi-direct" || pool_type == "gluster" ||
      pool_type == "rbd")
    return vol_network;
  if (pool_type == "logical" || pool_type == "disk" || pool_type == "mpath" ||
      pool_type == "iscsi" || pool_type == "scsi" || pool_type == "zfs")
    return vol_block;
  return vol_file;
}

virt_error no_pool(const std::string& what) {
  return make_virt_error(error_code::no_storage_pool, error_domain::test,
                         "Storage pool not found: no storage pool with matching " + what);
}

virt_error no_volume(const std::string& what) {
  return make_virt_error(error_code::no_storage_vol, error_domain::test,
                         "Storage volume not found: no storage vol with matching " + what);
}

xml::volume_def* find_volume(pool_object& p, const std::string& name) {
  auto it = std::find_if(p.volumes.begin(), p.volumes.end(),
                         [&](const xml::volume_def& v) { return v.name == name; });
  return it == p.volumes.end() ? nullptr : &*it;
}

result<xml::volume_def*> volume_by_name(pool_object& p, const std::string& name) {
  if (auto v = find_volume(p, name))
    return v;
  return no_volume("name '" + name + "'");
}

/// Adds `v` to `p` with the test driver's path and key, and accounts for its
/// allocation (unsigned arithmetic, as libvirt's).
void add_volume(pool_object& p, xml::volume_def v) {
  if (v.target_path.empty())
    v.target_path = p.def.target_path + "/" + v.name;
  if (v.key.empty())
    v.key = v.target_path;
  p.def.allocation += v.allocation;
  p.def.available = p.def.capacity - p.def.allocation;
  p.volumes.push_back(std::move(v));
}

} // namespace

pool_object* pool_set::find_name(const std::string& name) {
  auto it = std::find_if(pools_.begin(), pools_.end(),
                         [&](const pool_object& p) { return p.def.name == name; });
  return it == pools_.end() ? nullptr : &*it;
}

result<pool_object*> pool_set::by_name(const std::string& name) {
  if (auto p = find_name(name))
    return p;
  return no_pool("name '" + name + "'");
}

result<pool_object*> pool_set::by_uuid(const xdr::uuid& uuid) {
  auto it = std::find_if(pools_.begin(), pools_.end(),
                         [&](const pool_object& p) { return p.def.uuid == uuid; });
  if (it != pools_.end())
    return &*it;
  return no_pool("uuid '" + xml::format_uuid(uuid) + "'");
}

result<pool_object*> pool_set::active_by_name(const std::string& name) {
  auto p = by_name(name);
  if (p && !(*p)->active)
    return errors::operation_invalid("storage pool '" + name + "' is not active",
                                     error_domain::test);
  return p;
}

result<pool_object*> pool_set::inactive_by_name(const std::string& name) {
  auto p = by_name(name);
  if (p && (*p)->active)
    return errors::operation_invalid("storage pool '" + name + "' is active", error_domain::test);
  return p;
}

void pool_set::remove(const pool_object* p) {
  pools_.erase(pools_.begin() + (p - pools_.data()));
}

result<pool_object*> pool_set::add(xml::pool_def def, bool check_live) {
  // Two directory pools may not share a target; a redefinition is no clash.
  for (auto& p : pools_)
    if (p.def.name != def.name && p.def.type == def.type && def.type == "dir" &&
        p.def.target_path == def.target_path)
      return errors::operation_failed("Storage source conflict with pool: '" + p.def.name + "'",
                                      error_domain::storage);
  auto same_uuid = std::find_if(pools_.begin(), pools_.end(),
                                [&](const pool_object& p) { return p.def.uuid == def.uuid; });
  if (same_uuid != pools_.end()) {
    auto& p = *same_uuid;
    if (p.def.name != def.name)
      return errors::operation_failed("pool '" + p.def.name + "' is already defined with uuid " +
                                        xml::format_uuid(p.def.uuid),
                                      error_domain::storage);
    if (check_live && p.active)
      return errors::operation_invalid("pool is already active as '" + p.def.name + "'",
                                       error_domain::storage);
    if (!p.active)
      p.def = std::move(def);
    else
      p.new_def = std::move(def);
    return &p;
  }
  if (auto p = find_name(def.name))
    return errors::operation_failed("pool '" + def.name + "' already exists with uuid " +
                                      xml::format_uuid(p->def.uuid),
                                    error_domain::storage);
  pool_object p;
  p.def = std::move(def);
  pools_.push_back(std::move(p));
  return &pools_.back();
}

result<void> pool_set::add_from_node(xml::pool_def def, std::vector<xml::volume_def> volumes) {
  auto p = add(std::move(def), false);
  if (!p)
    return p.error();
  auto& pool = **p;
  set_defaults(pool.def);
  pool.persistent = true;
  pool.active = true;
  for (auto& v : volumes)
    add_volume(pool, std::move(v));
  return {};
}

bool pool_set::handles(int32_t number) {
  // Derived from the procedure table: every procedure of the family.
  return protocol::family_of(number) == protocol::object_kind::pool ||
         protocol::family_of(number) == protocol::object_kind::volume;
}

result<xdr::buffer> pool_set::dispatch(int32_t number, const std::any& args, call_context&) {
  auto names = [&](bool active, const protocol::maxnames_args& a, const char* api) {
    return names_by_state<protocol::connect_list_storage_pools_ret>(
      pools_, active, a.maxnames,
      list_bound{protocol::storage_pool_list_max, "REMOTE_STORAGE_POOL_LIST_MAX", "maxnames", api,
                 error_domain::storage});
  };
  auto count = [&](bool active) -> result<protocol::num_ret> {
    return count_by_state(pools_, active);
  };
  auto flags_zero = [](uint32_t flags, const char* function) -> result<void> {
    if (flags != 0)
      return errors::unsupported_flags(flags, function);
    return {};
  };
  // Every per-volume call finds the active pool by the handle's pool name,
  // then the volume by the handle's name.
  auto volume_of =
    [&](const protocol::nonnull_storage_vol& h) -> result<std::pair<pool_object*, xml::volume_def*>> {
    auto p = active_by_name(h.pool);
    if (!p)
      return p.error();
    auto v = volume_by_name(**p, h.name);
    if (!v)
      return v.error();
    return std::pair{*p, *v};
  };
  auto find_volume_by = [&](auto pred, const std::string& what) -> result<protocol::vol_only> {
    for (auto& p : pools_) {
      if (!p.active)
        continue;
      for (auto& v : p.volumes)
        if (pred(v))
          return protocol::vol_only{handle_of(p, v)};
    }
    return no_volume(what);
  };

  switch (static_cast<proc>(number)) {
    case proc::connect_num_of_storage_pools:
      return handle<proc::connect_num_of_storage_pools>(args, [&](auto&) { return count(true); });
    case proc::connect_num_of_defined_storage_pools:
      return handle<proc::connect_num_of_defined_storage_pools>(
        args, [&](auto&) { return count(false); });
    case proc::connect_list_storage_pools:
      return handle<proc::connect_list_storage_pools>(
        args, [&](auto& a) { return names(true, a, "virConnectListStoragePools"); });
    case proc::connect_list_defined_storage_pools:
      return handle<proc::connect_list_defined_storage_pools>(
        args, [&](auto& a) { return names(false, a, "virConnectListDefinedStoragePools"); });
    case proc::connect_list_all_storage_pools:
      return handle<proc::connect_list_all_storage_pools>(
        args, [&](auto& a) -> result<protocol::connect_list_all_storage_pools_ret> {
          if (!errors::flags_ok(a.flags, list_all))
            return errors::unsupported_flags(a.flags & ~list_all,
                                             "testConnectListAllStoragePools");
          protocol::connect_list_all_storage_pools_ret r;
          for (auto& p : pools_) {
            if (!group_match(a.flags, list_active, list_inactive, p.active) ||
                !group_match(a.flags, list_persistent, list_transient, p.persistent) ||
                !group_match(a.flags, list_autostart, list_no_autostart, p.autostart) ||
                !type_listed(a.flags, p.def.type))
              continue;
            ++r.ret;
            if (a.need_results)
              r.pools.push_back(handle_of(p));
          }
          return r;
        });
    case proc::storage_pool_lookup_by_name:
      return handle<proc::storage_pool_lookup_by_name>(
        args, [&](auto& a) -> result<protocol::pool_only> {
          auto p = by_name(a.name);
          if (!p)
            return p.error();
          return protocol::pool_only{handle_of(**p)};
        });
    case proc::storage_pool_lookup_by_uuid:
      return handle<proc::storage_pool_lookup_by_uuid>(
        args, [&](auto& a) -> result<protocol::pool_only> {
          auto p = by_uuid(a.uuid);
          if (!p)
            return p.error();
          return protocol::pool_only{handle_of(**p)};
        });
    case proc::storage_pool_lookup_by_volume:
      return handle<proc::storage_pool_lookup_by_volume>(
        args, [&](auto& a) -> result<protocol::pool_only> {
          auto p = by_name(a.vol.pool);
          if (!p)
            return p.error();
          return protocol::pool_only{handle_of(**p)};
        });
    case proc::storage_pool_create_xml:
      return handle<proc::storage_pool_create_xml>(
        args, [&](auto& a) -> result<protocol::pool_only> {
          if (auto ok = flags_zero(a.flags, "testStoragePoolCreateXML"); !ok)
            return ok.error();
          auto def = xml::parse_pool(a.xml);
          if (!def)
            return def.error();
          auto p = add(std::move(*def), true);
          if (!p)
            return p.error();
          set_defaults((*p)->def);
          // A pool created from XML has no config file: it is transient,
          // even when it replaced the definition of a persistent one.
          (*p)->persistent = false;
          (*p)->active = true;
          return protocol::pool_only{handle_of(**p)};
        });
    case proc::storage_pool_define_xml:
      return handle<proc::storage_pool_define_xml>(
        args, [&](auto& a) -> result<protocol::pool_only> {
          constexpr uint32_t validate = 1;
          if (!errors::flags_ok(a.flags, validate))
            return errors::unsupported_flags(a.flags & ~validate, "testStoragePoolDefineXML");
          auto def = xml::parse_pool(a.xml);
          if (!def)
            return def.error();
          set_defaults(*def);
          auto p = add(std::move(*def), false);
          if (!p)
            return p.error();
          set_defaults((*p)->def);
          (*p)->persistent = true;
          return protocol::pool_only{handle_of(**p)};
        });
    case proc::storage_pool_create:
      return handle<proc::storage_pool_create>(args, [&](auto& a) -> result<xdr::empty> {
        if (auto ok = flags_zero(a.flags, "testStoragePoolCreate"); !ok)
          return ok.error();
        auto p = inactive_by_name(a.pool.name);
        if (!p)
          return p.error();
        (*p)->active = true;
        return xdr::empty{};
      });
    case proc::storage_pool_build:
      return handle<proc::storage_pool_build>(args, [&](auto& a) -> result<xdr::empty> {
        if (auto ok = flags_zero(a.flags, "testStoragePoolBuild"); !ok)
          return ok.error();
        auto p = inactive_by_name(a.pool.name);
        if (!p)
          return p.error();
        return xdr::empty{};
      });
    case proc::storage_pool_destroy:
      return handle<proc::storage_pool_destroy>(args, [&](auto& a) -> result<xdr::empty> {
        auto p = active_by_name(a.pool.name);
        if (!p)
          return p.error();
        (*p)->active = false;
        if (!(*p)->persistent)
          remove(*p);
        return xdr::empty{};
      });
    case proc::storage_pool_delete:
      return handle<proc::storage_pool_delete>(args, [&](auto& a) -> result<xdr::empty> {
        if (auto ok = flags_zero(a.flags, "testStoragePoolDelete"); !ok)
          return ok.error();
        auto p = inactive_by_name(a.pool.name);
        if (!p)
          return p.error();
        return xdr::empty{};
      });
    case proc::storage_pool_undefine:
      return handle<proc::storage_pool_undefine>(args, [&](auto& a) -> result<xdr::empty> {
        auto p = inactive_by_name(a.pool.name);
        if (!p)
          return p.error();
        remove(*p);
        return xdr::empty{};
      });
    case proc::storage_pool_refresh:
      return handle<proc::storage_pool_refresh>(args, [&](auto& a) -> result<xdr::empty> {
        if (auto ok = flags_zero(a.flags, "testStoragePoolRefresh"); !ok)
          return ok.error();
        auto p = active_by_name(a.pool.name);
        if (!p)
          return p.error();
        return xdr::empty{};
      });
    case proc::storage_pool_get_info:
      return handle<proc::storage_pool_get_info>(
        args, [&](auto& a) -> result<protocol::storage_pool_get_info_ret> {
          auto p = by_name(a.pool.name);
          if (!p)
            return p.error();
          protocol::storage_pool_get_info_ret r;
          r.state = (*p)->active ? pool_running : pool_inactive;
          r.capacity = (*p)->def.capacity;
          r.allocation = (*p)->def.allocation;
          r.available = (*p)->def.available;
          return r;
        });
    case proc::storage_pool_get_xml_desc:
      return handle<proc::storage_pool_get_xml_desc>(
        args, [&](auto& a) -> result<protocol::xml_ret> {
          if (auto ok = flags_zero(a.flags, "testStoragePoolGetXMLDesc"); !ok)
            return ok.error();
          auto p = by_name(a.pool.name);
          if (!p)
            return p.error();
          return protocol::xml_ret{xml::format_pool((*p)->def)};
        });
    case proc::storage_pool_get_autostart:
      return handle<proc::storage_pool_get_autostart>(
        args, [&](auto& a) -> result<protocol::int_ret> {
          auto p = by_name(a.pool.name);
          if (!p)
            return p.error();
          return protocol::int_ret{(*p)->persistent && (*p)->autostart ? 1 : 0};
        });
    case proc::storage_pool_set_autostart:
      return handle<proc::storage_pool_set_autostart>(args, [&](auto& a) -> result<xdr::empty> {
        auto p = by_name(a.pool.name);
        if (!p)
          return p.error();
        if (!(*p)->persistent)
          return errors::invalid_arg("pool has no config file");
        (*p)->autostart = a.autostart != 0;
        return xdr::empty{};
      });
    case proc::storage_pool_is_active:
      return handle<proc::storage_pool_is_active>(args, [&](auto& a) -> result<protocol::int_ret> {
        auto p = by_uuid(a.pool.uuid);
        if (!p)
          return p.error();
        return protocol::int_ret{(*p)->active ? 1 : 0};
      });
    case proc::storage_pool_is_persistent:
      return handle<proc::storage_pool_is_persistent>(
        args, [&](auto& a) -> result<protocol::int_ret> {
          auto p = by_uuid(a.pool.uuid);
          if (!p)
            return p.error();
          return protocol::int_ret{(*p)->persistent ? 1 : 0};
        });
    case proc::storage_pool_num_of_volumes:
      return handle<proc::storage_pool_num_of_volumes>(
        args, [&](auto& a) -> result<protocol::num_ret> {
          auto p = active_by_name(a.pool.name);
          if (!p)
            return p.error();
          return protocol::num_ret{static_cast<int32_t>((*p)->volumes.size())};
        });
    case proc::storage_pool_list_volumes:
      return handle<proc::storage_pool_list_volumes>(
        args, [&](auto& a) -> result<protocol::storage_pool_list_volumes_ret> {
          if (auto ok = check_maxnames(a.maxnames,
                                       list_bound{protocol::storage_vol_list_max,
                                                  "REMOTE_STORAGE_VOL_LIST_MAX", "maxnames",
                                                  "virStoragePoolListVolumes",
                                                  error_domain::storage});
              !ok)
            return ok.error();
          auto p = active_by_name(a.pool.name);
          if (!p)
            return p.error();
          protocol::storage_pool_list_volumes_ret r;
          r.names = first_n<decltype(r.names)>(
            (*p)->volumes, a.maxnames, [](auto&) { return true; },
            [](const xml::volume_def& v) { return v.name; });
          return r;
        });
    case proc::storage_pool_list_all_volumes:
      return handle<proc::storage_pool_list_all_volumes>(
        args, [&](auto& a) -> result<protocol::storage_pool_list_all_volumes_ret> {
          if (auto ok = flags_zero(a.flags, "testStoragePoolListAllVolumes"); !ok)
            return ok.error();
          auto p = by_uuid(a.pool.uuid);
          if (!p)
            return p.error();
          if (!(*p)->active)
            return errors::operation_invalid("storage pool is not active", error_domain::test);
          protocol::storage_pool_list_all_volumes_ret r;
          r.ret = static_cast<uint32_t>((*p)->volumes.size());
          if (a.need_results)
            for (auto& v : (*p)->volumes)
              r.vols.push_back(handle_of(**p, v));
          return r;
        });
    case proc::storage_vol_create_xml:
      return handle<proc::storage_vol_create_xml>(
        args, [&](auto& a) -> result<protocol::vol_only> {
          if (auto ok = flags_zero(a.flags, "testStorageVolCreateXML"); !ok)
            return ok.error();
          auto p = active_by_name(a.pool.name);
          if (!p)
            return p.error();
          auto& pool = **p;
          auto v = xml::parse_volume(a.xml, pool.def.type);
          if (!v)
            return v.error();
          if (find_volume(pool, v->name))
            return errors::operation_failed("storage vol already exists", error_domain::test);
          if (pool.def.allocation + v->allocation > pool.def.capacity)
            return errors::internal("Not enough free space in pool for volume '" + v->name +
                                    "'");
          // The test driver always places a new volume in the pool's target.
          v->target_path.clear();
          v->key.clear();
          add_volume(pool, std::move(*v));
          return protocol::vol_only{handle_of(pool, pool.volumes.back())};
        });
    case proc::storage_vol_delete:
      return handle<proc::storage_vol_delete>(args, [&](auto& a) -> result<xdr::empty> {
        if (auto ok = flags_zero(a.flags, "testStorageVolDelete"); !ok)
          return ok.error();
        auto pv = volume_of(a.vol);
        if (!pv)
          return pv.error();
        auto& [pool, vol] = *pv;
        pool->def.allocation -= vol->allocation;
        pool->def.available = pool->def.capacity - pool->def.allocation;
        pool->volumes.erase(pool->volumes.begin() + (vol - pool->volumes.data()));
        return xdr::empty{};
      });
    case proc::storage_vol_lookup_by_name:
      return handle<proc::storage_vol_lookup_by_name>(
        args, [&](auto& a) -> result<protocol::vol_only> {
          auto p = active_by_name(a.pool.name);
          if (!p)
            return p.error();
          auto v = volume_by_name(**p, a.name);
          if (!v)
            return v.error();
          return protocol::vol_only{handle_of(**p, **v)};
        });
    case proc::storage_vol_lookup_by_key:
      return handle<proc::storage_vol_lookup_by_key>(args, [&](auto& a) {
        return find_volume_by([&](const xml::volume_def& v) { return v.key == a.value; },
                              "key '" + a.value + "'");
      });
    case proc::storage_vol_lookup_by_path:
      return handle<proc::storage_vol_lookup_by_path>(args, [&](auto& a) {
        return find_volume_by([&](const xml::volume_def& v) { return v.target_path == a.value; },
                              "path '" + a.value + "'");
      });
    case proc::storage_vol_get_info:
      return handle<proc::storage_vol_get_info>(
        args, [&](auto& a) -> result<protocol::storage_vol_get_info_ret> {
          auto pv = volume_of(a.vol);
          if (!pv)
            return pv.error();
          auto& [pool, vol] = *pv;
          protocol::storage_vol_get_info_ret r;
          r.type = volume_type_for(pool->def.type);
          r.capacity = vol->capacity;
          r.allocation = vol->allocation;
          return r;
        });
    case proc::storage_vol_get_xml_desc:
      return handle<proc::storage_vol_get_xml_desc>(
        args, [&](auto& a) -> result<protocol::xml_ret> {
          if (auto ok = flags_zero(a.flags, "testStorageVolGetXMLDesc"); !ok)
            return ok.error();
          auto pv = volume_of(a.vol);
          if (!pv)
            return pv.error();
          return protocol::xml_ret{xml::format_volume(*pv->second)};
        });
    case proc::storage_vol_get_path:
      return handle<proc::storage_vol_get_path>(
        args, [&](auto& a) -> result<protocol::storage_vol_get_path_ret> {
          auto pv = volume_of(a.vol);
          if (!pv)
            return pv.error();
          return protocol::storage_vol_get_path_ret{pv->second->target_path};
        });
    default:
      return errors::unsupported_procedure(number);
  }
}

} // namespace virtactor::drivers::test
