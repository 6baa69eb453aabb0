/// One domain as every driver keeps it (libvirt's `virDomainObj`): the
/// persistent and live definitions, state and reason, id, persistence,
/// autostart, and the rules that decide which definition a call affects.
/// Drivers add what is theirs (a QEMU process, a monitor) in their backend.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "drivers/xml/domain_xml.hpp"
#include "protocol/error.hpp"
#include "protocol/remote_protocol.hpp"
#include "protocol/xdr.hpp"

namespace virtactor::drivers::conf {

/// `virDomainState`.
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

/// The state reasons libvirt-domain.h numbers per state.
namespace reason {
inline constexpr int32_t unknown = 0;
inline constexpr int32_t running_booted = 1;
inline constexpr int32_t running_unpaused = 5;
inline constexpr int32_t paused_user = 1;
inline constexpr int32_t paused_starting_up = 11;
inline constexpr int32_t shutdown_user = 1;
inline constexpr int32_t shutoff_shutdown = 1;
inline constexpr int32_t shutoff_destroyed = 2;
inline constexpr int32_t shutoff_crashed = 3;
inline constexpr int32_t shutoff_failed = 6;
inline constexpr int32_t shutoff_daemon = 8;
inline constexpr int32_t crashed_panicked = 1;
} // namespace reason

/// The details of lifecycle events (`virDomainEvent*DetailType`).
namespace detail {
inline constexpr int32_t defined_added = 0;
inline constexpr int32_t defined_updated = 1;
inline constexpr int32_t undefined_removed = 0;
inline constexpr int32_t started_booted = 0;
inline constexpr int32_t suspended_paused = 0;
inline constexpr int32_t resumed_unpaused = 0;
inline constexpr int32_t stopped_shutdown = 0;
inline constexpr int32_t stopped_destroyed = 1;
inline constexpr int32_t stopped_crashed = 2;
inline constexpr int32_t stopped_failed = 5;
inline constexpr int32_t shutdown_finished = 0;
inline constexpr int32_t shutdown_guest = 1;
inline constexpr int32_t shutdown_host = 2;
} // namespace detail

/// Flag values of the domain APIs (libvirt-domain.h) the core interprets.
namespace flag {
inline constexpr uint32_t affect_live = 1;
inline constexpr uint32_t affect_config = 2;
inline constexpr uint32_t vcpu_maximum = 4;
inline constexpr uint32_t mem_maximum = 4;
inline constexpr uint32_t xml_secure = 1;
inline constexpr uint32_t xml_inactive = 2;
inline constexpr uint32_t xml_migratable = 8;
inline constexpr uint32_t destroy_graceful = 1;
inline constexpr uint32_t undefine_managed_save = 1;
inline constexpr uint32_t undefine_snapshots_metadata = 2;
} // namespace flag

/// What the domain index (`domain_list`) needs to know about a domain:
/// enough for lookups, listings with every VIR_CONNECT_LIST_DOMAINS_* filter,
/// and for dropping the domain once it is gone.
/// A domain's CPU time as its backend tells it, readable from any thread
/// (DOMAIN_GET_INFO answered from the shared index, off the domain actor).
class cpu_clock {
public:
  virtual ~cpu_clock() = default;
  virtual uint64_t cpu_time_ns() const = 0;
};

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
  /// domain that stopped. The index drops it and its actor ends.
  bool removed = false;
  /// DOMAIN_GET_INFO's figures, of the current definition.
  uint64_t max_mem_kib = 0;
  uint64_t memory_kib = 0;
  int32_t vcpus = 0;
  /// Its CPU time, when the backend tells it to readers outside the actor
  /// (null: GET_INFO goes to the domain actor). Not compared: it changes
  /// only with the state.
  std::shared_ptr<const cpu_clock> cpu;

