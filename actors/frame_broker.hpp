/// The thin I/O end of every connection: a `caf::io` broker that cuts libvirt
/// RPC messages out of a byte stream and writes whole messages back. Nothing
/// is decoded here (all brokers share CAF's one I/O thread); the broker's peer
/// actor (a daemon session or a client RPC connection) does the rest.
///
/// To the peer: `(frame_atom, buffer, broker id)` with one message without its
/// length word, and finally `(closed_atom, stream_end, broker id)` when the stream
/// ends, carries a length word outside libvirt's limits, fails to decode under
/// a security layer or passes a bound. These go out as anonymous messages: in
/// CAF 0.17 a message sent from a broker wakes its receiver on the I/O thread,
/// and the peers' work belongs on the scheduler.
///
/// From the peer:
/// - `(frame_atom, buffer)`: one whole message (length word included) to write;
/// - `(frame_atom, buffer, uint32_t bytes)`: the same, and it releases one
///   message of `bytes` received earlier (a reply releases its call);
/// - `(release_atom, uint32_t bytes)`: releases one message without a reply;
/// - `(codec_atom, codec)`: every later byte goes through `codec` (SASL);
/// - `(frame_atom, buffer, uint32_t bytes, codec)`: writes the message in
///   clear, then installs `codec` (SASL's last reply, libvirt's order);
/// - `(close_atom)`: flush and close;
/// - `(drop_atom)`: close at once, dropping unsent output (a client that
///   stopped answering or reading).
/// The broker closes when its peer dies.
///
/// Memory follows what arrives: a body is read in pieces that grow with the
/// bytes received so far (a length word alone costs a few KiB, not the
/// length it announces), and buffers drop back once a message is through.
/// Output is handed to CAF in slices of at most `output_window` bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>
#include <caf/io/fwd.hpp>

#include "actors/frame_conn.hpp"
#include "actors/stream.hpp"

namespace virtactor {

/// Makes the peer of a new connection, given the broker that carries it.
using peer_factory = std::function<caf::actor(caf::actor broker)>;

/// Adopts the connected stream socket `fd` and spawns its broker, whose peer
/// `make_peer` creates.
caf::actor spawn_frame_broker(caf::actor_system& sys, int fd, peer_factory make_peer,
                              stream_limits limits = {});

/// Spawns the broker of `stream` (its socket or its custom scribe). The
/// stream's owner lives as long as the broker.
caf::actor spawn_frame_broker(caf::actor_system& sys, stream_endpoint stream,
                              peer_factory make_peer, stream_limits limits = {});

/// The behaviour of a broker that carries connection `hdl` (used with
/// `broker::fork` by listeners).
caf::behavior frame_broker(caf::io::broker* self, caf::io::connection_handle hdl,
                           peer_factory make_peer, stream_limits limits);

} // namespace virtactor
