#include "drivers/registry.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "drivers/test/test_driver_actor.hpp"

namespace virtactor::drivers {

namespace {

struct registry_state {
  std::vector<driver_actor> drivers;
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
  self->request(drivers[i], open_timeout, open_atom::value, uri, flags, opts)
    .then(
      [=](const connection_actor& conn) mutable {
        if (conn)
          rp.deliver(conn);
        else
          try_driver(self, rp, uri, flags, opts, i + 1); // declined: next driver
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
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

registry_actor::behavior_type registry_impl(registry_ptr self, std::vector<driver_actor> drivers) {
  for (auto& d : drivers)
    self->link_to(d);
  self->state.drivers = std::move(drivers);
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
  return sys.spawn(registry_impl, std::move(drivers));
}

std::vector<driver_actor> local_drivers(caf::actor_system& sys) {
  std::vector<driver_actor> out;
  out.push_back(test::spawn_test_driver(sys));
  return out;
}

} // namespace virtactor::drivers
