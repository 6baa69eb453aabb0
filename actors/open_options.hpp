/// What a caller chooses per connection when it opens one (no CAF needed).
#pragma once

#include <cstdint>
#include <memory>

#include "actors/connect_auth.hpp"

namespace virtactor {

/// Per-connection choices a caller makes at open time. Local drivers ignore
/// what does not apply to them.
struct open_options {
  /// Reconnect after losing the daemon: 0 = never (libvirt's behaviour), else
  /// the number of attempts, with exponential backoff from `reconnect_backoff_ms`.
  int32_t reconnect_attempts = 0;
  int32_t reconnect_backoff_ms = 200;
  /// Seconds between keepalive PINGs while idle (0: none) and the number of
  /// unanswered PINGs that close the connection (virsh's defaults).
  int32_t keepalive_interval = 5;
  int32_t keepalive_count = 6;
  /// Credential callbacks for transports that must ask (libssh2: passphrases,
  /// passwords, unknown host keys). In-process only: never serialised.
  std::shared_ptr<const connect_auth> auth;

  bool operator==(const open_options&) const = default;
};

} // namespace virtactor
