/// The thin I/O end of every connection: a `caf::io` broker that cuts libvirt
/// RPC messages out of a byte stream and writes whole messages back. Nothing
/// is decoded here (all brokers share CAF's one I/O thread); the broker's peer
/// actor (a daemon session or a client RPC connection) does the rest.
///
/// To the peer: `(frame_atom, buffer, broker id)` with one message without its
/// length word, and finally `(closed_atom, reason, broker id)` when the stream
/// ends or carries a length word outside libvirt's limits. These go out as
/// anonymous messages: in CAF 0.17 a message sent from a broker wakes its
/// receiver on the I/O thread, and the peers' work belongs on the scheduler. From the peer: `(frame_atom, buffer)`
/// with one whole message (length word included) to write, and `(close_atom)`
/// to flush and close. The broker closes when its peer dies.
#pragma once

#include <functional>

#include <caf/fwd.hpp>
#include <caf/io/fwd.hpp>

#include "actors/stream.hpp"

namespace virtactor {

/// Makes the peer of a new connection, given the broker that carries it.
using peer_factory = std::function<caf::actor(caf::actor broker)>;

/// Adopts the connected stream socket `fd` and spawns its broker, whose peer
/// `make_peer` creates.
caf::actor spawn_frame_broker(caf::actor_system& sys, int fd, peer_factory make_peer);

/// Spawns the broker of `stream` (its socket or its custom scribe). The
/// stream's owner lives as long as the broker.
caf::actor spawn_frame_broker(caf::actor_system& sys, stream_endpoint stream,
                              peer_factory make_peer);

/// The behaviour of a broker that carries connection `hdl` (used with
/// `broker::fork` by listeners).
caf::behavior frame_broker(caf::io::broker* self, caf::io::connection_handle hdl,
                           peer_factory make_peer);

} // namespace virtactor
