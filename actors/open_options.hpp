/// What a caller chooses per connection when it opens one (no CAF needed).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/connect_auth.hpp"

namespace virtactor {

/// Whose files a local driver may read for a connection (the test driver's
/// custom files, `test:///PATH`, and the files they name). A daemon opens
/// them for a client only when its configuration allows it, and only as that
/// client may; FIFOs, devices and files over `max_size` are refused unread,
/// whoever asks.
struct file_access {
  /// False: custom files are refused with `refusal`.
  bool allowed = true;
  std::string refusal;
  /// Open as this user, with `gid` and `groups` (a client's credentials);
  /// unset: as this process.
  std::optional<uint32_t> uid;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  /// Largest file read.
  uint64_t max_size = 10 * 1024 * 1024;
  /// Errors may quote the file's text (libvirt's parse errors show the line
  /// at fault); off for a daemon's clients.
  bool quote_content = true;

  bool operator==(const file_access&) const = default;
};

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
  /// Whose files a local driver may read; null: this process's, within the
  /// default bounds. In-process only: never serialised.
  std::shared_ptr<const file_access> files;

  bool operator==(const open_options&) const = default;
};

} // namespace virtactor
