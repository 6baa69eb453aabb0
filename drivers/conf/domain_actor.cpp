#include "drivers/conf/domain_actor.hpp"
#include "drivers/conf/shared_index.hpp"

#include <deque>
#include <functional>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "drivers/conf/domain_dispatch.hpp"
#include "drivers/conf/errors.hpp"

namespace virtactor::drivers::conf {

namespace {

struct domain_actor_state;
using domain_ptr = domain_actor::stateful_pointer<domain_actor_state>;

void end_if_removed(domain_ptr self);

/// A call's work: performs it and replies through the function it gets.
using work_fn = std::function<void(reply_fn)>;

struct domain_actor_state : domain_host {
  domain_actor_config cfg;
  domain_ptr self = nullptr;
  /// What the state actor last heard; a call that changes nothing sends nothing.
  std::optional<domain_summary> told;
  /// Events of the current step, sent with the next summary.
  std::vector<domain_event> events;
  /// The context of the message being handled (`read_only` is the caller's).
  call_context ctx;
  /// A job is running (libvirt's job lock); later jobs wait here.
  bool busy = false;
  struct waiting_job {
    bool read_only;
    work_fn work;
    caf::typed_response_promise<xdr::buffer> rp;
  };
  std::deque<waiting_job> waiting;

  static inline const char* name = "va_domain";

  call_context& context() override { return ctx; }
  void changed() override { flush(); }
  caf::actor handle() override { return caf::actor_cast<caf::actor>(self); }
  caf::actor_system& system() override { return self->system(); }

  void request(const caf::actor& dest, caf::timespan timeout, caf::message msg,
               std::function<void(std::string&)> ok,
               std::function<void(const caf::error&)> fail) override {
    auto me = self;
    self->request(dest, timeout, std::move(msg))
      .then(
        [me, ok](std::string& reply) {
          me->state.begin(false);
          ok(reply);
          me->state.flush();
          end_if_removed(me);
        },
        [me, fail](caf::error& err) {
          me->state.begin(false);
          fail(err);
          me->state.flush();
          end_if_removed(me);
        });
  }

  /// Tells the state actor about a changed summary and the events so far:
  /// before the caller gets its reply, so a listing that follows sees it.
  void flush() {
    auto now = cfg.obj->summary();
    if (events.empty() && told == now)
      return;
    told = now;
    if (cfg.index) {
      now.cpu = cfg.backend->cpu_clock_of(*cfg.obj);
      cfg.index->write([&](domain_list& l) { l.update(now); });
    }
    self->send(cfg.owner, update_atom::value, domain_update{std::move(now), std::move(events)});
    events.clear();
  }

  /// The call context for a call of a connection that is `read_only` or not.
  void begin(bool read_only) {
    ctx.read_only = read_only;
    ctx.events = &events;
    ctx.next_domain_id = [ids = cfg.next_id] { return ids->fetch_add(1); };
  }
};

/// Runs `work` now (reads, urgent calls, a job while none runs) or after the
/// running job (jobs); replies through `rp`.
void run(domain_ptr self, job_kind kind, bool read_only, work_fn work,
         caf::typed_response_promise<xdr::buffer> rp) {
  auto& st = self->state;
  if (kind == job_kind::job) {
    if (st.busy) {
      st.waiting.push_back({read_only, std::move(work), std::move(rp)});
      return;
    }
    st.busy = true;
  }
  st.begin(read_only);
  work([self, kind, rp](result<xdr::buffer> r) mutable {
    auto& st = self->state;
    st.flush();
    if (r)
      rp.deliver(std::move(*r));
    else
      rp.deliver(to_caf_error(r.error()));
    if (kind == job_kind::job) {
      st.busy = false;
      if (!st.waiting.empty() && !st.cfg.obj->removed) {
        auto next = std::move(st.waiting.front());
        st.waiting.pop_front();
        run(self, job_kind::job, next.read_only, std::move(next.work), std::move(next.rp));
      }
    }
    end_if_removed(self);
  });
  // The work may still be pending (the backend finishes later); what it
  // changed so far (a domain paused while starting up) is news already.
  st.begin(false);
  st.flush();
}

/// A removed domain (undefined while inactive, a transient one that stopped)
/// has no actor: queued calls fail as a call on a vanished handle does.
void end_if_removed(domain_ptr self) {
  auto& st = self->state;
  if (!st.cfg.obj->removed || st.busy)
    return;
  auto& obj = *st.cfg.obj;
  for (auto& w : st.waiting)
    w.rp.deliver(to_caf_error(errors::no_domain_uuid(obj.uuid, obj.name, st.cfg.traits->domain)));
  st.waiting.clear();
  self->quit();
}

domain_actor::behavior_type domain_impl(domain_ptr self, domain_actor_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.self = self;
  st.begin(false);
  st.cfg.backend->attach(*st.cfg.obj, st);
  st.flush();
  return {
    [self](call_atom, typed_call& call) -> caf::typed_response_promise<xdr::buffer> {
      auto rp = self->make_response_promise<xdr::buffer>();
      auto kind = job_kind_of(call.proc);
      auto shared = std::make_shared<typed_call>(std::move(call));
      run(self, kind, shared->read_only, [self, shared](reply_fn reply) {
        auto& st = self->state;
        dispatch_domain_call(*st.cfg.traits, *st.cfg.obj, *st.cfg.backend, shared->proc,
                             shared->args, st.ctx, std::move(reply));
      }, rp);
      return rp;
    },
    [self](define_atom, definition_call& dc) -> caf::typed_response_promise<xdr::buffer> {
      auto rp = self->make_response_promise<xdr::buffer>();
      auto shared = std::make_shared<definition_call>(std::move(dc));
      run(self, job_kind::job, false, [self, shared](reply_fn reply) {
        auto& st = self->state;
        auto& t = *st.cfg.traits;
        if (!shared->create) {
          auto r = redefine_domain(t, *st.cfg.obj, *st.cfg.backend, std::move(shared->def), st.ctx);
          if (!r)
            return reply(r.error());
          return reply(xdr::encode(*r));
        }
        create_domain(t, *st.cfg.obj, *st.cfg.backend, std::move(shared->def), shared->fresh,
                      [reply](result<protocol::dom_only> r) {
                        if (!r)
                          return reply(r.error());
                        reply(xdr::encode(*r));
                      });
      }, rp);
      return rp;
    },
    [self](stats_atom, const stats_request& req)
      -> caf::typed_response_promise<protocol::domain_stats_record> {
      auto rp = self->make_response_promise<protocol::domain_stats_record>();
      auto& st = self->state;
      // A read: the backend answers from what it knows and what the
      // hypervisor tells within the driver's bound, whatever job runs.
      domain_stats(*st.cfg.obj, *st.cfg.backend, req,
                   [rp](protocol::domain_stats_record rec) mutable { rp.deliver(std::move(rec)); });
      return rp;
    },
    [self](backend_atom, const caf::message& msg) {
      auto& st = self->state;
      st.begin(false);
      st.cfg.backend->on_message(msg, *st.cfg.obj);
      st.flush();
      end_if_removed(self);
    },
  };
}

} // namespace

domain_actor spawn_domain_actor(caf::actor_system& sys, domain_actor_config cfg) {
  return sys.spawn(domain_impl, std::move(cfg));
}

} // namespace virtactor::drivers::conf
