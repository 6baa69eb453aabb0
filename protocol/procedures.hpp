/// The procedure table: for every REMOTE procedure virtactor implements, its
/// argument and return structs, the public API it serves (libvirt's name, used
/// in error messages) and whether a read-only connection may call it.
///
/// `VA_REMOTE_PROCS` is the one list; `proc_traits<P>` (compile time, for typed
/// calls) and `find_proc_info` (run time, for dispatch and read-only checks)
/// are both generated from it.
#pragma once

#include <any>

#include "protocol/procedure_numbers.hpp"
#include "protocol/remote_protocol.hpp"

namespace virtactor::protocol {

/// What a read-only connection may do with a procedure.
enum class access : uint8_t {
  read,  ///< allowed on read-only connections
  write, ///< refused with VIR_ERR_OPERATION_DENIED on read-only connections
};

// X(proc, args, ret, api, access), in protocol (procedure number) order.
// clang-format off
#define VA_REMOTE_PROCS(X) \
  X(connect_open, connect_open_args, xdr::empty, "virConnectOpen", read) \
  X(connect_close, xdr::empty, xdr::empty, "virConnectClose", read) \
  X(connect_get_type, xdr::empty, connect_get_type_ret, "virConnectGetType", read) \
  X(connect_get_version, xdr::empty, connect_get_version_ret, "virConnectGetVersion", read) \
  X(connect_get_max_vcpus, connect_get_max_vcpus_args, connect_get_max_vcpus_ret, "virConnectGetMaxVcpus", read) \
  X(node_get_info, xdr::empty, node_get_info_ret, "virNodeGetInfo", read) \
  X(connect_get_capabilities, xdr::empty, connect_get_capabilities_ret, "virConnectGetCapabilities", read) \
  X(domain_create, dom_only, xdr::empty, "virDomainCreate", write) \
  X(domain_create_xml, domain_create_xml_args, dom_only, "virDomainCreateXML", write) \
  X(domain_define_xml, xml_args, dom_only, "virDomainDefineXML", write) \
  X(domain_destroy, dom_only, xdr::empty, "virDomainDestroy", write) \
  X(domain_get_xml_desc, dom_flags_args, xml_ret, "virDomainGetXMLDesc", read) \
  X(domain_get_autostart, dom_only, int_ret, "virDomainGetAutostart", read) \
  X(domain_get_info, dom_only, domain_get_info_ret, "virDomainGetInfo", read) \
  X(domain_get_max_memory, dom_only, domain_get_max_memory_ret, "virDomainGetMaxMemory", read) \
  X(domain_get_max_vcpus, dom_only, int_ret, "virDomainGetMaxVcpus", read) \
  X(domain_get_os_type, dom_only, domain_get_os_type_ret, "virDomainGetOSType", read) \
  X(connect_list_defined_domains, maxnames_args, connect_list_defined_domains_ret, "virConnectListDefinedDomains", read) \
  X(domain_lookup_by_id, domain_lookup_by_id_args, dom_only, "virDomainLookupByID", read) \
  X(domain_lookup_by_name, name_args, dom_only, "virDomainLookupByName", read) \
  X(domain_lookup_by_uuid, uuid_args, dom_only, "virDomainLookupByUUID", read) \
  X(connect_num_of_defined_domains, xdr::empty, num_ret, "virConnectNumOfDefinedDomains", read) \
  X(domain_reboot, dom_flags_args, xdr::empty, "virDomainReboot", write) \
  X(domain_resume, dom_only, xdr::empty, "virDomainResume", write) \
  X(domain_set_autostart, domain_set_autostart_args, xdr::empty, "virDomainSetAutostart", write) \
  X(domain_set_max_memory, domain_set_memory_args, xdr::empty, "virDomainSetMaxMemory", write) \
  X(domain_set_memory, domain_set_memory_args, xdr::empty, "virDomainSetMemory", write) \
  X(domain_set_vcpus, domain_set_vcpus_args, xdr::empty, "virDomainSetVcpus", write) \
  X(domain_shutdown, dom_only, xdr::empty, "virDomainShutdown", write) \
  X(domain_suspend, dom_only, xdr::empty, "virDomainSuspend", write) \
  X(domain_undefine, dom_only, xdr::empty, "virDomainUndefine", write) \
  X(connect_list_defined_networks, maxnames_args, connect_list_networks_ret, "virConnectListDefinedNetworks", read) \
  X(connect_list_domains, connect_list_domains_args, connect_list_domains_ret, "virConnectListDomains", read) \
  X(connect_list_networks, maxnames_args, connect_list_networks_ret, "virConnectListNetworks", read) \
  X(network_create, net_only, xdr::empty, "virNetworkCreate", write) \
  X(network_create_xml, xml_args, net_only, "virNetworkCreateXML", write) \
  X(network_define_xml, xml_args, net_only, "virNetworkDefineXML", write) \
  X(network_destroy, net_only, xdr::empty, "virNetworkDestroy", write) \
  X(network_get_xml_desc, net_flags_args, xml_ret, "virNetworkGetXMLDesc", read) \
  X(network_get_autostart, net_only, int_ret, "virNetworkGetAutostart", read) \
  X(network_get_bridge_name, net_only, network_get_bridge_name_ret, "virNetworkGetBridgeName", read) \
  X(network_lookup_by_name, name_args, net_only, "virNetworkLookupByName", read) \
  X(network_lookup_by_uuid, uuid_args, net_only, "virNetworkLookupByUUID", read) \
  X(network_set_autostart, network_set_autostart_args, xdr::empty, "virNetworkSetAutostart", write) \
  X(network_undefine, net_only, xdr::empty, "virNetworkUndefine", write) \
  X(connect_num_of_defined_networks, xdr::empty, num_ret, "virConnectNumOfDefinedNetworks", read) \
  X(connect_num_of_domains, xdr::empty, num_ret, "virConnectNumOfDomains", read) \
  X(connect_num_of_networks, xdr::empty, num_ret, "virConnectNumOfNetworks", read) \
  X(connect_get_hostname, xdr::empty, connect_get_hostname_ret, "virConnectGetHostname", read) \
  X(connect_supports_feature, connect_supports_feature_args, connect_supports_feature_ret, "virConnectSupportsFeature", read) \
  X(auth_list, xdr::empty, auth_list_ret, "virConnectOpenAuth", read) \
  X(auth_sasl_init, xdr::empty, auth_sasl_init_ret, "virConnectOpenAuth", read) \
  X(auth_sasl_start, auth_sasl_start_args, auth_sasl_start_ret, "virConnectOpenAuth", read) \
  X(auth_sasl_step, auth_sasl_step_args, auth_sasl_step_ret, "virConnectOpenAuth", read) \
  X(auth_polkit, xdr::empty, auth_polkit_ret, "virConnectOpenAuth", read) \
  X(connect_num_of_storage_pools, xdr::empty, num_ret, "virConnectNumOfStoragePools", read) \
  X(connect_list_storage_pools, maxnames_args, connect_list_storage_pools_ret, "virConnectListStoragePools", read) \
  X(connect_num_of_defined_storage_pools, xdr::empty, num_ret, "virConnectNumOfDefinedStoragePools", read) \
  X(connect_list_defined_storage_pools, maxnames_args, connect_list_storage_pools_ret, "virConnectListDefinedStoragePools", read) \
  X(storage_pool_create_xml, xml_flags_args, pool_only, "virStoragePoolCreateXML", write) \
  X(storage_pool_define_xml, xml_flags_args, pool_only, "virStoragePoolDefineXML", write) \
  X(storage_pool_create, pool_flags_args, xdr::empty, "virStoragePoolCreate", write) \
  X(storage_pool_build, pool_flags_args, xdr::empty, "virStoragePoolBuild", write) \
  X(storage_pool_destroy, pool_only, xdr::empty, "virStoragePoolDestroy", write) \
  X(storage_pool_delete, pool_flags_args, xdr::empty, "virStoragePoolDelete", write) \
  X(storage_pool_undefine, pool_only, xdr::empty, "virStoragePoolUndefine", write) \
  X(storage_pool_refresh, pool_flags_args, xdr::empty, "virStoragePoolRefresh", write) \
  X(storage_pool_lookup_by_name, name_args, pool_only, "virStoragePoolLookupByName", read) \
  X(storage_pool_lookup_by_uuid, uuid_args, pool_only, "virStoragePoolLookupByUUID", read) \
  X(storage_pool_lookup_by_volume, vol_only, pool_only, "virStoragePoolLookupByVolume", read) \
  X(storage_pool_get_info, pool_only, storage_pool_get_info_ret, "virStoragePoolGetInfo", read) \
  X(storage_pool_get_xml_desc, pool_flags_args, xml_ret, "virStoragePoolGetXMLDesc", read) \
  X(storage_pool_get_autostart, pool_only, int_ret, "virStoragePoolGetAutostart", read) \
  X(storage_pool_set_autostart, storage_pool_set_autostart_args, xdr::empty, "virStoragePoolSetAutostart", write) \
  X(storage_pool_num_of_volumes, pool_only, num_ret, "virStoragePoolNumOfVolumes", read) \
  X(storage_pool_list_volumes, storage_pool_list_volumes_args, storage_pool_list_volumes_ret, "virStoragePoolListVolumes", read) \
  X(storage_vol_create_xml, storage_vol_create_xml_args, vol_only, "virStorageVolCreateXML", write) \
  X(storage_vol_delete, vol_flags_args, xdr::empty, "virStorageVolDelete", write) \
  X(storage_vol_lookup_by_name, storage_vol_lookup_by_name_args, vol_only, "virStorageVolLookupByName", read) \
  X(storage_vol_lookup_by_key, string_args, vol_only, "virStorageVolLookupByKey", read) \
  X(storage_vol_lookup_by_path, string_args, vol_only, "virStorageVolLookupByPath", read) \
  X(storage_vol_get_info, vol_only, storage_vol_get_info_ret, "virStorageVolGetInfo", read) \
  X(storage_vol_get_xml_desc, vol_flags_args, xml_ret, "virStorageVolGetXMLDesc", read) \
  X(storage_vol_get_path, vol_only, storage_vol_get_path_ret, "virStorageVolGetPath", read) \
  X(node_get_cells_free_memory, node_get_cells_free_memory_args, node_get_cells_free_memory_ret, "virNodeGetCellsFreeMemory", read) \
  X(node_get_free_memory, xdr::empty, node_get_free_memory_ret, "virNodeGetFreeMemory", read) \
  X(connect_get_uri, xdr::empty, connect_get_uri_ret, "virConnectGetURI", read) \
  X(domain_get_security_label, dom_only, domain_get_security_label_ret, "virDomainGetSecurityLabel", read) \
  X(node_get_security_model, xdr::empty, node_get_security_model_ret, "virNodeGetSecurityModel", read) \
  X(connect_is_secure, xdr::empty, connect_is_secure_ret, "virConnectIsSecure", read) \
  X(domain_is_active, dom_only, int_ret, "virDomainIsActive", read) \
  X(domain_is_persistent, dom_only, int_ret, "virDomainIsPersistent", read) \
  X(network_is_active, net_only, int_ret, "virNetworkIsActive", read) \
  X(network_is_persistent, net_only, int_ret, "virNetworkIsPersistent", read) \
  X(storage_pool_is_active, pool_only, int_ret, "virStoragePoolIsActive", read) \
  X(storage_pool_is_persistent, pool_only, int_ret, "virStoragePoolIsPersistent", read) \
  X(connect_get_lib_version, xdr::empty, connect_get_lib_version_ret, "virConnectGetLibVersion", read) \
  X(connect_domain_event_register_any, connect_domain_event_register_any_args, xdr::empty, "virConnectDomainEventRegisterAny", read) \
  X(connect_domain_event_deregister_any, connect_domain_event_register_any_args, xdr::empty, "virConnectDomainEventDeregisterAny", read) \
  X(domain_has_managed_save_image, dom_flags_args, int_ret, "virDomainHasManagedSaveImage", read) \
  X(domain_snapshot_num, dom_flags_args, num_ret, "virDomainSnapshotNum", read) \
  X(domain_create_with_flags, dom_flags_args, dom_only, "virDomainCreateWithFlags", write) \
  X(domain_set_vcpus_flags, domain_set_vcpus_flags_args, xdr::empty, "virDomainSetVcpusFlags", write) \
  X(domain_get_vcpus_flags, dom_flags_args, int_ret, "virDomainGetVcpusFlags", read) \
  X(domain_is_updated, dom_only, int_ret, "virDomainIsUpdated", read) \
  X(connect_get_sysinfo, connect_get_sysinfo_args, connect_get_sysinfo_ret, "virConnectGetSysinfo", read) \
  X(domain_set_memory_flags, domain_set_memory_flags_args, xdr::empty, "virDomainSetMemoryFlags", write) \
  X(domain_get_state, dom_flags_args, domain_get_state_ret, "virDomainGetState", read) \
  X(domain_undefine_flags, dom_flags_args, xdr::empty, "virDomainUndefineFlags", write) \
  X(domain_destroy_flags, dom_flags_args, xdr::empty, "virDomainDestroyFlags", write) \
  X(domain_reset, dom_flags_args, xdr::empty, "virDomainReset", write) \
  X(domain_shutdown_flags, dom_flags_args, xdr::empty, "virDomainShutdownFlags", write) \
  X(connect_list_all_domains, connect_list_all_domains_args, connect_list_all_domains_ret, "virConnectListAllDomains", read) \
  X(connect_list_all_storage_pools, connect_list_all_storage_pools_args, connect_list_all_storage_pools_ret, "virConnectListAllStoragePools", read) \
  X(storage_pool_list_all_volumes, storage_pool_list_all_volumes_args, storage_pool_list_all_volumes_ret, "virStoragePoolListAllVolumes", read) \
  X(connect_list_all_networks, connect_list_all_networks_args, connect_list_all_networks_ret, "virConnectListAllNetworks", read) \
  X(connect_domain_event_callback_register_any, connect_domain_event_callback_register_any_args, connect_domain_event_callback_register_any_ret, "virConnectDomainEventRegisterAny", read) \
  X(connect_domain_event_callback_deregister_any, connect_domain_event_callback_deregister_any_args, xdr::empty, "virConnectDomainEventDeregisterAny", read) \
  X(connect_get_all_domain_stats, connect_get_all_domain_stats_args, connect_get_all_domain_stats_ret, "virConnectGetAllDomainStats", read) \
  X(domain_define_xml_flags, xml_flags_args, dom_only, "virDomainDefineXMLFlags", write) \
  X(connect_register_close_callback, xdr::empty, xdr::empty, "virConnectRegisterCloseCallback", read) \
  X(connect_unregister_close_callback, xdr::empty, xdr::empty, "virConnectUnregisterCloseCallback", read) \
  X(domain_get_messages, dom_flags_args, domain_get_messages_ret, "virDomainGetMessages", read) \
  X(network_define_xml_flags, xml_flags_args, net_only, "virNetworkDefineXMLFlags", write) \
  X(network_create_xml_flags, xml_flags_args, net_only, "virNetworkCreateXMLFlags", write)
// clang-format on

/// Compile-time facts about procedure `P`: its argument and return structs.
template <proc P>
struct proc_traits;

#define VA_PROC_TRAITS(p, A, R, api_name, acc)                                                     \
  template <>                                                                                      \
  struct proc_traits<proc::p> {                                                                    \
    using args = A;                                                                                \
    using ret = R;                                                                                 \
    static constexpr const char* api = api_name;                                                   \
    static constexpr protocol::access access = protocol::access::acc;                              \
  };
VA_REMOTE_PROCS(VA_PROC_TRAITS)
#undef VA_PROC_TRAITS

/// Run-time facts about an implemented procedure.
struct proc_info {
  proc id;
  const char* api;
  protocol::access access;
};

/// The entry for `number`, or nullptr when virtactor does not implement it.
const proc_info* find_proc_info(int32_t number);

/// Checks that `[data, data + size)` decodes as the argument struct of the
/// implemented procedure `number`. Returns the reason on failure, an empty
/// string on success (and for procedures virtactor does not implement).
std::string check_args(int32_t number, const char* data, size_t size);

/// Decodes the argument struct of implemented procedure `number` into `out`
/// (holding a `proc_traits<P>::args`). Returns the reason on failure, an
/// empty string on success; `out` stays empty for procedures virtactor does
/// not implement.
std::string decode_args(int32_t number, const char* data, size_t size, std::any& out);

/// The kind of object a procedure's arguments start with: how a driver routes
/// the call. Derived from the argument struct's first field.
enum class object_kind : uint8_t { connect, domain, network, pool, volume };

/// The object kind of implemented procedure `number` (`connect` for unknown ones).
object_kind object_of(int32_t number);

/// The family of objects implemented procedure `number` serves, from its public
/// API's name: `virConnectListAllNetworks` and `virNetworkCreate` are both
/// `network`; volumes are `volume`, pools `pool`; the host's are `connect`.
object_kind family_of(int32_t number);

/// Lifecycle-style MESSAGE procedures sent from server to client.
inline constexpr int32_t proc_domain_event_lifecycle = static_cast<int32_t>(proc::domain_event_lifecycle);
inline constexpr int32_t proc_domain_event_reboot = static_cast<int32_t>(proc::domain_event_reboot);
inline constexpr int32_t proc_domain_event_callback_lifecycle =
  static_cast<int32_t>(proc::domain_event_callback_lifecycle);
inline constexpr int32_t proc_domain_event_callback_reboot =
  static_cast<int32_t>(proc::domain_event_callback_reboot);
inline constexpr int32_t proc_connect_event_connection_closed =
  static_cast<int32_t>(proc::connect_event_connection_closed);
inline constexpr int32_t proc_domain_event_control_error =
  static_cast<int32_t>(proc::domain_event_control_error);
inline constexpr int32_t proc_domain_event_callback_control_error =
  static_cast<int32_t>(proc::domain_event_callback_control_error);
static_assert(proc_domain_event_lifecycle == 107 && proc_domain_event_reboot == 169 &&
              proc_domain_event_callback_lifecycle == 318 &&
              proc_domain_event_callback_reboot == 319 &&
              proc_connect_event_connection_closed == 362 &&
              proc_domain_event_control_error == 224 &&
              proc_domain_event_callback_control_error == 325);

} // namespace virtactor::protocol
