/// Argument, return and message structs of the REMOTE program procedures
/// virtactor implements, in the wire order of libvirt 9.0's `remote_protocol.x`.
///
/// Naming: libvirt's `remote_foo_bar_args` is `foo_bar_args` here, fields are
/// libvirt's names in snake_case (`maxMem` -> `max_mem`). `char`/`short`
/// fields are 4-byte integers, because rpcgen puts them on the wire as XDR
/// `int` (`char`, `short`: `int32_t`) or `unsigned int` (`unsigned char`,
/// `unsigned short`: `uint32_t`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/xdr.hpp"

namespace virtactor::protocol {

// -- limits (`REMOTE_*_MAX`) ---------------------------------------------------

inline constexpr uint32_t domain_list_max = 16384;
inline constexpr uint32_t network_list_max = 16384;
// 16384 in libvirt 9.0 (older remote_protocol.x files say 4096): the 9.0
// client refuses 16385 pools and accepts 16384, and so does the 9.0 dissector.
inline constexpr uint32_t storage_pool_list_max = 16384;
inline constexpr uint32_t storage_vol_list_max = 16384;
inline constexpr uint32_t auth_type_list_max = 20;
inline constexpr uint32_t node_max_cells = 1024;
inline constexpr uint32_t security_model_max = 257;
inline constexpr uint32_t security_doi_max = 257;
inline constexpr uint32_t security_label_max = 4097;
inline constexpr uint32_t domain_messages_max = 2048;
inline constexpr uint32_t model_size = 32;
inline constexpr uint32_t connect_get_all_domain_stats_max = 262144;

#define VA_WIRE_EQ(T) bool operator==(const T&) const = default;

// -- object handles --------------------------------------------------------------

/// `remote_nonnull_domain`: name, uuid and id (-1 when inactive).
struct nonnull_domain {
  std::string name;
  xdr::uuid uuid{};
  int32_t id = -1;
  VA_XDR_FIELDS(name, uuid, id)
  VA_WIRE_EQ(nonnull_domain)
};

/// `remote_nonnull_network`.
struct nonnull_network {
  std::string name;
  xdr::uuid uuid{};
  VA_XDR_FIELDS(name, uuid)
  VA_WIRE_EQ(nonnull_network)
};

/// `remote_nonnull_storage_pool`.
struct nonnull_storage_pool {
  std::string name;
  xdr::uuid uuid{};
  VA_XDR_FIELDS(name, uuid)
  VA_WIRE_EQ(nonnull_storage_pool)
};

/// `remote_nonnull_storage_vol`: pool name, volume name, key.
struct nonnull_storage_vol {
  std::string pool;
  std::string name;
  std::string key;
  VA_XDR_FIELDS(pool, name, key)
  VA_WIRE_EQ(nonnull_storage_vol)
};

/// `remote_string`: an optional string.
using remote_string = std::optional<std::string>;

// -- errors ----------------------------------------------------------------------

/// `remote_error` (= `virNetMessageError`): the body of every error reply.
struct remote_error {
  int32_t code = 0;
  int32_t domain = 0;
  remote_string message;
  int32_t level = 2;
  std::optional<nonnull_domain> dom;
  remote_string str1;
  remote_string str2;
  remote_string str3;
  int32_t int1 = -1;
  int32_t int2 = -1;
  std::optional<nonnull_network> net;
  VA_XDR_FIELDS(code, domain, message, level, dom, str1, str2, str3, int1, int2, net)
  VA_WIRE_EQ(remote_error)
};

// -- typed parameters ------------------------------------------------------------

/// `remote_typed_param_value`: a union on the parameter type (1 INT .. 7 STRING).
using typed_param_value =
  xdr::union_<xdr::arm<1, int32_t>, xdr::arm<2, uint32_t>, xdr::arm<3, int64_t>,
              xdr::arm<4, uint64_t>, xdr::arm<5, double>, xdr::arm<6, int32_t>,
              xdr::arm<7, std::string>>;

/// `remote_typed_param`.
struct typed_param {
  std::string field;
  typed_param_value value;
  VA_XDR_FIELDS(field, value)
  VA_WIRE_EQ(typed_param)
};

// -- connection and host -----------------------------------------------------------

struct connect_open_args {
  remote_string name;
  uint32_t flags = 0;
  VA_XDR_FIELDS(name, flags)
  VA_WIRE_EQ(connect_open_args)
};

struct connect_get_type_ret {
  std::string type;
  VA_XDR_FIELDS(type)
  VA_WIRE_EQ(connect_get_type_ret)
};

struct connect_get_version_ret {
  uint64_t hv_ver = 0;
  VA_XDR_FIELDS(hv_ver)
  VA_WIRE_EQ(connect_get_version_ret)
};

struct connect_get_lib_version_ret {
  uint64_t lib_ver = 0;
  VA_XDR_FIELDS(lib_ver)
  VA_WIRE_EQ(connect_get_lib_version_ret)
};

struct connect_get_hostname_ret {
  std::string hostname;
  VA_XDR_FIELDS(hostname)
  VA_WIRE_EQ(connect_get_hostname_ret)
};

struct connect_get_uri_ret {
  std::string uri;
  VA_XDR_FIELDS(uri)
  VA_WIRE_EQ(connect_get_uri_ret)
};

struct connect_get_capabilities_ret {
  std::string capabilities;
  VA_XDR_FIELDS(capabilities)
  VA_WIRE_EQ(connect_get_capabilities_ret)
};

struct connect_get_max_vcpus_args {
  remote_string type;
  VA_XDR_FIELDS(type)
  VA_WIRE_EQ(connect_get_max_vcpus_args)
};

struct connect_get_max_vcpus_ret {
  int32_t max_vcpus = 0;
  VA_XDR_FIELDS(max_vcpus)
  VA_WIRE_EQ(connect_get_max_vcpus_ret)
};

struct connect_is_secure_ret {
  int32_t secure = 0;
  VA_XDR_FIELDS(secure)
  VA_WIRE_EQ(connect_is_secure_ret)
};

struct connect_supports_feature_args {
  int32_t feature = 0;
  VA_XDR_FIELDS(feature)
  VA_WIRE_EQ(connect_supports_feature_args)
};

struct connect_supports_feature_ret {
  int32_t supported = 0;
  VA_XDR_FIELDS(supported)
  VA_WIRE_EQ(connect_supports_feature_ret)
};

struct connect_get_sysinfo_args {
  uint32_t flags = 0;
  VA_XDR_FIELDS(flags)
  VA_WIRE_EQ(connect_get_sysinfo_args)
};

struct connect_get_sysinfo_ret {
  std::string sysinfo;
  VA_XDR_FIELDS(sysinfo)
  VA_WIRE_EQ(connect_get_sysinfo_ret)
};

/// `remote_auth_type`.
enum class auth_type : int32_t { none = 0, sasl = 1, polkit = 2 };

struct auth_list_ret {
  xdr::array<auth_type, auth_type_list_max> types;
  VA_XDR_FIELDS(types)
  VA_WIRE_EQ(auth_list_ret)
};

/// `REMOTE_AUTH_SASL_DATA_MAX`.
inline constexpr uint32_t auth_sasl_data_max = 65536;

/// `char data<REMOTE_AUTH_SASL_DATA_MAX>`: SASL's bytes, each a 4-byte word
/// (rpcgen's `char`); `to_sasl_data`/`from_sasl_data` convert.
using sasl_data = xdr::array<int32_t, auth_sasl_data_max>;

/// SASL bytes as they go on the wire.
inline sasl_data to_sasl_data(const char* p, size_t n) {
  sasl_data out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(static_cast<int32_t>(static_cast<signed char>(p[i])));
  return out;
}

/// Puts `bytes` into a message's `nil` and `data` (no bytes: SASL's NULL).
inline void set_sasl_data(int32_t& nil, sasl_data& data, const std::optional<std::string>& bytes) {
  nil = bytes ? 0 : 1;
  data = bytes ? to_sasl_data(bytes->data(), bytes->size()) : sasl_data{};
}

/// The bytes of SASL data from the wire; nothing (SASL's NULL) when `nil`.
inline std::optional<std::string> from_sasl_data(int32_t nil, const sasl_data& d) {
  if (nil)
    return std::nullopt;
  std::string out;
  out.reserve(d.size());
  for (auto c : d)
    out.push_back(static_cast<char>(c));
  return out;
}

struct auth_sasl_init_ret {
  std::string mechlist;
  VA_XDR_FIELDS(mechlist)
  VA_WIRE_EQ(auth_sasl_init_ret)
};

/// `nil` tells NULL data (1) from empty data (0); SASL cares.
struct auth_sasl_start_args {
  std::string mech;
  int32_t nil = 0;
  sasl_data data;
  VA_XDR_FIELDS(mech, nil, data)
  VA_WIRE_EQ(auth_sasl_start_args)
};

struct auth_sasl_start_ret {
  int32_t complete = 0;
  int32_t nil = 0;
  sasl_data data;
  VA_XDR_FIELDS(complete, nil, data)
  VA_WIRE_EQ(auth_sasl_start_ret)
};

struct auth_sasl_step_args {
  int32_t nil = 0;
  sasl_data data;
  VA_XDR_FIELDS(nil, data)
  VA_WIRE_EQ(auth_sasl_step_args)
};

struct auth_sasl_step_ret {
  int32_t complete = 0;
  int32_t nil = 0;
  sasl_data data;
  VA_XDR_FIELDS(complete, nil, data)
  VA_WIRE_EQ(auth_sasl_step_ret)
};

struct auth_polkit_ret {
  int32_t complete = 0;
  VA_XDR_FIELDS(complete)
  VA_WIRE_EQ(auth_polkit_ret)
};

struct node_get_info_ret {
  xdr::fixed_chars<model_size> model;
  uint64_t memory = 0;
  int32_t cpus = 0;
  int32_t mhz = 0;
  int32_t nodes = 0;
  int32_t sockets = 0;
  int32_t cores = 0;
  int32_t threads = 0;
  VA_XDR_FIELDS(model, memory, cpus, mhz, nodes, sockets, cores, threads)
  VA_WIRE_EQ(node_get_info_ret)
};

struct node_get_free_memory_ret {
  uint64_t free_mem = 0;
  VA_XDR_FIELDS(free_mem)
  VA_WIRE_EQ(node_get_free_memory_ret)
};

struct node_get_cells_free_memory_args {
  int32_t start_cell = 0;
  int32_t maxcells = 0;
  VA_XDR_FIELDS(start_cell, maxcells)
  VA_WIRE_EQ(node_get_cells_free_memory_args)
};

struct node_get_cells_free_memory_ret {
  xdr::array<uint64_t, node_max_cells> cells;
  VA_XDR_FIELDS(cells)
  VA_WIRE_EQ(node_get_cells_free_memory_ret)
};

struct node_get_security_model_ret {
  xdr::char_array<security_model_max> model;
  xdr::char_array<security_doi_max> doi;
  VA_XDR_FIELDS(model, doi)
  VA_WIRE_EQ(node_get_security_model_ret)
};

// -- domains: listing ----------------------------------------------------------------

struct connect_list_all_domains_args {
  int32_t need_results = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(need_results, flags)
  VA_WIRE_EQ(connect_list_all_domains_args)
};

struct connect_list_all_domains_ret {
  xdr::array<nonnull_domain, domain_list_max> domains;
  uint32_t ret = 0;
  VA_XDR_FIELDS(domains, ret)
  VA_WIRE_EQ(connect_list_all_domains_ret)
};

/// The `num` reply of every CONNECT_NUM_OF_* procedure and of
/// STORAGE_POOL_NUM_OF_VOLUMES / DOMAIN_SNAPSHOT_NUM.
struct num_ret {
  int32_t num = 0;
  VA_XDR_FIELDS(num)
  VA_WIRE_EQ(num_ret)
};

struct connect_list_domains_args {
  int32_t maxids = 0;
  VA_XDR_FIELDS(maxids)
  VA_WIRE_EQ(connect_list_domains_args)
};

struct connect_list_domains_ret {
  xdr::array<int32_t, domain_list_max> ids;
  VA_XDR_FIELDS(ids)
  VA_WIRE_EQ(connect_list_domains_ret)
};

/// The `maxnames` argument of the CONNECT_LIST_DEFINED_* / LIST_* name calls.
struct maxnames_args {
  int32_t maxnames = 0;
  VA_XDR_FIELDS(maxnames)
  VA_WIRE_EQ(maxnames_args)
};

template <uint32_t Max>
struct names_ret {
  xdr::array<std::string, Max> names;
  VA_XDR_FIELDS(names)
  VA_WIRE_EQ(names_ret)
};

using connect_list_defined_domains_ret = names_ret<domain_list_max>;
using connect_list_networks_ret = names_ret<network_list_max>;
using connect_list_storage_pools_ret = names_ret<storage_pool_list_max>;
using storage_pool_list_volumes_ret = names_ret<storage_vol_list_max>;

// -- domains: lookup, define and lifecycle ------------------------------------------------

struct domain_lookup_by_id_args {
  int32_t id = 0;
  VA_XDR_FIELDS(id)
  VA_WIRE_EQ(domain_lookup_by_id_args)
};

/// A lookup by name (domains, networks, storage pools).
struct name_args {
  std::string name;
  VA_XDR_FIELDS(name)
  VA_WIRE_EQ(name_args)
};

/// A lookup by UUID (domains, networks, storage pools).
struct uuid_args {
  xdr::uuid uuid{};
  VA_XDR_FIELDS(uuid)
  VA_WIRE_EQ(uuid_args)
};

/// Args or ret that are a single domain handle.
struct dom_only {
  nonnull_domain dom;
  VA_XDR_FIELDS(dom)
  VA_WIRE_EQ(dom_only)
};

/// A domain handle and flags.
struct dom_flags_args {
  nonnull_domain dom;
  uint32_t flags = 0;
  VA_XDR_FIELDS(dom, flags)
  VA_WIRE_EQ(dom_flags_args)
};

/// An XML document (DEFINE_XML for domains and networks, NETWORK_CREATE_XML).
struct xml_args {
  std::string xml;
  VA_XDR_FIELDS(xml)
  VA_WIRE_EQ(xml_args)
};

/// An XML document and flags (DEFINE_XML_FLAGS, pool define/create).
struct xml_flags_args {
  std::string xml;
  uint32_t flags = 0;
  VA_XDR_FIELDS(xml, flags)
  VA_WIRE_EQ(xml_flags_args)
};

struct domain_create_xml_args {
  std::string xml_desc;
  uint32_t flags = 0;
  VA_XDR_FIELDS(xml_desc, flags)
  VA_WIRE_EQ(domain_create_xml_args)
};

/// The `xml` reply of every GET_XML_DESC procedure.
struct xml_ret {
  std::string xml;
  VA_XDR_FIELDS(xml)
  VA_WIRE_EQ(xml_ret)
};

// -- domains: information and settings ------------------------------------------------------

/// `remote_domain_get_info_ret`: `unsigned char state`, `unsigned short
/// nrVirtCpu` (4 bytes each on the wire).
struct domain_get_info_ret {
  uint32_t state = 0;
  uint64_t max_mem = 0;
  uint64_t memory = 0;
  uint32_t nr_virt_cpu = 0;
  uint64_t cpu_time = 0;
  VA_XDR_FIELDS(state, max_mem, memory, nr_virt_cpu, cpu_time)
  VA_WIRE_EQ(domain_get_info_ret)
};

struct domain_get_state_ret {
  int32_t state = 0;
  int32_t reason = 0;
  VA_XDR_FIELDS(state, reason)
  VA_WIRE_EQ(domain_get_state_ret)
};

struct domain_get_os_type_ret {
  std::string type;
  VA_XDR_FIELDS(type)
  VA_WIRE_EQ(domain_get_os_type_ret)
};

struct domain_get_max_memory_ret {
  uint64_t memory = 0;
  VA_XDR_FIELDS(memory)
  VA_WIRE_EQ(domain_get_max_memory_ret)
};

struct domain_set_autostart_args {
  nonnull_domain dom;
  int32_t autostart = 0;
  VA_XDR_FIELDS(dom, autostart)
  VA_WIRE_EQ(domain_set_autostart_args)
};

/// DOMAIN_SET_MEMORY and DOMAIN_SET_MAX_MEMORY.
struct domain_set_memory_args {
  nonnull_domain dom;
  uint64_t memory = 0;
  VA_XDR_FIELDS(dom, memory)
  VA_WIRE_EQ(domain_set_memory_args)
};

struct domain_set_memory_flags_args {
  nonnull_domain dom;
  uint64_t memory = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(dom, memory, flags)
  VA_WIRE_EQ(domain_set_memory_flags_args)
};

struct domain_set_vcpus_args {
  nonnull_domain dom;
  uint32_t nvcpus = 0;
  VA_XDR_FIELDS(dom, nvcpus)
  VA_WIRE_EQ(domain_set_vcpus_args)
};

struct domain_set_vcpus_flags_args {
  nonnull_domain dom;
  uint32_t nvcpus = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(dom, nvcpus, flags)
  VA_WIRE_EQ(domain_set_vcpus_flags_args)
};

struct domain_get_security_label_ret {
  xdr::char_array<security_label_max> label;
  int32_t enforcing = 0;
  VA_XDR_FIELDS(label, enforcing)
  VA_WIRE_EQ(domain_get_security_label_ret)
};

struct domain_get_messages_ret {
  xdr::array<std::string, domain_messages_max> msgs;
  VA_XDR_FIELDS(msgs)
  VA_WIRE_EQ(domain_get_messages_ret)
};

/// Every reply that is one `int` (autostart, active, persistent, updated,
/// result, num): the wire form is the same 4 bytes whatever libvirt calls it.
struct int_ret {
  int32_t value = 0;
  VA_XDR_FIELDS(value)
  VA_WIRE_EQ(int_ret)
};

// -- domains: bulk statistics ----------------------------------------------------------------

/// CONNECT_GET_ALL_DOMAIN_STATS: `virConnectGetAllDomainStats` (no `doms`)
/// and `virDomainListGetStats` (the domains named) share the procedure.
/// `stats` is a set of VIR_DOMAIN_STATS_* groups (0: all the driver has),
/// `flags` the VIR_CONNECT_GET_ALL_DOMAINS_STATS_* filters and modes.
struct connect_get_all_domain_stats_args {
  xdr::array<nonnull_domain, domain_list_max> doms;
  uint32_t stats = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(doms, stats, flags)
  VA_WIRE_EQ(connect_get_all_domain_stats_args)
};

/// `remote_domain_stats_record`: one domain and its `group.field` values.
struct domain_stats_record {
  nonnull_domain dom;
  xdr::array<typed_param, connect_get_all_domain_stats_max> params;
  VA_XDR_FIELDS(dom, params)
  VA_WIRE_EQ(domain_stats_record)
};

struct connect_get_all_domain_stats_ret {
  xdr::array<domain_stats_record, domain_list_max> ret_stats;
  VA_XDR_FIELDS(ret_stats)
  VA_WIRE_EQ(connect_get_all_domain_stats_ret)
};

// -- networks -------------------------------------------------------------------------------

struct connect_list_all_networks_args {
  int32_t need_results = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(need_results, flags)
  VA_WIRE_EQ(connect_list_all_networks_args)
};

struct connect_list_all_networks_ret {
  xdr::array<nonnull_network, network_list_max> nets;
  uint32_t ret = 0;
  VA_XDR_FIELDS(nets, ret)
  VA_WIRE_EQ(connect_list_all_networks_ret)
};

struct net_only {
  nonnull_network net;
  VA_XDR_FIELDS(net)
  VA_WIRE_EQ(net_only)
};

struct net_flags_args {
  nonnull_network net;
  uint32_t flags = 0;
  VA_XDR_FIELDS(net, flags)
  VA_WIRE_EQ(net_flags_args)
};

struct network_set_autostart_args {
  nonnull_network net;
  int32_t autostart = 0;
  VA_XDR_FIELDS(net, autostart)
  VA_WIRE_EQ(network_set_autostart_args)
};

struct network_get_bridge_name_ret {
  std::string name;
  VA_XDR_FIELDS(name)
  VA_WIRE_EQ(network_get_bridge_name_ret)
};

// -- storage pools and volumes -------------------------------------------------------------

struct connect_list_all_storage_pools_args {
  int32_t need_results = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(need_results, flags)
  VA_WIRE_EQ(connect_list_all_storage_pools_args)
};

struct connect_list_all_storage_pools_ret {
  xdr::array<nonnull_storage_pool, storage_pool_list_max> pools;
  uint32_t ret = 0;
  VA_XDR_FIELDS(pools, ret)
  VA_WIRE_EQ(connect_list_all_storage_pools_ret)
};

struct pool_only {
  nonnull_storage_pool pool;
  VA_XDR_FIELDS(pool)
  VA_WIRE_EQ(pool_only)
};

struct pool_flags_args {
  nonnull_storage_pool pool;
  uint32_t flags = 0;
  VA_XDR_FIELDS(pool, flags)
  VA_WIRE_EQ(pool_flags_args)
};

struct storage_pool_set_autostart_args {
  nonnull_storage_pool pool;
  int32_t autostart = 0;
  VA_XDR_FIELDS(pool, autostart)
  VA_WIRE_EQ(storage_pool_set_autostart_args)
};

/// `remote_storage_pool_get_info_ret`: `unsigned char state` (4 bytes).
struct storage_pool_get_info_ret {
  uint32_t state = 0;
  uint64_t capacity = 0;
  uint64_t allocation = 0;
  uint64_t available = 0;
  VA_XDR_FIELDS(state, capacity, allocation, available)
  VA_WIRE_EQ(storage_pool_get_info_ret)
};

struct storage_pool_list_volumes_args {
  nonnull_storage_pool pool;
  int32_t maxnames = 0;
  VA_XDR_FIELDS(pool, maxnames)
  VA_WIRE_EQ(storage_pool_list_volumes_args)
};

struct storage_pool_list_all_volumes_args {
  nonnull_storage_pool pool;
  int32_t need_results = 0;
  uint32_t flags = 0;
  VA_XDR_FIELDS(pool, need_results, flags)
  VA_WIRE_EQ(storage_pool_list_all_volumes_args)
};

struct storage_pool_list_all_volumes_ret {
  xdr::array<nonnull_storage_vol, storage_vol_list_max> vols;
  uint32_t ret = 0;
  VA_XDR_FIELDS(vols, ret)
  VA_WIRE_EQ(storage_pool_list_all_volumes_ret)
};

struct storage_vol_create_xml_args {
  nonnull_storage_pool pool;
  std::string xml;
  uint32_t flags = 0;
  VA_XDR_FIELDS(pool, xml, flags)
  VA_WIRE_EQ(storage_vol_create_xml_args)
};

struct vol_only {
  nonnull_storage_vol vol;
  VA_XDR_FIELDS(vol)
  VA_WIRE_EQ(vol_only)
};

struct vol_flags_args {
  nonnull_storage_vol vol;
  uint32_t flags = 0;
  VA_XDR_FIELDS(vol, flags)
  VA_WIRE_EQ(vol_flags_args)
};

struct storage_vol_lookup_by_name_args {
  nonnull_storage_pool pool;
  std::string name;
  VA_XDR_FIELDS(pool, name)
  VA_WIRE_EQ(storage_vol_lookup_by_name_args)
};

/// STORAGE_VOL_LOOKUP_BY_KEY (`key`) and _BY_PATH (`path`): one string.
struct string_args {
  std::string value;
  VA_XDR_FIELDS(value)
  VA_WIRE_EQ(string_args)
};

/// `remote_storage_vol_get_info_ret`: `char type` (4 bytes, signed).
struct storage_vol_get_info_ret {
  int32_t type = 0;
  uint64_t capacity = 0;
  uint64_t allocation = 0;
  VA_XDR_FIELDS(type, capacity, allocation)
  VA_WIRE_EQ(storage_vol_get_info_ret)
};

struct storage_vol_get_path_ret {
  std::string name;
  VA_XDR_FIELDS(name)
  VA_WIRE_EQ(storage_vol_get_path_ret)
};

// -- events --------------------------------------------------------------------------------

struct connect_domain_event_callback_register_any_args {
  int32_t event_id = 0;
  std::optional<nonnull_domain> dom;
  VA_XDR_FIELDS(event_id, dom)
  VA_WIRE_EQ(connect_domain_event_callback_register_any_args)
};

struct connect_domain_event_callback_register_any_ret {
  int32_t callback_id = 0;
  VA_XDR_FIELDS(callback_id)
  VA_WIRE_EQ(connect_domain_event_callback_register_any_ret)
};

struct connect_domain_event_callback_deregister_any_args {
  int32_t callback_id = 0;
  VA_XDR_FIELDS(callback_id)
  VA_WIRE_EQ(connect_domain_event_callback_deregister_any_args)
};

/// Legacy CONNECT_DOMAIN_EVENT_REGISTER_ANY / DEREGISTER_ANY (167 / 168).
struct connect_domain_event_register_any_args {
  int32_t event_id = 0;
  VA_XDR_FIELDS(event_id)
  VA_WIRE_EQ(connect_domain_event_register_any_args)
};

/// `remote_domain_event_lifecycle_msg` (legacy proc 107).
struct domain_event_lifecycle_msg {
  nonnull_domain dom;
  int32_t event = 0;
  int32_t detail = 0;
  VA_XDR_FIELDS(dom, event, detail)
  VA_WIRE_EQ(domain_event_lifecycle_msg)
};

/// `remote_domain_event_callback_lifecycle_msg` (proc 318).
struct domain_event_callback_lifecycle_msg {
  int32_t callback_id = 0;
  domain_event_lifecycle_msg msg;
  VA_XDR_FIELDS(callback_id, msg)
  VA_WIRE_EQ(domain_event_callback_lifecycle_msg)
};

/// `remote_domain_event_reboot_msg` (legacy proc 108).
struct domain_event_reboot_msg {
  nonnull_domain dom;
  VA_XDR_FIELDS(dom)
  VA_WIRE_EQ(domain_event_reboot_msg)
};

/// `remote_domain_event_callback_reboot_msg` (proc 319).
struct domain_event_callback_reboot_msg {
  int32_t callback_id = 0;
  domain_event_reboot_msg msg;
  VA_XDR_FIELDS(callback_id, msg)
  VA_WIRE_EQ(domain_event_callback_reboot_msg)
};

/// `remote_domain_event_control_error_msg` (legacy proc 224).
struct domain_event_control_error_msg {
  nonnull_domain dom;
  VA_XDR_FIELDS(dom)
  VA_WIRE_EQ(domain_event_control_error_msg)
};

/// `remote_domain_event_callback_control_error_msg` (proc 325).
struct domain_event_callback_control_error_msg {
  int32_t callback_id = 0;
  domain_event_control_error_msg msg;
  VA_XDR_FIELDS(callback_id, msg)
  VA_WIRE_EQ(domain_event_callback_control_error_msg)
};

/// `remote_connect_event_connection_closed_msg` (proc 362).
struct connect_event_connection_closed_msg {
  int32_t reason = 0;
  VA_XDR_FIELDS(reason)
  VA_WIRE_EQ(connect_event_connection_closed_msg)
};

} // namespace virtactor::protocol
