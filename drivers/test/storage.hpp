/// The test driver's storage: pools with their volumes, and every pool and
/// volume procedure, with libvirt 9.0's test-driver rules (pool capacity of
/// 100 GiB, allocation kept as volumes come and go, volume keys = paths).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <any>

#include "drivers/conf/call_context.hpp"
#include "drivers/xml/storage_xml.hpp"
#include "protocol/error.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::test {

using conf::call_context;

/// One storage pool (`virStoragePoolObj`).
struct pool_object {
  xml::pool_def def;
  std::optional<xml::pool_def> new_def; ///< redefinition saved while active
  bool active = false;
  bool persistent = false; ///< libvirt: has a config file
  bool autostart = false;
  std::vector<xml::volume_def> volumes;
};

/// All storage pools of one driver state.
class pool_set {
public:
  /// A pool of the node configuration with its volumes: persistent and active.
  result<void> add_from_node(xml::pool_def def, std::vector<xml::volume_def> volumes);

  /// Performs pool or volume procedure `proc`.
  result<xdr::buffer> dispatch(int32_t proc, const std::any& args, call_context& ctx);

  /// True for the procedures `dispatch` implements.
  static bool handles(int32_t proc);

  const std::vector<pool_object>& pools() const { return pools_; }

private:
  pool_object* find_name(const std::string& name);
  result<pool_object*> by_name(const std::string& name);
  result<pool_object*> by_uuid(const xdr::uuid& uuid);
  result<pool_object*> active_by_name(const std::string& name);
  result<pool_object*> inactive_by_name(const std::string& name);
  /// `virStoragePoolObjListAdd`: source and name/uuid clash checks, then a
  /// new pool or the new definition of an existing one.
  result<pool_object*> add(xml::pool_def def, bool check_live);
  void remove(const pool_object* p);

  std::vector<pool_object> pools_;
};

} // namespace virtactor::drivers::test
