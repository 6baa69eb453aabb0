/// The test driver's networks: definitions, active and persistent state,
/// autostart, and every network procedure, with libvirt 9.0's test-driver
/// rules (most calls find the network by the handle's *name*, a few by uuid).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <any>

#include "drivers/conf/call_context.hpp"
#include "drivers/xml/network_xml.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::test {

using conf::call_context;

/// One network (`virNetworkObj`).
struct network_object {
  xml::network_def def;                   ///< the current definition
  std::optional<xml::network_def> new_def; ///< persistent config saved while active
  bool active = false;
  bool persistent = false;
  bool autostart = false;
};

/// All networks of one driver state.
class network_set {
public:
  /// A network of the node configuration: defined (persistent) and active.
  result<void> add_from_node(xml::network_def def);

  /// Performs network procedure `proc`.
  result<xdr::buffer> dispatch(int32_t proc, const std::any& args, call_context& ctx);

  /// True for the procedures `dispatch` implements.
  static bool handles(int32_t proc);

  const std::vector<network_object>& networks() const { return nets_; }

private:
  network_object* find_name(const std::string& name);
  network_object* find_uuid(const xdr::uuid& uuid);
  result<network_object*> by_name(const std::string& name);
  result<network_object*> by_uuid(const xdr::uuid& uuid);
  /// `virNetworkObjAssignDef`: the clash checks, then a new network or the
  /// new definition of an existing one.
  result<network_object*> assign(xml::network_def def, bool live);
  /// virNetworkDefineXML (create false) or virNetworkCreateXML (true).
  result<protocol::net_only> define_or_create(const std::string& xml, bool create);
  void remove(const network_object* n);

  std::vector<network_object> nets_;
};

} // namespace virtactor::drivers::test
