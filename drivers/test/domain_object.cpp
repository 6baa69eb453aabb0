#include "drivers/test/domain_object.hpp"

#include <chrono>
#include <optional>
#include <string>

#include "drivers/test/dispatch.hpp"
#include "drivers/test/domain_checks.hpp"
#include "drivers/test/domain_setup.hpp"
#include "drivers/test/errors.hpp"
#include "drivers/test/node.hpp"
#include "drivers/xml/domain_xml.hpp"
#include "drivers/xml/uuid.hpp"

namespace virtactor::drivers::test {

using protocol::proc;

namespace {

// -- flag values (libvirt-domain.h) -----------------------------------------------

constexpr uint32_t affect_live = 1;
constexpr uint32_t affect_config = 2;
constexpr uint32_t vcpu_maximum = 4;
constexpr uint32_t mem_maximum = 4;
constexpr uint32_t xml_secure = 1;
constexpr uint32_t xml_inactive = 2;
constexpr uint32_t xml_common_flags = 1 | 2 | 8; // SECURE | INACTIVE | MIGRATABLE
constexpr uint32_t reboot_flags = 1 | 2 | 4 | 8 | 16;
constexpr uint32_t destroy_graceful = 1;
constexpr uint32_t undefine_managed_save = 1;
constexpr uint32_t undefine_flags = 1 | 2; // MANAGED_SAVE | SNAPSHOTS_METADATA
constexpr uint32_t snapshot_list_flags = 0x7ff;
constexpr uint32_t message_flags = 1 | 2; // DEPRECATION | TAINTING

// -- state reasons (libvirt-domain.h) ---------------------------------------------

constexpr int32_t running_booted = 1;
constexpr int32_t running_unpaused = 5;
constexpr int32_t paused_user = 1;
constexpr int32_t shutoff_shutdown = 1;
constexpr int32_t shutoff_destroyed = 2;

// -- event details -------------------------------------------------------------------

constexpr int32_t defined_added = 0;
constexpr int32_t defined_updated = 1;
constexpr int32_t undefined_removed = 0;
constexpr int32_t started_booted = 0;
constexpr int32_t suspended_paused = 0;
constexpr int32_t resumed_unpaused = 0;
constexpr int32_t stopped_shutdown = 0;
constexpr int32_t stopped_destroyed = 1;

result<void> check_flags(uint32_t flags, uint32_t allowed, const char* function) {
  if (!errors::flags_ok(flags, allowed))
    return errors::unsupported_flags(flags & ~allowed, function);
  return {};
}

template <class Args>
result<Args> decode_args(const xdr::buffer& buf) {
  Args a;
  if (!xdr::decode(buf, a).empty())
    return errors::decode_failed();
  return a;
}

/// Microseconds of wall-clock time, as `g_get_real_time`.
uint64_t real_time_us() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

} // namespace

// -- checks before the lookup ------------------------------------------------------------

result<void> check_domain_call(int32_t number, const xdr::buffer& args, bool read_only) {
  auto flags_of = [&](const char* function, uint32_t allowed) -> result<void> {
    auto a = decode_args<protocol::dom_flags_args>(args);
    if (!a)
      return a.error();
    return check_flags(a->flags, allowed, function);
  };
  auto memory_of = [&](const char* api) -> result<void> {
    auto a = decode_args<protocol::domain_set_memory_args>(args);
    if (!a)
      return a.error();
    if (a->memory == 0)
      return errors::zero_arg("memory", api, error_domain::domain);
    return {};
  };
  switch (static_cast<proc>(number)) {
    case proc::domain_create_with_flags:
      return flags_of("testDomainCreateWithFlags", 0);
    case proc::domain_destroy_flags:
      return flags_of("testDomainDestroyFlags", destroy_graceful);
    case proc::domain_get_xml_desc: {
      auto a = decode_args<protocol::dom_flags_args>(args);
      if (!a)
        return a.error();
      if (read_only && (a->flags & xml_secure))
        return errors::forbidden("virDomainGetXMLDesc with secure flag", error_domain::domain);
      return check_flags(a->flags, xml_common_flags, "testDomainGetXMLDesc");
    }
    case proc::domain_reboot:
      return flags_of("testDomainReboot", reboot_flags);
    case proc::domain_set_max_memory:
      return memory_of("virDomainSetMaxMemory");
    case proc::domain_set_memory:
      return memory_of("virDomainSetMemory");
    case proc::domain_set_memory_flags: {
      auto a = decode_args<protocol::domain_set_memory_flags_args>(args);
      if (!a)
        return a.error();
      if (a->memory == 0)
        return errors::zero_arg("memory", "virDomainSetMemoryFlags", error_domain::domain);
      return check_flags(a->flags, affect_live | affect_config | mem_maximum,
                         "testDomainSetMemoryFlags");
    }
    case proc::domain_set_vcpus: {
      auto a = decode_args<protocol::domain_set_vcpus_args>(args);
      if (!a)
        return a.error();
      if (a->nvcpus == 0)
        return errors::zero_arg("nvcpus", "virDomainSetVcpus", error_domain::domain);
      if (a->nvcpus > static_cast<uint32_t>(max_vcpus))
        return errors::invalid_arg("requested cpu amount exceeds maximum supported amount (" +
                                   std::to_string(a->nvcpus) + " > " +
                                   std::to_string(max_vcpus) + ")");
      return {};
    }
    case proc::domain_set_vcpus_flags: {
      auto a = decode_args<protocol::domain_set_vcpus_flags_args>(args);
      if (!a)
        return a.error();
      if ((a->flags & vcpu_maximum) && !(a->flags & affect_config))
        return errors::required_flag("VIR_DOMAIN_AFFECT_CONFIG", "VIR_DOMAIN_VCPU_MAXIMUM");
      if (a->nvcpus == 0)
        return errors::zero_arg("nvcpus", "virDomainSetVcpusFlags", error_domain::domain);
      if (auto ok = check_flags(a->flags, affect_live | affect_config | vcpu_maximum,
                                "testDomainSetVcpusFlags");
          !ok)
        return ok;
      if (a->nvcpus > static_cast<uint32_t>(max_vcpus))
        return errors::invalid_arg("requested cpu amount exceeds maximum supported amount (" +
                                   std::to_string(a->nvcpus) + " > " +
                                   std::to_string(max_vcpus) + ")");
      return {};
    }
    case proc::domain_get_vcpus_flags: {
      auto a = decode_args<protocol::dom_flags_args>(args);
      if (!a)
        return a.error();
      if ((a->flags & affect_live) && (a->flags & affect_config))
        return errors::exclusive_flags("VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");
      return check_flags(a->flags, affect_live | affect_config | vcpu_maximum,
                         "testDomainGetVcpusFlags");
    }
    case proc::domain_shutdown_flags:
      return flags_of("testDomainShutdownFlags", 0);
    case proc::domain_undefine_flags:
      return flags_of("testDomainUndefineFlags", undefine_flags);
    case proc::domain_has_managed_save_image:
      return flags_of("testDomainHasManagedSaveImage", 0);
    case proc::domain_snapshot_num:
      return flags_of("testDomainSnapshotNum", snapshot_list_flags);
    case proc::domain_get_state:
      return flags_of("testDomainGetState", 0);
    case proc::domain_get_messages:
      return flags_of("testDomainGetMessages", message_flags);
    case proc::domain_set_autostart: {
      auto a = decode_args<protocol::domain_set_autostart_args>(args);
      return a ? result<void>{} : result<void>{a.error()};
    }
    default: {
      // Procedures whose args are the handle alone.
      auto a = decode_args<protocol::dom_only>(args);
      return a ? result<void>{} : result<void>{a.error()};
    }
  }
}

// -- the domain ----------------------------------------------------------------------------

struct domain_object::impl {
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

