#include "drivers/conf/domain_dispatch.hpp"

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>

#include "drivers/conf/errors.hpp"
#include "drivers/xml/uuid.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::conf {

using protocol::proc;

namespace {

template <proc P>
using args_of = typename protocol::proc_traits<P>::args;

template <proc P>
const args_of<P>& args_as(const std::any& args) {
  return std::any_cast<const args_of<P>&>(args);
}

/// Replies with the encoded `r` (a `result<T>` of ret struct `T`).
template <class T>
void reply_with(const reply_fn& reply, result<T> r) {
  if (!r)
    reply(r.error());
  else
    reply(xdr::encode(*r));
}

/// A `done_fn` that replies with an empty ret struct.
done_fn reply_empty(reply_fn reply) {
  return [reply = std::move(reply)](result<void> r) {
    if (!r)
      reply(r.error());
    else
      reply(xdr::encode(xdr::empty{}));
  };
}

result<void> check_flags(const driver_traits& t, uint32_t flags, uint32_t allowed,
                         std::string_view api_tail) {
  if (!errors::flags_ok(flags, allowed))
    return errors::unsupported_flags(flags & ~allowed, t.function(api_tail), t.domain);
  return {};
}

result<void> check_vcpu_limit(const driver_traits& t, uint32_t nvcpus) {
  if (t.max_vcpus > 0 && nvcpus > static_cast<uint32_t>(t.max_vcpus))
    return errors::invalid_arg("requested cpu amount exceeds maximum supported amount (" +
                                 std::to_string(nvcpus) + " > " + std::to_string(t.max_vcpus) +
                                 ")",
                               t.domain);
  return {};
}

// -- operations on one domain ------------------------------------------------------

/// The state of a call in flight: what the operations need, kept alive until
/// the backend is done.
struct domain_call_env {
  const driver_traits& traits;
  domain_object& obj;
  domain_backend& backend;
  call_context& ctx;
  const protocol::nonnull_domain& handle;

