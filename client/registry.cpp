#include "client/registry.hpp"

#include <algorithm>
#include <mutex>

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "client/remote/remote_driver.hpp"

namespace virtactor::client {

namespace {

/// The name of a system's registry in CAF's registry of named actors: one per
/// actor system, gone with it.
const caf::atom_value registry_name = caf::atom("va_drvreg");

// Recursive: an actor that has already ended runs attached functors at once.
std::recursive_mutex registries_mtx;

} // namespace

registry_actor driver_registry(caf::actor_system& sys) {
  std::lock_guard<std::recursive_mutex> guard{registries_mtx};
  if (auto reg = caf::actor_cast<registry_actor>(sys.registry().get(registry_name)))
    return reg;
  auto drivers = drivers::local_drivers(sys);
  drivers.push_back(spawn_remote_driver(sys)); // last, as in libvirt
  auto reg = spawn_registry(sys, std::move(drivers));
  sys.registry().put(registry_name, reg);
  // Forget it when it ends, so that the next use spawns a fresh one.
  auto* named = &sys.registry();
  caf::actor_cast<caf::abstract_actor*>(reg)->attach_functor([named, addr = reg.address()] {
    std::lock_guard<std::recursive_mutex> guard{registries_mtx};
    if (auto cur = named->get(registry_name); cur && cur->address() == addr)
      named->erase(registry_name);
  });
  return reg;
}

namespace {

struct owner_guard_state {
  caf::strong_actor_ptr self_ref;
  static inline const char* name = "va_owner_guard";
};

} // namespace

void close_with_owner(caf::actor_system& sys, const caf::actor_addr& owner,
                      const connection_actor& conn) {
  // An actor watching both: it closes `conn` when `owner` ends and ends
  // itself when `conn` does. (Not hidden: a system waits for it as it waits
  // for the connection.)
  sys.spawn(
    [](caf::stateful_actor<owner_guard_state>* self, caf::actor_addr owner_addr,
       caf::actor_addr conn_addr) -> caf::behavior {
      // Monitor through strong references held only here: a weak address
      // may point at an actor that is already gone.
      auto owner = caf::actor_cast<caf::strong_actor_ptr>(owner_addr);
      auto conn = caf::actor_cast<caf::strong_actor_ptr>(conn_addr);
      if (!conn)
        return {}; // already closed: nothing to watch
      if (!owner) {
        caf::anon_send(caf::actor_cast<caf::actor>(conn), close_atom::value);
        return {};
      }
      // Nobody else holds this actor: without a reference to itself CAF
      // would end it as unreachable, and the down messages would be lost.
      self->state.self_ref = caf::actor_cast<caf::strong_actor_ptr>(self);
      self->monitor(owner);
      self->monitor(conn);
      self->set_down_handler([self, conn_addr](const caf::down_msg& dm) {
        if (dm.source != conn_addr)
          if (auto conn = caf::actor_cast<caf::actor>(conn_addr))
            caf::anon_send(conn, close_atom::value);
        self->state.self_ref = nullptr;
        self->quit();
      });
      using nop_atom = caf::atom_constant<caf::atom("va_nop")>;
      return {[](nop_atom) {
        // nop: this actor only watches
      }};
    },
    owner, conn.address());
}

void stop_driver_registry(caf::actor_system& sys, std::chrono::milliseconds wait) {
  caf::actor reg;
  {
    std::lock_guard<std::recursive_mutex> guard{registries_mtx};
    reg = caf::actor_cast<caf::actor>(sys.registry().get(registry_name));
    if (!reg)
      return;
    sys.registry().erase(registry_name);
  }
  if (wait.count() <= 0) {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    return;
  }
  caf::scoped_actor self{sys, true};
  self->monitor(reg);
  self->send_exit(reg, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {}, caf::after(wait) >> [] {
    // gave up waiting
  });
}

} // namespace virtactor::client
