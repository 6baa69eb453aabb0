/// Spawning a domain actor (internal to the state actor and its tests).
#pragma once

#include <atomic>
#include <memory>

#include "drivers/conf/actors.hpp"
#include "drivers/conf/domain_backend.hpp"
#include "drivers/conf/driver_traits.hpp"

namespace virtactor::drivers::conf {

/// What a domain actor starts from.
struct domain_actor_config {
  /// The domain; the state actor keeps a reference to restart the actor from.
  std::shared_ptr<domain_object> obj;
  std::shared_ptr<domain_backend> backend;
  std::shared_ptr<const driver_traits> traits;
  /// The driver state's domain id counter (libvirt's `nextDomID`).
  std::shared_ptr<std::atomic<int32_t>> next_id;
  /// Where updates go.
  state_actor owner;
  /// The state's index: the actor writes its summary there before replying.
  std::shared_ptr<shared_index> index;
};

/// Spawns the actor of `cfg.obj`; it calls `backend->attach` first.
domain_actor spawn_domain_actor(caf::actor_system& sys, domain_actor_config cfg);

} // namespace virtactor::drivers::conf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::conf::domain_actor_config)
