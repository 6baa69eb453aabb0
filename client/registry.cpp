#include "client/registry.hpp"

#include <map>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "client/remote/remote_driver.hpp"

namespace virtactor::client {

namespace {

std::mutex registries_mtx;
std::map<caf::actor_system*, registry_actor> registries;

} // namespace

registry_actor driver_registry(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{registries_mtx};
  auto& reg = registries[&sys];
  if (!reg) {
    auto all = drivers::local_drivers(sys);
    all.push_back(spawn_remote_driver(sys)); // last, as in libvirt
    reg = spawn_registry(sys, std::move(all));
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