  /// Name and uuid never change: a redefinition must keep both.
  std::string name;
  xdr::uuid uuid{};

  bool active() const { return live.has_value() && !removed; }

  /// libvirt's `vm->def`.
  xml::domain_def& current() { return live ? *live : *config; }
  const xml::domain_def& current() const { return live ? *live : *config; }

  /// libvirt's handle of the domain: its `def->id`, -1 while inactive; a
  /// transient domain that just stopped keeps its last id.
  protocol::nonnull_domain handle() const { return protocol::nonnull_domain{name, uuid, id}; }

  void set_state(domain_state s, int32_t r) {
    state = s;
    reason = r;
  }

  /// `testDomainStartState`: running with `reason`, a fresh id, the live
  /// definition a copy of the persistent one.
  result<void> start(call_context& ctx, int32_t why) {
    if (!ctx.next_domain_id)
      return errors::internal("no domain id allocator for this call");
    set_state(domain_state::running, why);
    id = ctx.next_domain_id();
    if (!live)
      live = *config;
    managed_save = false;
    return {};
  }

  /// `testDomainShutdownState`: the live definition goes, shut off with
  /// `why`; a transient domain is gone.
  void stop(int32_t why) {
    // libvirt resets the id when it puts the persistent definition back; a
    // transient domain has none, and its stop event carries the old id.
    if (config)
      id = -1;
    set_state(domain_state::shutoff, why);
    if (persistent)
      live.reset();
    else
      removed = true; // the object is dropped; its definitions stay readable
  }