  domain_op op(uint32_t flags) const { return domain_op{obj, handle, flags}; }
};

result<protocol::xml_ret> xml_desc(const domain_object& obj, uint32_t flags) {
  bool inactive = (flags & flag::xml_inactive) != 0;
  const auto& def = inactive && obj.active() && obj.config ? *obj.config : obj.current();
  xml::domain_format fmt;
  fmt.id = inactive || !obj.active() ? -1 : obj.id;
  fmt.secure = (flags & flag::xml_secure) != 0;
  fmt.inactive = inactive;
  return protocol::xml_ret{xml::format_domain(def, fmt)};
}

result<protocol::int_ret> vcpus_flags(domain_object& obj, uint32_t flags) {
  auto def = obj.one_def(flags);
  if (!def)
    return def.error();
  auto& v = (*def)->vcpu;
  return protocol::int_ret{static_cast<int32_t>(flags & flag::vcpu_maximum ? v.max : v.current)};
}

void set_memory_flags(const domain_call_env& e, uint64_t memory, uint32_t flags,
                      const done_fn& done) {
  bool is_live = false;
  auto def = e.obj.one_def(flags, &is_live);
  if (!def)
    return done(def.error());
  auto& d = **def;
  if (flags & flag::mem_maximum) {
    if (is_live)
      return done(errors::operation_invalid("cannot resize the maximum memory on an active domain",
                                            e.traits.domain));
    if (d.memory.hotplug_max_kib && *d.memory.hotplug_max_kib < memory)
      return done(errors::operation_invalid(
        "cannot set initial memory size greater than the maximum memory size", e.traits.domain));
    d.set_max_memory(memory);
    return done(e.backend.save_config(e.obj));
  }
  if (memory > d.memory.max_kib)
    return done(errors::invalid_arg("cannot set memory higher than max memory", e.traits.domain));
  if (!is_live) {
    d.set_current_memory(memory);
    return done(e.backend.save_config(e.obj));
  }
  // The guest's balloon; the backend keeps the live definition's current
  // memory at what the guest got.
  e.backend.set_live_memory(e.op(flags), memory, done);
}

void set_vcpus_flags(const domain_call_env& e, uint32_t n, uint32_t flags, const done_fn& done) {
  auto both = e.obj.defs(flags);
  if (!both)
    return done(both.error());
  auto [def, pers] = *both;
  auto exceeds = [&](const xml::domain_def& d) {
    auto max = std::to_string(d.vcpu.max);
    if (e.traits.wording == driver_wording::qemu)
      return errors::invalid_arg("requested vcpus is greater than max allowable vcpus for the " +
                                   std::string{&d == def ? "live" : "persistent"} +
                                   " domain: " + std::to_string(n) + " > " + max,
                                 e.traits.domain);
    return errors::invalid_arg(
      "requested cpu amount exceeds maximum (" + std::to_string(n) + " > " + max + ")",
      e.traits.domain);
  };
  if (def && def->vcpu.max < n)
    return done(exceeds(*def));
  if (pers && !(flags & flag::vcpu_maximum) && pers->vcpu.max < n)
    return done(exceeds(*pers));
  // Captures nothing of `e`: the backend may finish after this call returns.
  auto apply_config = [&backend = e.backend, &obj = e.obj, pers = pers, n, flags]() -> result<void> {
    if (!pers)
      return {};
    if (flags & flag::vcpu_maximum)
      pers->set_max_vcpus(n);
    else
      pers->set_vcpus(n);
    return backend.save_config(obj);
  };
  if (!def)
    return done(apply_config());
  e.backend.set_live_vcpus(e.op(flags), n,
                           [def = def, n, apply_config, done](result<void> r) {
                             if (!r)
                               return done(r);
                             def->set_vcpus(n);
                             done(apply_config());
                           });
}

void undefine(const domain_call_env& e, uint32_t flags, const done_fn& done) {
  if (e.obj.managed_save && !(flags & flag::undefine_managed_save))
    return done(errors::operation_invalid(
      "Refusing to undefine while domain managed save image exists", e.traits.domain));
  if (auto ok = e.backend.remove_config(e.obj); !ok)
    return done(ok);
  e.ctx.lifecycle(e.obj.handle(), lifecycle_event::undefined, detail::undefined_removed);
  e.obj.undefine();
  done(result<void>{});
}

} // namespace

void domain_stats(domain_object& obj, domain_backend& backend, const stats_request& req,
                  std::function<void(protocol::domain_stats_record)> reply) {
  protocol::domain_stats_record rec;
  rec.dom = obj.handle();
  stats_params head;
  if (req.groups & stats_group::state)
    add_state_stats(head, static_cast<int32_t>(obj.state), obj.reason);
  rec.params = head.take();
  backend.stats(obj, req, [rec = std::move(rec), reply = std::move(reply)](stats_params more) mutable {
    for (auto& p : more.take())
      rec.params.push_back(std::move(p));
    reply(std::move(rec));
  });
}

protocol::nonnull_domain domain_handle_of(const std::any& args) {
  if (auto a = std::any_cast<protocol::dom_only>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::dom_flags_args>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::domain_set_autostart_args>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::domain_set_memory_args>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::domain_set_memory_flags_args>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::domain_set_vcpus_args>(&args))
    return a->dom;
  if (auto a = std::any_cast<protocol::domain_set_vcpus_flags_args>(&args))
    return a->dom;
  return {};
}

bool is_domain_proc(int32_t number) {
  // Derived from the procedure table: the arguments start with a domain.
  return protocol::object_of(number) == protocol::object_kind::domain;
}

job_kind job_kind_of(int32_t number) {
  switch (static_cast<proc>(number)) {
    case proc::domain_destroy:
    case proc::domain_destroy_flags:
      return job_kind::urgent;
    default: {
      auto info = protocol::find_proc_info(number);
      return info && info->access == protocol::access::read ? job_kind::read : job_kind::job;
    }
  }
}

