/// The remote driver (libvirt's `remoteConnectOpen` / `doRemoteOpen`): it
/// accepts a URI that names a transport or a host, or a driver only a daemon
/// serves, derives the target from it once (client/uri.hpp), connects through
/// the transport and hands the socket to a remote connection actor.
#pragma once

#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "client/uri.hpp"

namespace virtactor::client {

/// Spawns the remote driver. It is the last driver of a client registry.
driver_actor spawn_remote_driver(caf::actor_system& sys);

/// Whether the remote driver takes `u`. In a client (the remote driver is not
/// in the daemon's registry) it takes every URI the local drivers declined, as
/// libvirt's does: `bogus:///x` goes to the local daemon socket.
bool remote_accepts(const uri& u);

} // namespace virtactor::client