  bool operator==(const domain_summary& o) const {
    return dom == o.dom && state == o.state && reason == o.reason && active == o.active &&
           persistent == o.persistent && autostart == o.autostart &&
           has_managed_save == o.has_managed_save && snapshot_count == o.snapshot_count &&
           removed == o.removed && max_mem_kib == o.max_mem_kib && memory_kib == o.memory_kib &&
           vcpus == o.vcpus;
  }
};

/// One domain. Not thread-safe: its domain actor serialises every use
/// (libvirt's job lock).
class domain_object {
public:
  /// How the domain enters a driver.
  enum class origin {
    defined, ///< persistent and inactive (DEFINE_XML, a definition loaded from disk)
    started, ///< persistent and running (a test node file, a reattached guest)
    created,   ///< transient and running (a test node file, a reattached transient guest)
    transient, ///< transient and not yet started (CREATE_XML of a new domain)
  };

  /// A domain from `def`. `id` is used when the domain is running
  /// (`origin::started` / `origin::created`), else ignored.
  domain_object(xml::domain_def def, origin how, int32_t id);

  /// The live definition; present exactly while the domain is active.
  std::optional<xml::domain_def> live;
  /// The persistent definition (libvirt's `def` while inactive, `newDef`
  /// while active). Absent for a domain that was never persistent; kept when a
  /// running domain is undefined, as libvirt keeps `newDef`.
  std::optional<xml::domain_def> config;
  int32_t id = -1;
  domain_state state = domain_state::shutoff;
  int32_t reason = 0;
  bool persistent = false;
  bool autostart = false;
  bool managed_save = false;
  bool removed = false;
  /// Made by CREATE_XML and not started yet: its only definition waits in
  /// `live`, but the domain is not active.
  bool starting = false;
  /// Name and uuid never change: a redefinition must keep both.
  std::string name;
  xdr::uuid uuid{};

  bool active() const { return live.has_value() && !removed && !starting; }

  /// libvirt's `vm->def`: the live definition while active, else the persistent one.
  xml::domain_def& current() { return live ? *live : *config; }
  const xml::domain_def& current() const { return live ? *live : *config; }

  /// The persistent definition, or the current one when there is none.
  const xml::domain_def& persistent_def() const { return config ? *config : current(); }

  /// libvirt's handle of the domain: its `def->id`, -1 while inactive; a
  /// transient domain that just stopped keeps its last id.
  protocol::nonnull_domain handle() const { return protocol::nonnull_domain{name, uuid, id}; }

  void set_state(domain_state s, int32_t r) {
    state = s;
    reason = r;
  }

  /// The domain starts running with `new_id` and `why`: the live definition
  /// is a copy of the persistent one unless the caller set it already.
  void mark_started(int32_t new_id, int32_t why);

  /// The domain stopped with `why`: the live definition goes; a transient
  /// domain is gone (`removed`, its definitions stay readable).
  void mark_stopped(int32_t why);

  /// `virDomainObjUpdateModificationImpact`: `flags` with LIVE or CONFIG
  /// filled in, or libvirt's error when the domain cannot be affected so.
  result<uint32_t> modification_impact(uint32_t flags) const;

  /// `virDomainObjGetOneDefState`: the one definition `flags` selects;
  /// `is_live` tells which.
  result<xml::domain_def*> one_def(uint32_t flags, bool* is_live = nullptr);

  /// `virDomainObjGetDefs`: the live and the persistent definition `flags`
  /// select (either may be null).
  result<std::pair<xml::domain_def*, xml::domain_def*>> defs(uint32_t flags);

  /// `virDomainObjAssignDef` with live = false: `def` becomes the persistent
  /// definition. True when the domain had one before (DEFINED/UPDATED), false
  /// when it becomes persistent now (DEFINED/ADDED).
  bool redefine(xml::domain_def def);

  /// The domain loses its persistent definition: a running one becomes
  /// transient, an inactive one is removed.
  void undefine();

  /// The summary the index keeps.
  domain_summary summary() const;
};

} // namespace virtactor::drivers::conf