result<void> check_domain_call(const driver_traits& t, int32_t number, const std::any& args,
                               bool read_only) {
  const auto& f = t.flags;
  auto flags_of = [&](std::string_view api_tail, uint32_t allowed) -> result<void> {
    return check_flags(t, std::any_cast<const protocol::dom_flags_args&>(args).flags, allowed,
                       api_tail);
  };
  auto memory_of = [&](const char* api) -> result<void> {
    if (std::any_cast<const protocol::domain_set_memory_args&>(args).memory == 0)
      return errors::zero_arg("memory", api, error_domain::domain);
    return {};
  };
  switch (static_cast<proc>(number)) {
    case proc::domain_create_with_flags:
      return flags_of("DomainCreateWithFlags", f.create);
    case proc::domain_destroy_flags:
      return flags_of("DomainDestroyFlags", f.destroy);
    case proc::domain_get_xml_desc: {
      auto& a = args_as<proc::domain_get_xml_desc>(args);
      if (read_only && (a.flags & flag::xml_secure))
        return errors::forbidden("virDomainGetXMLDesc with secure flag", error_domain::domain);
      return check_flags(t, a.flags, f.xml, "DomainGetXMLDesc");
    }
    case proc::domain_reboot:
      return flags_of("DomainReboot", f.reboot);
    case proc::domain_reset:
      return flags_of("DomainReset", f.reset);
    case proc::domain_set_max_memory:
      return memory_of("virDomainSetMaxMemory");
    case proc::domain_set_memory:
      return memory_of("virDomainSetMemory");
    case proc::domain_set_memory_flags: {
      auto& a = args_as<proc::domain_set_memory_flags>(args);
      if (a.memory == 0)
        return errors::zero_arg("memory", "virDomainSetMemoryFlags", error_domain::domain);
      return check_flags(t, a.flags, f.set_memory, "DomainSetMemoryFlags");
    }
    case proc::domain_set_vcpus: {
      auto& a = args_as<proc::domain_set_vcpus>(args);
      if (a.nvcpus == 0)
        return errors::zero_arg("nvcpus", "virDomainSetVcpus", error_domain::domain);
      return check_vcpu_limit(t, a.nvcpus);
    }
    case proc::domain_set_vcpus_flags: {
      auto& a = args_as<proc::domain_set_vcpus_flags>(args);
      if ((a.flags & flag::vcpu_maximum) && !(a.flags & flag::affect_config))
        return errors::required_flag("VIR_DOMAIN_AFFECT_CONFIG", "VIR_DOMAIN_VCPU_MAXIMUM");
      if (a.nvcpus == 0)
        return errors::zero_arg("nvcpus", "virDomainSetVcpusFlags", error_domain::domain);
      if (auto ok = check_flags(t, a.flags, f.set_vcpus, "DomainSetVcpusFlags"); !ok)
        return ok;
      return check_vcpu_limit(t, a.nvcpus);
    }
    case proc::domain_get_vcpus_flags: {
      auto& a = args_as<proc::domain_get_vcpus_flags>(args);
      if ((a.flags & flag::affect_live) && (a.flags & flag::affect_config))
        return errors::exclusive_flags("VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");
      return check_flags(t, a.flags, f.get_vcpus, "DomainGetVcpusFlags");
    }
    case proc::domain_shutdown_flags:
      return flags_of("DomainShutdownFlags", f.shutdown);
    case proc::domain_undefine_flags:
      return flags_of("DomainUndefineFlags", f.undefine);
    case proc::domain_has_managed_save_image:
      return flags_of("DomainHasManagedSaveImage", f.managed_save);
    case proc::domain_snapshot_num:
      return flags_of("DomainSnapshotNum", f.snapshot_list);
    case proc::domain_get_state:
      return flags_of("DomainGetState", f.get_state);
    case proc::domain_get_messages:
      return flags_of("DomainGetMessages", f.messages);
    default:
      return {};
  }
}

