/// The atoms of virtactor's actor messages (each at most 10 characters).
#pragma once

#include <caf/atom.hpp>

namespace virtactor {

/// A procedure call: (call_atom, proc, encoded args [, read_only]).
using call_atom = caf::atom_constant<caf::atom("va_call")>;
/// Open a connection: (open_atom, uri, flags, open_options).
using open_atom = caf::atom_constant<caf::atom("va_open")>;
/// Close a connection.
using close_atom = caf::atom_constant<caf::atom("va_close")>;
/// Subscribe to domain events.
using subscribe_atom = caf::atom_constant<caf::atom("va_sub")>;
/// Cancel a subscription.
using unsubscribe_atom = caf::atom_constant<caf::atom("va_unsub")>;
/// Watch a connection for its end (close callback).
using watch_atom = caf::atom_constant<caf::atom("va_watch")>;
/// A driver-internal state update.
using update_atom = caf::atom_constant<caf::atom("va_update")>;
/// Ask for the connection's URI.
using uri_atom = caf::atom_constant<caf::atom("va_uri")>;
/// Publish an event.
using publish_atom = caf::atom_constant<caf::atom("va_pub")>;
/// A connection tells its driver it is closing: (release_atom, connection address).
using release_atom = caf::atom_constant<caf::atom("va_release")>;
/// Driver-wide hook: load state, reattach, autostart (daemon start).
using initialize_atom = caf::atom_constant<caf::atom("va_init")>;
/// Driver-wide hook: re-read configuration (SIGHUP).
using reload_atom = caf::atom_constant<caf::atom("va_reload")>;
/// Driver-wide hook: the daemon is stopping.
using shutdown_atom = caf::atom_constant<caf::atom("va_shutdn")>;

} // namespace virtactor

namespace virtactor {

/// A whole RPC message: broker -> peer without the length word, peer ->
/// broker with it (ready to write).
using frame_atom = caf::atom_constant<caf::atom("va_frame")>;
/// The byte stream ended: (closed_atom, stream_end, broker id).
using closed_atom = caf::atom_constant<caf::atom("va_closed")>;
/// A periodic timer tick (keepalive).
using tick_atom = caf::atom_constant<caf::atom("va_tick")>;
/// Peer -> broker: one received message is done with: (release_atom, bytes).
using release_atom = caf::atom_constant<caf::atom("va_release")>;
/// Peer -> broker: end now, dropping unsent output (a dead or hostile peer).
using drop_atom = caf::atom_constant<caf::atom("va_drop")>;
/// Peer -> broker: a security layer for every later byte: (codec_atom, codec).
using codec_atom = caf::atom_constant<caf::atom("va_codec")>;

} // namespace virtactor
