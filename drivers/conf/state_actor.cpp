#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/conf/domain_actor.hpp"
#include "drivers/conf/domain_dispatch.hpp"
#include "drivers/conf/domain_list.hpp"
#include "drivers/conf/domain_stats.hpp"
#include "drivers/conf/errors.hpp"
#include "drivers/conf/shared_index.hpp"
#include "drivers/conf/state_backend.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::conf {

namespace {

using protocol::proc;

std::string uuid_key(const xdr::uuid& u) {
  return std::string(reinterpret_cast<const char*>(u.data()), u.size());
}

/// A domain actor that fails this often in a row is not restarted again.
constexpr int max_restarts = 5;

struct domain_entry {
  domain_actor actor;
  /// Kept to restart the actor from: the actor is the only one to touch it
  /// while it runs.
  std::shared_ptr<domain_object> obj;
  int restarts = 0;
};

struct state_state {
  std::shared_ptr<state_backend> backend;
  std::shared_ptr<const driver_traits> traits;
  std::shared_ptr<shared_index> index;
  std::unordered_map<std::string, domain_entry> domains;
  std::shared_ptr<std::atomic<int32_t>> next_id;
  std::vector<event_listener> listeners;
  /// Every domain actor linked to this state that has not ended yet: its end
  /// arrives as an exit message once, besides the down message.
  std::set<caf::actor_addr> linked;
  static inline const char* name = "va_state";
};

using state_ptr = state_actor::stateful_pointer<state_state>;

void publish(state_ptr self, const std::vector<domain_event>& events) {
  for (auto& ev : events)
    for (auto& l : self->state.listeners)
      self->send(l, publish_atom::value, ev);
}

domain_actor spawn_domain(state_ptr self, std::shared_ptr<domain_object> obj) {
  auto& st = self->state;
  domain_actor_config cfg;
  cfg.obj = std::move(obj);
  cfg.backend = st.backend->make_backend();
  cfg.traits = st.traits;
  cfg.next_id = st.next_id;
  cfg.owner = self;
  cfg.index = st.index;
  auto actor = spawn_domain_actor(self->system(), std::move(cfg));
  // Linked: a domain actor ends with its state. Monitored: the state hears
  // of a domain actor's failure as a down message and restarts it.
  self->link_to(actor);
  self->monitor(actor);
  st.linked.insert(actor.address());
  return actor;
}

/// Adds `obj` to the index and gives it an actor.
domain_entry& adopt(state_ptr self, std::shared_ptr<domain_object> obj) {
  auto& st = self->state;
  st.index->write([&](domain_list& l) { l.update(obj->summary()); });
  auto key = uuid_key(obj->uuid);
  auto actor = spawn_domain(self, obj);
  return st.domains[key] = domain_entry{std::move(actor), std::move(obj), 0};
}

/// A domain actor ended: a normal end follows the domain's removal; any
/// other end is a failure, and the actor is restarted from the object.
void on_domain_down(state_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = std::find_if(st.domains.begin(), st.domains.end(),
                         [&](auto& kv) { return kv.second.actor.address() == dm.source; });
  if (it == st.domains.end())
    return;
  auto& entry = it->second;
  if (!dm.reason || entry.obj->removed || ++entry.restarts > max_restarts) {
    if (entry.obj->removed || !dm.reason) {
      st.domains.erase(it);
      return;
    }
    // Given up: the domain stays listed, its calls fail as on a vanished domain.
    return;
  }
  entry.actor = spawn_domain(self, entry.obj);
}

/// DEFINE_XML(_FLAGS) and CREATE_XML: parse once, then libvirt's clash rules
/// decide between a new domain and the existing one it names.
caf::result<xdr::buffer> define_or_create(state_ptr self, const typed_call& call) {
  auto& st = self->state;
  bool create = call.proc == static_cast<int32_t>(proc::domain_create_xml);
  result<xml::domain_def> def = errors::decode_failed();
  if (create) {
    auto& a = std::any_cast<const protocol::domain_create_xml_args&>(call.args);
    def = st.backend->parse_for_create(a.xml_desc, a.flags);
  } else if (call.proc == static_cast<int32_t>(proc::domain_define_xml)) {
    def = st.backend->parse_for_define(std::any_cast<const protocol::xml_args&>(call.args).xml, 0);
  } else {
    auto& a = std::any_cast<const protocol::xml_flags_args&>(call.args);
    def = st.backend->parse_for_define(a.xml, a.flags);
  }
  if (!def)
    return to_caf_error(def.error());
  auto where = st.index->read([&](const domain_list& l) { return l.existing(*def); });
  if (!where)
    return to_caf_error(where.error());
  if (*where) {
    auto i = st.domains.find(uuid_key(**where));
    if (i == st.domains.end())
      return to_caf_error(errors::internal("domain vanished during the call", st.traits->domain));
    self->delegate(i->second.actor, define_atom::value,
                   definition_call{std::move(*def), create, false});
    return caf::delegated<xdr::buffer>{};
  }
  if (create) {
    auto obj = std::make_shared<domain_object>(*def, domain_object::origin::transient, -1);
    auto& entry = adopt(self, obj);
    self->delegate(entry.actor, define_atom::value, definition_call{std::move(*def), true, true});
    return caf::delegated<xdr::buffer>{};
  }
  auto obj = std::make_shared<domain_object>(std::move(*def), domain_object::origin::defined, -1);
  // A definition that cannot be stored is no definition.
  if (auto ok = st.backend->make_backend()->save_config(*obj); !ok)
    return to_caf_error(ok.error());
  adopt(self, obj);
  publish(self, {domain_event{0, static_cast<int32_t>(domain_event_id::lifecycle), obj->handle(),
                              static_cast<int32_t>(lifecycle_event::defined),
                              detail::defined_added}});
  return xdr::encode(protocol::dom_only{obj->handle()});
}

/// CONNECT_GET_ALL_DOMAIN_STATS: every domain the call covers is asked at
/// once, in parallel; each record lands in its place as it arrives. A domain
/// whose actor does not answer within the driver's `stats_timeout` (a
/// hypervisor that hangs) gets a record from what the index knows (its
/// state): the reply never waits longer than that bound.
caf::result<xdr::buffer> all_domain_stats(state_ptr self, const typed_call& call) {
  auto& st = self->state;
  auto& args = std::any_cast<const protocol::connect_get_all_domain_stats_args&>(call.args);
  auto req = check_stats_call(*st.traits, args);
  if (!req)
    return to_caf_error(req.error());
  auto targets = st.index->read([&](const domain_list& l) { return stats_targets(l, args); });
  struct gathering {
    protocol::connect_get_all_domain_stats_ret ret;
    size_t left = 0;
    caf::typed_response_promise<xdr::buffer> rp;
    void arrived() {
      if (--left == 0)
        rp.deliver(xdr::encode(ret));
    }
  };
  auto g = std::make_shared<gathering>();
  g->ret.ret_stats.resize(targets.size());
  g->left = targets.size() + 1;
  g->rp = self->make_response_promise<xdr::buffer>();
  for (size_t i = 0; i < targets.size(); ++i) {
    // What the index knows, in case the domain's actor does not answer.
    auto& slot = g->ret.ret_stats[i];
    slot.dom = targets[i];
    if (req->groups & stats_group::state) {
      auto [state, reason] = st.index->read([&](const domain_list& l) {
        auto* s = l.find_uuid(targets[i].uuid);
        return std::pair{s ? s->state : 0, s ? s->reason : 0};
      });
      stats_params p;
      add_state_stats(p, state, reason);
      slot.params = p.take();
    }
    auto it = st.domains.find(uuid_key(targets[i].uuid));
    if (it == st.domains.end()) {
      g->arrived();
      continue;
    }
    self->request(it->second.actor, st.traits->stats_timeout, stats_atom::value, *req)
      .then(
        [g, i](protocol::domain_stats_record& rec) {
          g->ret.ret_stats[i] = std::move(rec);
          g->arrived();
        },
        [g](caf::error&) { g->arrived(); });
  }
  g->arrived();
  return g->rp;
}

state_actor::behavior_type state_impl(state_ptr self, std::shared_ptr<state_backend> backend) {
  auto& st = self->state;
  st.backend = std::move(backend);
  st.traits = std::make_shared<const driver_traits>(st.backend->traits());
  st.index = std::make_shared<shared_index>(*st.traits);
  auto initial = st.backend->take_initial_domains();
  int32_t max_id = 0;
  for (auto& obj : initial)
    max_id = std::max(max_id, obj->id);
  // Ids keep increasing over the life of the state: the next start gets max + 1.
  st.next_id = std::make_shared<std::atomic<int32_t>>(max_id + 1);
  for (auto& obj : initial)
    adopt(self, std::shared_ptr<domain_object>{std::move(obj)});
  self->set_exit_handler([self](caf::exit_msg& em) {
    // A domain actor's end arrives as a down message too; any other exit
    // (the driver dropping this state) ends the state and its domains.
    if (self->state.linked.erase(em.source) == 0)
      self->quit(std::move(em.reason));
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    auto before = ls.size();
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const event_listener& a) { return a.address() == dm.source; }),
             ls.end());
    if (ls.size() == before)
      on_domain_down(self, dm);
  });
  return {
    [self](call_atom, typed_call& call) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      if (is_domain_proc(call.proc)) {
        auto dom = domain_handle_of(call.args);
        auto i = st.domains.find(uuid_key(dom.uuid));
        // The index, not the object: only the domain's actor touches that.
        if (i == st.domains.end() ||
            !st.index->read([&](const domain_list& l) { return l.find_uuid(dom.uuid) != nullptr; })) {
          // libvirt checks arguments and flags before it looks the domain up.
          if (auto ok = check_domain_call(*st.traits, call.proc, call.args, call.read_only); !ok)
            return to_caf_error(ok.error());
          return to_caf_error(errors::no_domain_uuid(dom.uuid, dom.name, st.traits->domain));
        }
        self->delegate(i->second.actor, call_atom::value, std::move(call));
        return caf::delegated<xdr::buffer>{};
      }
      switch (static_cast<proc>(call.proc)) {
        case proc::domain_define_xml:
        case proc::domain_define_xml_flags:
        case proc::domain_create_xml:
          return define_or_create(self, call);
        case proc::connect_get_all_domain_stats:
          return all_domain_stats(self, call);
        default:
          break;
      }
      if (domain_list::handles(call.proc)) {
        auto r = st.index->read(
          [&](const domain_list& l) { return l.dispatch(call.proc, call.args); });
        if (!r)
          return to_caf_error(r.error());
        return std::move(*r);
      }
      std::vector<domain_event> events;
      call_context ctx;
      ctx.read_only = call.read_only;
      ctx.events = &events;
      ctx.next_domain_id = [ids = st.next_id] { return ids->fetch_add(1); };
      auto r = st.backend->call(call.proc, call.args, ctx);
      publish(self, events);
      if (!r)
        return to_caf_error(r.error());
      return std::move(*r);
    },
    [self](update_atom, domain_update& up) {
      auto& st = self->state;
      // The domain actor wrote its summary into the index itself, before it
      // replied (a later summary may be there already): only the events.
      publish(self, up.events);
    },
    [self](index_atom) { return self->state.index; },
    [self](subscribe_atom, const event_listener& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(listener);
    },
    [self](unsubscribe_atom, const event_listener& listener) {
      auto& ls = self->state.listeners;
      ls.erase(std::remove(ls.begin(), ls.end(), listener), ls.end());
    },
  };
}

} // namespace

state_actor spawn_state(caf::actor_system& sys, std::unique_ptr<state_backend> backend) {
  return sys.spawn(state_impl, std::shared_ptr<state_backend>{std::move(backend)});
}

} // namespace virtactor::drivers::conf