void dispatch_domain_call(const driver_traits& t, domain_object& obj, domain_backend& backend,
                          int32_t number, const std::any& args, call_context& ctx,
                          reply_fn reply) {
  if (obj.removed)
    return reply(errors::no_domain_uuid(obj.uuid, obj.name, t.domain));
  if (!is_domain_proc(number))
    return reply(errors::unsupported_procedure(number));
  if (auto ok = check_domain_call(t, number, args, ctx.read_only); !ok)
    return reply(ok.error());
  // Every args struct of a per-domain procedure starts with the handle.
  auto h = domain_handle_of(args);
  domain_call_env e{t, obj, backend, ctx, h};
  auto empty = [&reply] { return reply_empty(reply); };
  auto flags_arg = [&] { return std::any_cast<const protocol::dom_flags_args&>(args).flags; };
  switch (static_cast<proc>(number)) {
    case proc::domain_create:
      return backend.start(e.op(0), empty());
    case proc::domain_create_with_flags:
      return backend.start(e.op(flags_arg()), [&obj, reply](result<void> r) {
        if (!r)
          return reply(r.error());
        reply(xdr::encode(protocol::dom_only{obj.handle()}));
      });
    case proc::domain_destroy:
      return backend.destroy(e.op(0), empty());
    case proc::domain_destroy_flags:
      return backend.destroy(e.op(flags_arg()), empty());
    case proc::domain_shutdown:
      return backend.shutdown(e.op(0), empty());
    case proc::domain_shutdown_flags:
      return backend.shutdown(e.op(flags_arg()), empty());
    case proc::domain_reboot:
      return backend.reboot(e.op(flags_arg()), empty());
    case proc::domain_reset:
      return backend.reset(e.op(flags_arg()), empty());
    case proc::domain_suspend:
      return backend.suspend(e.op(0), empty());
    case proc::domain_resume:
      return backend.resume(e.op(0), empty());
    case proc::domain_undefine:
      return undefine(e, 0, empty());
    case proc::domain_undefine_flags:
      return undefine(e, flags_arg(), empty());
    case proc::domain_get_xml_desc:
      return reply_with(reply, xml_desc(obj, flags_arg()));
    case proc::domain_get_info: {
      auto& d = obj.current();
      protocol::domain_get_info_ret r;
      r.state = static_cast<int32_t>(obj.state);
      r.max_mem = d.memory.max_kib;
      r.memory = d.memory.current_kib;
      r.nr_virt_cpu = static_cast<int32_t>(d.vcpu.current);
      r.cpu_time = backend.cpu_time_ns(obj);
      return reply_with(reply, result<protocol::domain_get_info_ret>{r});
    }
    case proc::domain_get_state:
      return reply_with(reply, result<protocol::domain_get_state_ret>{
                                 protocol::domain_get_state_ret{static_cast<int32_t>(obj.state),
                                                                obj.reason}});
    case proc::domain_get_autostart:
      return reply_with(reply, result<protocol::int_ret>{protocol::int_ret{obj.autostart ? 1 : 0}});
    case proc::domain_set_autostart: {
      bool on = args_as<proc::domain_set_autostart>(args).autostart != 0;
      if (auto ok = backend.save_autostart(obj, on); !ok)
        return reply(ok.error());
      obj.autostart = on;
      return reply(xdr::encode(xdr::empty{}));
    }
    case proc::domain_get_max_memory:
      return reply_with(reply, result<protocol::domain_get_max_memory_ret>{
                                 protocol::domain_get_max_memory_ret{obj.current().memory.max_kib}});
    case proc::domain_get_max_vcpus:
      return reply_with(reply, vcpus_flags(obj, flag::affect_live | flag::vcpu_maximum));
    case proc::domain_get_vcpus_flags:
      return reply_with(reply, vcpus_flags(obj, flags_arg()));
    case proc::domain_get_os_type:
      return reply_with(reply, result<protocol::domain_get_os_type_ret>{
                                 protocol::domain_get_os_type_ret{backend.os_type(obj)}});
    case proc::domain_set_max_memory:
      return set_memory_flags(e, args_as<proc::domain_set_max_memory>(args).memory,
                              flag::mem_maximum, empty());
    case proc::domain_set_memory:
      return set_memory_flags(e, args_as<proc::domain_set_memory>(args).memory, flag::affect_live,
                              empty());
    case proc::domain_set_memory_flags: {
      auto& a = args_as<proc::domain_set_memory_flags>(args);
      return set_memory_flags(e, a.memory, a.flags, empty());
    }
    case proc::domain_set_vcpus:
      return set_vcpus_flags(e, args_as<proc::domain_set_vcpus>(args).nvcpus, flag::affect_live,
                             empty());
    case proc::domain_set_vcpus_flags: {
      auto& a = args_as<proc::domain_set_vcpus_flags>(args);
      return set_vcpus_flags(e, a.nvcpus, a.flags, empty());
    }
    case proc::domain_get_security_label:
      return reply_with(reply, result<protocol::domain_get_security_label_ret>{
                                 backend.security_label(obj)});
    case proc::domain_is_active:
      return reply_with(reply, result<protocol::int_ret>{protocol::int_ret{obj.active() ? 1 : 0}});
    case proc::domain_is_persistent:
      return reply_with(reply,
                        result<protocol::int_ret>{protocol::int_ret{obj.persistent ? 1 : 0}});
    case proc::domain_is_updated:
      return reply_with(reply, result<protocol::int_ret>{protocol::int_ret{0}});
    case proc::domain_has_managed_save_image:
      return reply_with(reply,
                        result<protocol::int_ret>{protocol::int_ret{obj.managed_save ? 1 : 0}});
    case proc::domain_snapshot_num:
      return reply_with(reply, result<protocol::num_ret>{protocol::num_ret{0}});
    case proc::domain_get_messages:
      return reply_with(reply,
                        result<protocol::domain_get_messages_ret>{protocol::domain_get_messages_ret{}});
    default:
      return reply(errors::unsupported_procedure(number));
  }
}

