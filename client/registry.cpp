#include "client/registry.hpp"

#include <map>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "actors/request_timeout.hpp"
#include "client/remote/remote_driver.hpp"
#include "drivers/test/test_driver_actor.hpp"

namespace virtactor::client {

namespace {

struct registry_state {
  std::vector<driver_actor> drivers;
  static inline const char* name = "va_registry";
};

using registry_ptr = caf::stateful_actor<registry_state>*;

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

caf::behavior registry_impl(registry_ptr self, std::vector<driver_actor> drivers) {
  for (auto& d : drivers)
    self->link_to(d);
  self->state.drivers = std::move(drivers);
  return {
    [self](open_atom, const std::string& uri, uint32_t flags, const open_options& opts) {
      auto rp = self->make_response_promise<connection_actor>();
      try_driver(self, rp, uri, flags, opts, 0);
      return rp;
    },
  };
}

std::mutex registries_mtx;
std::map<caf::actor_system*, registry_actor> registries;

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, std::vector<driver_actor> drivers) {
  return caf::actor_cast<registry_actor>(sys.spawn(registry_impl, std::move(drivers)));
}

registry_actor driver_registry(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{registries_mtx};
  auto& reg = registries[&sys];
  if (!reg) {
    std::vector<driver_actor> drivers;
    drivers.push_back(drivers::test::spawn_test_driver(sys));
    drivers.push_back(spawn_remote_driver(sys)); // last, as in libvirt
    reg = spawn_registry(sys, std::move(drivers));
  }
  return reg;
}

void stop_driver_registry(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{registries_mtx};
  auto i = registries.find(&sys);
  if (i == registries.end())
    return;
  caf::anon_send_exit(i->second, caf::exit_reason::user_shutdown);
  registries.erase(i);
}

} // namespace virtactor::client