  /// `virDomainObjUpdateModificationImpact`.
  result<uint32_t> modification_impact(uint32_t flags) const {
    if ((flags & (affect_live | affect_config)) == 0)
      flags |= active() ? affect_live : affect_config;
    if (!active() && (flags & affect_live))
      return errors::domain_not_running();
    if (!persistent && (flags & affect_config))
      return errors::transient_no_config();
    return flags;
  }

  /// `virDomainObjGetOneDefState`: the one definition `flags` selects.
  result<xml::domain_def*> one_def(uint32_t flags, bool* is_live = nullptr) {
    if ((flags & affect_live) && (flags & affect_config))
      return errors::exclusive_flags("VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");
    auto f = modification_impact(flags);
    if (!f)
      return f.error();
    bool want_live = (*f & affect_live) != 0;
    if (is_live)
      *is_live = want_live;
    if (want_live)
      return &current();
    return active() && config ? &*config : &current();
  }

  /// `virDomainObjGetDefs`: the live and the persistent definition `flags`
  /// select (either may be null).
  result<std::pair<xml::domain_def*, xml::domain_def*>> defs(uint32_t flags) {
    auto f = modification_impact(flags);
    if (!f)
      return f.error();
    std::pair<xml::domain_def*, xml::domain_def*> out{nullptr, nullptr};
    if (active()) {
      if (*f & affect_live)
        out.first = &*live;
      if ((*f & affect_config) && config)
        out.second = &*config;
    } else {
      out.second = &*config;
    }
    return out;
  }

  /// `testDomainActionSetState` for an `on_poweroff` / `on_reboot` action.
  void apply_action(const std::string& action) {
    if (action == "restart" || action == "rename-restart")
      set_state(domain_state::running, running_booted);
    else
      set_state(domain_state::shutoff, shutoff_shutdown);
  }

  // -- operations ------------------------------------------------------------------

  result<xdr::empty> create(const protocol::nonnull_domain& h, call_context& ctx) {
    if (state != domain_state::shutoff)
      return errors::internal("Domain '" + h.name + "' is already running");
    if (auto ok = start(ctx, running_booted); !ok)
      return ok.error();
    ctx.lifecycle(handle(), lifecycle_event::started, started_booted);
    return xdr::empty{};
  }

  result<xdr::empty> destroy(call_context& ctx) {
    if (!active())
      return errors::domain_not_running();
    stop(shutoff_destroyed);
    ctx.lifecycle(handle(), lifecycle_event::stopped, stopped_destroyed);
    return xdr::empty{};
  }

