#include "drivers/registry.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/request_timeout.hpp"
#include "drivers/test/test_driver_actor.hpp"

namespace virtactor::drivers {

namespace {

struct registry_state {
  std::vector<driver_actor> drivers;
  /// Drivers still alive while the registry stops.
  std::vector<caf::actor_addr> stopping;
  bool stop_requested = false;
  caf::error stop_reason;
  static inline const char* name = "va_registry";
};

using registry_ptr = registry_actor::stateful_pointer<registry_state>;

void try_driver(registry_ptr self, caf::typed_response_promise<connection_actor> rp,
                std::string uri, uint32_t flags, open_options opts, size_t i) {
  auto& drivers = self->state.drivers;
  if (i == drivers.size()) {
    rp.deliver(make_caf_error(error_code::no_connect, error_domain::none,
                              "no connection driver available for " + uri));
    return;
  }
  auto request = self->request(drivers[i], open_timeout, open_atom::value, uri, flags, opts);
  auto id = request.id();
  std::move(request).then(
    [=](const connection_actor& conn) mutable {
      forget_timeout(self, id); // the registry lives on: drop the entry now
      if (conn)
        rp.deliver(conn);
      else
        try_driver(self, rp, uri, flags, opts, i + 1); // declined: next driver
    },
    [=](caf::error& err) mutable {
      forget_timeout(self, id);
      rp.deliver(std::move(err));
    });
}

/// Sends hook `Atom` to driver `i` and the rest after it, in order.
template <class Atom>
void run_hook(registry_ptr self, caf::typed_response_promise<bool> rp, size_t i) {
  auto& drivers = self->state.drivers;
  if (i == drivers.size()) {
    rp.deliver(true);
    return;
  }
  self->request(drivers[i], hook_timeout, Atom::value)
    .then([=](bool) mutable { run_hook<Atom>(self, rp, i + 1); },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

template <class Atom>
caf::typed_response_promise<bool> start_hook(registry_ptr self) {
  auto rp = self->make_response_promise<bool>();
  run_hook<Atom>(self, rp, 0);
  return rp;
}

/// Stops the drivers and quits once all of them have ended, so that whoever
/// waits for the registry's end knows its drivers are gone too.
void stop_registry(registry_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.stop_requested)
    return;
  st.stop_requested = true;
  st.stop_reason = std::move(reason);
  for (auto& d : st.drivers) {
    st.stopping.push_back(d.address());
    self->monitor(d);
    self->send_exit(d, st.stop_reason);
  }
  st.drivers.clear();
  if (st.stopping.empty())
    self->quit(st.stop_reason);
}

registry_actor::behavior_type registry_impl(registry_ptr self, std::vector<driver_actor> drivers) {
  for (auto& d : drivers)
    self->link_to(d);
  self->state.drivers = std::move(drivers);
  // The registry and its drivers are hidden actors: an actor system does not
  // wait for them when it shuts down (it waits for the connections, which
  // end when closed or when the actor that opened them ends, see
  // client/async.hpp). They end with the system instead: CAF stops its
  // internal config server right after the last visible actor.
  if (auto& cs = self->system().config_serv())
    self->monitor(cs);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason)
      stop_registry(self, msg.reason);
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = std::find(st.stopping.begin(), st.stopping.end(), dm.source);
    if (i == st.stopping.end()) {
      stop_registry(self, caf::exit_reason::user_shutdown); // the system stops
      return;
    }
    st.stopping.erase(i);
    if (st.stopping.empty())
      self->quit(st.stop_reason);
  });
  return {
    [self](open_atom, const std::string& uri, uint32_t flags, const open_options& opts) {
      auto rp = self->make_response_promise<connection_actor>();
      try_driver(self, rp, uri, flags, opts, 0);
      return rp;
    },
    [self](initialize_atom) { return start_hook<initialize_atom>(self); },
    [self](reload_atom) { return start_hook<reload_atom>(self); },
    [self](shutdown_atom) { return start_hook<shutdown_atom>(self); },
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, std::vector<driver_actor> drivers) {
  return sys.spawn<caf::hidden>(registry_impl, std::move(drivers));
}

std::vector<driver_actor> local_drivers(caf::actor_system& sys) {
  std::vector<driver_actor> out;
  out.push_back(test::spawn_test_driver(sys));
  return out;
}

} // namespace virtactor::drivers
