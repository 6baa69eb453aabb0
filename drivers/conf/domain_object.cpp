#include "drivers/conf/domain_object.hpp"

#include "drivers/conf/errors.hpp"

namespace virtactor::drivers::conf {

domain_object::domain_object(xml::domain_def def, origin how, int32_t new_id) {
  name = def.name;
  uuid = def.uuid;
  switch (how) {
    case origin::defined:
      config = std::move(def);
      persistent = true;
      set_state(domain_state::shutoff, reason::unknown);
      break;
    case origin::started:
      config = std::move(def);
      live = *config;
      persistent = true;
      id = new_id;
      set_state(domain_state::running, reason::running_booted);
      break;
    case origin::created:
      live = std::move(def);
      persistent = false;
      id = new_id;
      set_state(domain_state::running, reason::running_booted);
      break;
    case origin::transient:
      live = std::move(def);
      starting = true;
      persistent = false;
      set_state(domain_state::shutoff, reason::unknown);
      break;
  }
}

void domain_object::mark_started(int32_t new_id, int32_t why) {
  set_state(domain_state::running, why);
  id = new_id;
  if (!live)
    live = *config;
  managed_save = false;
}

void domain_object::mark_stopped(int32_t why) {
  // libvirt resets the id when it puts the persistent definition back; a
  // transient domain has none, and its stop event carries the old id.
  if (config)
    id = -1;
  set_state(domain_state::shutoff, why);
  if (persistent)
    live.reset();
  else
    removed = true;
}

result<uint32_t> domain_object::modification_impact(uint32_t flags) const {
  if ((flags & (flag::affect_live | flag::affect_config)) == 0)
    flags |= active() ? flag::affect_live : flag::affect_config;
  if (!active() && (flags & flag::affect_live))
    return errors::domain_not_running();
  if (!persistent && (flags & flag::affect_config))
    return errors::transient_no_config();
  return flags;
}

result<xml::domain_def*> domain_object::one_def(uint32_t flags, bool* is_live) {
  if ((flags & flag::affect_live) && (flags & flag::affect_config))
    return errors::exclusive_flags("VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");
  auto f = modification_impact(flags);
  if (!f)
    return f.error();
  bool want_live = (*f & flag::affect_live) != 0;
  if (is_live)
    *is_live = want_live;
  if (want_live)
    return &current();
  return active() && config ? &*config : &current();
}

result<std::pair<xml::domain_def*, xml::domain_def*>> domain_object::defs(uint32_t flags) {
  auto f = modification_impact(flags);
  if (!f)
    return f.error();
  std::pair<xml::domain_def*, xml::domain_def*> out{nullptr, nullptr};
  if (active()) {
    if (*f & flag::affect_live)
      out.first = &*live;
    if ((*f & flag::affect_config) && config)
      out.second = &*config;
  } else {
    out.second = &*config;
  }
  return out;
}

bool domain_object::redefine(xml::domain_def def) {
  bool had_config = active() ? config.has_value() : true;
  config = std::move(def);
  persistent = true;
  return had_config;
}

void domain_object::undefine() {
  managed_save = false;
  if (active())
    persistent = false;
  else
    removed = true;
}

domain_summary domain_object::summary() const {
  domain_summary s;
  s.dom = handle();
  s.state = static_cast<int32_t>(state);
  s.reason = reason;
  s.active = active();
  s.persistent = persistent;
  s.autostart = autostart;
  s.has_managed_save = managed_save;
  s.snapshot_count = 0;
  s.removed = removed;
  auto& d = current();
  s.max_mem_kib = d.memory.max_kib;
  s.memory_kib = d.memory.current_kib;
  s.vcpus = static_cast<int32_t>(d.vcpu.current);
  return s;
}

} // namespace virtactor::drivers::conf