  result<xdr::empty> shutdown(const protocol::nonnull_domain& h, call_context& ctx) {
    if (state == domain_state::shutoff)
      return errors::internal("domain '" + h.name + "' not running");
    return power_action(current().on_poweroff, ctx);
  }

  result<xdr::empty> reboot(call_context& ctx) {
    if (!active())
      return errors::domain_not_running();
    return power_action(current().on_reboot, ctx);
  }

  result<xdr::empty> power_action(std::string action, call_context& ctx) {
    apply_action(action);
    if (state == domain_state::shutoff) {
      stop(shutoff_shutdown);
      ctx.lifecycle(handle(), lifecycle_event::stopped, stopped_shutdown);
    }
    return xdr::empty{};
  }

  result<xdr::empty> suspend(const protocol::nonnull_domain& h, call_context& ctx) {
    if (state == domain_state::shutoff || state == domain_state::paused)
      return errors::internal("domain '" + h.name + "' not running");
    set_state(domain_state::paused, paused_user);
    ctx.lifecycle(handle(), lifecycle_event::suspended, suspended_paused);
    return xdr::empty{};
  }

  result<xdr::empty> resume(const protocol::nonnull_domain& h, call_context& ctx) {
    if (state != domain_state::paused)
      return errors::internal("domain '" + h.name + "' not paused");
    set_state(domain_state::running, running_unpaused);
    ctx.lifecycle(handle(), lifecycle_event::resumed, resumed_unpaused);
    return xdr::empty{};
  }

  result<xdr::empty> undefine(uint32_t flags, call_context& ctx) {
    if (managed_save && !(flags & undefine_managed_save))
      return errors::operation_invalid("Refusing to undefine while domain managed save image exists",
                                       error_domain::test);
    ctx.lifecycle(handle(), lifecycle_event::undefined, undefined_removed);
    managed_save = false;
    if (active())
      persistent = false;
    else
      removed = true;
    return xdr::empty{};
  }

  result<protocol::xml_ret> xml_desc(uint32_t flags) const {
    bool inactive = (flags & xml_inactive) != 0;
    const auto& def = inactive && active() && config ? *config : current();
    xml::domain_format fmt;
    fmt.id = inactive || !active() ? -1 : id;
    fmt.secure = (flags & xml_secure) != 0;
    fmt.inactive = inactive;
    return protocol::xml_ret{xml::format_domain(def, fmt)};
  }

  result<protocol::domain_get_info_ret> info() const {
    auto& d = current();
    protocol::domain_get_info_ret r;
    r.state = static_cast<int32_t>(state);
    r.max_mem = d.memory.max_kib;
    r.memory = d.memory.current_kib;
    r.nr_virt_cpu = static_cast<int32_t>(d.vcpu.current);
    // The test driver reports wall-clock time in nanoseconds as CPU time.
    r.cpu_time = real_time_us() * 1000;
    return r;
  }

  result<protocol::int_ret> vcpus_flags(uint32_t flags) {
    auto def = one_def(flags);
    if (!def)
      return def.error();
    auto& v = (*def)->vcpu;
    return protocol::int_ret{static_cast<int32_t>(flags & vcpu_maximum ? v.max : v.current)};
  }

  result<xdr::empty> set_memory_flags(uint64_t memory, uint32_t flags) {
    bool is_live = false;
    auto def = one_def(flags, &is_live);
    if (!def)
      return def.error();
    auto& d = **def;
    if (flags & mem_maximum) {
      if (is_live)
        return errors::operation_invalid("cannot resize the maximum memory on an active domain",
                                         error_domain::test);
      if (d.memory.hotplug_max_kib && *d.memory.hotplug_max_kib < memory)
        return errors::operation_invalid(
          "cannot set initial memory size greater than the maximum memory size",
          error_domain::test);
      d.set_max_memory(memory);
    } else {
      if (memory > d.memory.max_kib)
        return errors::invalid_arg("cannot set memory higher than max memory");
      d.set_current_memory(memory);
    }
    return xdr::empty{};
  }