result<protocol::dom_only> redefine_domain(const driver_traits& t, domain_object& obj,
                                           domain_backend& backend, xml::domain_def def,
                                           call_context& ctx) {
  if (obj.removed)
    return errors::no_domain_uuid(obj.uuid, obj.name, t.domain);
  if (def.uuid != obj.uuid)
    return errors::internal("the definition of '" + def.name + "' does not name domain '" +
                              obj.name + "'",
                            t.domain);
  if (def.name != obj.name)
    return errors::operation_failed("domain '" + obj.name + "' is already defined with uuid " +
                                      xml::format_uuid(obj.uuid),
                                    error_domain::domain);
  // Keep what was persistent if storing the new definition fails.
  auto before = obj.config;
  bool was_persistent = obj.persistent;
  bool had_config = obj.redefine(std::move(def));
  if (auto ok = backend.save_config(obj); !ok) {
    obj.config = std::move(before);
    obj.persistent = was_persistent;
    return ok.error();
  }
  ctx.lifecycle(obj.handle(), lifecycle_event::defined,
                had_config ? detail::defined_updated : detail::defined_added);
  return protocol::dom_only{obj.handle()};
}

void create_domain(const driver_traits& t, domain_object& obj, domain_backend& backend,
                   xml::domain_def def, bool fresh,
                   std::function<void(result<protocol::dom_only>)> reply) {
  if (obj.removed)
    return reply(errors::no_domain_uuid(obj.uuid, obj.name, t.domain));
  if (def.uuid != obj.uuid || def.name != obj.name)
    return reply(errors::operation_failed("domain '" + obj.name +
                                            "' is already defined with uuid " +
                                            xml::format_uuid(obj.uuid),
                                          error_domain::domain));
  if (obj.active())
    return reply(errors::operation_invalid("domain '" + obj.current().name + "' is already active",
                                           error_domain::domain));
  if (!obj.persistent && !fresh)
    return reply(errors::operation_invalid("domain '" + obj.current().name +
                                             "' is already being started",
                                           error_domain::domain));
  obj.live = std::move(def);
  obj.starting = false;
  auto h = obj.handle();
  backend.start(domain_op{obj, h, 0}, [&obj, fresh, reply = std::move(reply)](result<void> r) {
    if (!r) {
      if (obj.state == domain_state::shutoff) {
        obj.live.reset();
        // A domain made for this call alone is gone with it.
        if (fresh)
          obj.removed = true;
      }
      return reply(r.error());
    }
    reply(protocol::dom_only{obj.handle()});
  });
}

} // namespace virtactor::drivers::conf
