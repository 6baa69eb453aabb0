/// Hands an established TLS session to a frame broker: a custom `caf::io`
/// scribe that reads and writes through OpenSSL on CAF's I/O thread, never
/// blocking it (the socket is non-blocking; OpenSSL's "want read/write" is
/// "nothing now").
#pragma once

#include <memory>
#include <string>

#include "actors/stream.hpp"
#include "actors/tls_session.hpp"

namespace virtactor::tls {

/// The stream of `s` for `spawn_frame_broker`: its scribe adopts the socket
/// (and closes it); the session lives as long as the scribe and the broker.
/// On close the scribe sends close_notify once all output is written.
stream_endpoint make_stream(std::shared_ptr<session> s, std::string description);

} // namespace virtactor::tls