  result<xdr::empty> set_vcpus_flags(uint32_t n, uint32_t flags) {
    auto both = defs(flags);
    if (!both)
      return both.error();
    auto [def, pers] = *both;
    auto exceeds = [n](const xml::domain_def& d) {
      return errors::invalid_arg("requested cpu amount exceeds maximum (" + std::to_string(n) +
                                 " > " + std::to_string(d.vcpu.max) + ")");
    };
    if (def && def->vcpu.max < n)
      return exceeds(*def);
    if (pers && !(flags & vcpu_maximum) && pers->vcpu.max < n)
      return exceeds(*pers);
    if (def)
      def->set_vcpus(n);
    if (pers) {
      if (flags & vcpu_maximum)
        pers->set_max_vcpus(n);
      else
        pers->set_vcpus(n);
    }
    return xdr::empty{};
  }

  result<protocol::domain_get_security_label_ret> security_label() const {
    protocol::domain_get_security_label_ret r;
    if (active()) {
      r.label = test::security_label;
      r.enforcing = 1;
    }
    return r;
  }


  /// Redefinition (DEFINE_XML naming this domain): `virDomainObjAssignDef`
  /// with live = false.
  result<protocol::dom_only> redefine(xml::domain_def def, call_context& ctx) {
    bool had_config = active() ? config.has_value() : true;
    config = std::move(def);
    persistent = true;
    ctx.lifecycle(handle(), lifecycle_event::defined, had_config ? defined_updated : defined_added);
    return protocol::dom_only{handle()};
  }

  /// CREATE_XML naming this (inactive, persistent) domain: a start with
  /// `def` as the live definition.
  result<protocol::dom_only> create_with(xml::domain_def def, call_context& ctx) {
    if (active())
      return errors::operation_invalid("domain '" + current().name + "' is already active",
                                       error_domain::domain);
    if (!persistent)
      return errors::operation_invalid("domain '" + current().name + "' is already being started",
                                       error_domain::domain);
    live = std::move(def);
    if (auto ok = start(ctx, running_booted); !ok) {
      live.reset();
      return ok.error();
    }
    ctx.lifecycle(handle(), lifecycle_event::started, started_booted);
    return protocol::dom_only{handle()};
  }
};

domain_object::domain_object(xml::domain_def def, origin how, int32_t id)
  : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  m.name = def.name;
  m.uuid = def.uuid;
  switch (how) {
    case origin::defined:
      m.config = std::move(def);
      m.persistent = true;
      m.set_state(domain_state::shutoff, 0);
      break;
    case origin::started:
      m.config = std::move(def);
      m.live = *m.config;
      m.persistent = true;
      m.id = id;
      m.set_state(domain_state::running, running_booted);
      break;
    case origin::created:
      m.live = std::move(def);
      m.persistent = false;
      m.id = id;
      m.set_state(domain_state::running, running_booted);
      break;
  }
}

domain_object::~domain_object() = default;

void domain_object::set_initial_state(int32_t state, int32_t reason, bool has_managed_save) {
  impl_->set_state(static_cast<domain_state>(state), reason);
  impl_->managed_save = has_managed_save;
}

bool domain_object::handles(int32_t number) {
  switch (static_cast<proc>(number)) {
    case proc::domain_define_xml:
    case proc::domain_define_xml_flags:
    case proc::domain_create_xml:
      return true;
    default:
      return is_domain_proc_number(number);
  }
}

domain_summary domain_object::summary() const {
  auto& m = *impl_;
  domain_summary s;
  s.dom = m.handle();
  s.state = static_cast<int32_t>(m.state);
  s.reason = m.reason;
  s.active = m.active();
  s.persistent = m.persistent;
  s.autostart = m.autostart;
  s.has_managed_save = m.managed_save;
  s.snapshot_count = 0;
  s.removed = m.removed;
  return s;
}

