/// One domain of the test driver: its persistent and live definitions, state
/// and reason, id, autostart and persistence, and every REMOTE procedure that
/// operates on it, with libvirt 9.0's test-driver rules, errors and events.
#pragma once

#include <cstdint>
#include <memory>

#include "drivers/test/call_context.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::xml {
struct domain_def;
} // namespace virtactor::drivers::xml

namespace virtactor::drivers::test {

/// `virDomainState` values.
enum class domain_state : int32_t {
  nostate = 0,
  running = 1,
  blocked = 2,
  paused = 3,
  shutdown = 4,
  shutoff = 5,
  crashed = 6,
  pmsuspended = 7,
};

/// What the set-level index (`driver_state`) needs to know about a domain:
/// enough for lookups, listings with every VIR_CONNECT_LIST_DOMAINS_* filter,
/// and for dropping the domain once it is gone.
struct domain_summary {
  /// The current handle: name, uuid, and id (-1 while inactive).
  protocol::nonnull_domain dom;
  int32_t state = static_cast<int32_t>(domain_state::shutoff);
  int32_t reason = 0;
  bool active = false;
  bool persistent = false;
  bool autostart = false;
  bool has_managed_save = false;
  int32_t snapshot_count = 0;
  /// The domain no longer exists: undefined while inactive, or a transient
  /// domain that stopped. The index drops it and the caller discards the object.
  bool removed = false;

  bool operator==(const domain_summary&) const = default;
};

/// One domain. Not thread-safe: the actor layer serialises calls (libvirt's
/// job lock).
class domain_object {
public:
  /// How the domain enters the driver state.
  enum class origin {
    defined,  ///< persistent and inactive (DEFINE_XML, a shut-off node-file domain)
    started,  ///< persistent and running (a node-file domain)
    created,  ///< transient and running (CREATE_XML)
  };

  /// A domain from `def`. `id` is used when the domain starts running
  /// (`origin::started` / `origin::created`), else ignored.
  domain_object(xml::domain_def def, origin how, int32_t id);
  ~domain_object();
  domain_object(const domain_object&) = delete;
  domain_object& operator=(const domain_object&) = delete;

  /// Performs REMOTE procedure `proc` on this domain: decodes `args` (the
  /// procedure's args struct from protocol/procedures.hpp), applies the test
  /// driver's rules and returns the encoded ret struct, or libvirt's error.
  /// Besides the procedures whose args start with a domain handle, accepts
  /// DOMAIN_DEFINE_XML(_FLAGS) and DOMAIN_CREATE_XML whose XML names this
  /// domain (same name and uuid): redefinition, or a start with a new live def.
  /// A procedure the model does not implement gets libvirt's NO_SUPPORT error.
  result<xdr::buffer> dispatch(int32_t proc, const xdr::buffer& args, call_context& ctx);

  /// Overrides the state after construction: a node file's `test:runstate`
  /// (with reason 0) and `test:hasmanagedsave`.
  void set_initial_state(int32_t state, int32_t reason, bool has_managed_save);

  /// The current summary; call after every `dispatch`.
  domain_summary summary() const;

  /// True for the procedures `dispatch` implements.
  static bool handles(int32_t proc);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace virtactor::drivers::test