result<xdr::buffer> domain_object::dispatch(int32_t number, const xdr::buffer& args,
                                            call_context& ctx) {
  auto& m = *impl_;
  if (m.removed)
    return errors::no_domain_uuid(m.uuid, m.name);
  // A definition forwarded here must name this domain: same uuid and name.
  auto names_me = [&](const xml::domain_def& def) -> result<void> {
    if (def.uuid != m.uuid)
      return errors::internal("the definition of '" + def.name + "' does not name domain '" +
                              m.name + "'");
    if (def.name != m.name)
      return errors::operation_failed("domain '" + m.name + "' is already defined with uuid " +
                                        xml::format_uuid(m.uuid),
                                      error_domain::domain);
    return {};
  };
  switch (static_cast<proc>(number)) {
    case proc::domain_define_xml:
      return handle<proc::domain_define_xml>(args, [&](auto& a) -> result<protocol::dom_only> {
        auto def = parse_for_define(a.xml, 0);
        if (!def)
          return def.error();
        if (auto ok = names_me(*def); !ok)
          return ok.error();
        return m.redefine(std::move(*def), ctx);
      });
    case proc::domain_define_xml_flags:
      return handle<proc::domain_define_xml_flags>(
        args, [&](auto& a) -> result<protocol::dom_only> {
          auto def = parse_for_define(a.xml, a.flags);
          if (!def)
            return def.error();
          if (auto ok = names_me(*def); !ok)
            return ok.error();
          return m.redefine(std::move(*def), ctx);
        });
    case proc::domain_create_xml:
      return handle<proc::domain_create_xml>(args, [&](auto& a) -> result<protocol::dom_only> {
        auto def = parse_for_create(a.xml_desc, a.flags);
        if (!def)
          return def.error();
        if (auto ok = names_me(*def); !ok)
          return ok.error();
        return m.create_with(std::move(*def), ctx);
      });
    default:
      break;
  }
  if (!is_domain_proc_number(number))
    return errors::unsupported_procedure(number);
  if (auto ok = check_domain_call(number, args, ctx.read_only); !ok)
    return ok.error();
  // Every args struct below starts with the handle; the checks above decoded it.
  protocol::nonnull_domain h;
  (void) xdr::decode(args, h);
  switch (static_cast<proc>(number)) {
    case proc::domain_create:
      return handle<proc::domain_create>(args, [&](auto&) { return m.create(h, ctx); });
    case proc::domain_create_with_flags:
      return handle<proc::domain_create_with_flags>(
        args, [&](auto&) -> result<protocol::dom_only> {
          if (auto r = m.create(h, ctx); !r)
            return r.error();
          return protocol::dom_only{m.handle()};
        });
    case proc::domain_destroy:
      return handle<proc::domain_destroy>(args, [&](auto&) { return m.destroy(ctx); });
    case proc::domain_destroy_flags:
      return handle<proc::domain_destroy_flags>(args, [&](auto&) { return m.destroy(ctx); });
    case proc::domain_shutdown:
      return handle<proc::domain_shutdown>(args, [&](auto&) { return m.shutdown(h, ctx); });
    case proc::domain_shutdown_flags:
      return handle<proc::domain_shutdown_flags>(args,
                                                 [&](auto&) { return m.shutdown(h, ctx); });
    case proc::domain_reboot:
      return handle<proc::domain_reboot>(args, [&](auto&) { return m.reboot(ctx); });
    case proc::domain_suspend:
      return handle<proc::domain_suspend>(args, [&](auto&) { return m.suspend(h, ctx); });
    case proc::domain_resume:
      return handle<proc::domain_resume>(args, [&](auto&) { return m.resume(h, ctx); });
    case proc::domain_undefine:
      return handle<proc::domain_undefine>(args, [&](auto&) { return m.undefine(0, ctx); });
    case proc::domain_undefine_flags:
      return handle<proc::domain_undefine_flags>(args,
                                                 [&](auto& a) { return m.undefine(a.flags, ctx); });
    case proc::domain_get_xml_desc:
      return handle<proc::domain_get_xml_desc>(args, [&](auto& a) { return m.xml_desc(a.flags); });
    case proc::domain_get_info:
      return handle<proc::domain_get_info>(args, [&](auto&) { return m.info(); });
    case proc::domain_get_state:
      return handle<proc::domain_get_state>(args, [&](auto&) -> result<protocol::domain_get_state_ret> {
        return protocol::domain_get_state_ret{static_cast<int32_t>(m.state), m.reason};
      });
    case proc::domain_get_autostart:
      return handle<proc::domain_get_autostart>(args, [&](auto&) -> result<protocol::int_ret> {
        return protocol::int_ret{m.autostart ? 1 : 0};
      });
    case proc::domain_set_autostart:
      return handle<proc::domain_set_autostart>(args, [&](auto& a) -> result<xdr::empty> {
        m.autostart = a.autostart != 0;
        return xdr::empty{};
      });
    case proc::domain_get_max_memory:
      return handle<proc::domain_get_max_memory>(
        args, [&](auto&) -> result<protocol::domain_get_max_memory_ret> {
          return protocol::domain_get_max_memory_ret{m.current().memory.max_kib};
        });
    case proc::domain_get_max_vcpus:
      return handle<proc::domain_get_max_vcpus>(
        args, [&](auto&) { return m.vcpus_flags(affect_live | vcpu_maximum); });
    case proc::domain_get_vcpus_flags:
      return handle<proc::domain_get_vcpus_flags>(args,
                                                  [&](auto& a) { return m.vcpus_flags(a.flags); });
    case proc::domain_get_os_type:
      return handle<proc::domain_get_os_type>(
        args, [&](auto&) -> result<protocol::domain_get_os_type_ret> {
          return protocol::domain_get_os_type_ret{os_type};
        });
    case proc::domain_set_max_memory:
      return handle<proc::domain_set_max_memory>(
        args, [&](auto& a) { return m.set_memory_flags(a.memory, mem_maximum); });
    case proc::domain_set_memory:
      return handle<proc::domain_set_memory>(
        args, [&](auto& a) { return m.set_memory_flags(a.memory, affect_live); });
    case proc::domain_set_memory_flags:
      return handle<proc::domain_set_memory_flags>(
        args, [&](auto& a) { return m.set_memory_flags(a.memory, a.flags); });
    case proc::domain_set_vcpus:
      return handle<proc::domain_set_vcpus>(
        args, [&](auto& a) { return m.set_vcpus_flags(a.nvcpus, affect_live); });
    case proc::domain_set_vcpus_flags:
      return handle<proc::domain_set_vcpus_flags>(
        args, [&](auto& a) { return m.set_vcpus_flags(a.nvcpus, a.flags); });
    case proc::domain_get_security_label:
      return handle<proc::domain_get_security_label>(args,
                                                     [&](auto&) { return m.security_label(); });
    case proc::domain_is_active:
      return handle<proc::domain_is_active>(args, [&](auto&) -> result<protocol::int_ret> {
        return protocol::int_ret{m.active() ? 1 : 0};
      });
    case proc::domain_is_persistent:
      return handle<proc::domain_is_persistent>(args, [&](auto&) -> result<protocol::int_ret> {
        return protocol::int_ret{m.persistent ? 1 : 0};
      });
    case proc::domain_is_updated:
      return handle<proc::domain_is_updated>(
        args, [&](auto&) -> result<protocol::int_ret> { return protocol::int_ret{0}; });
    case proc::domain_has_managed_save_image:
      return handle<proc::domain_has_managed_save_image>(
        args, [&](auto&) -> result<protocol::int_ret> {
          return protocol::int_ret{m.managed_save ? 1 : 0};
        });
    case proc::domain_snapshot_num:
      return handle<proc::domain_snapshot_num>(
        args, [&](auto&) -> result<protocol::num_ret> { return protocol::num_ret{0}; });
    case proc::domain_get_messages:
      return handle<proc::domain_get_messages>(
        args, [&](auto&) -> result<protocol::domain_get_messages_ret> {
          return protocol::domain_get_messages_ret{};
        });
    default:
      return errors::unsupported_procedure(number);
  }
}

} // namespace virtactor::drivers::test
