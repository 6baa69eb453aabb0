/// The daemon's clients: one session per connection, hosted as plain objects
/// in the broker of the listener that accepted it (see `session_host`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/io/fwd.hpp>

#include "actors/frame_broker.hpp"
#include "actors/interfaces.hpp"
#include "actors/stream.hpp"
#include "daemon/config.hpp"

namespace virtactor::daemon {

/// What a session needs to know about the server and socket it came from.
struct session_options {
  /// Forces every connection on this socket read-only (`libvirt-sock-ro`).
  bool read_only_socket = false;
  /// True on unix sockets (FD passing possible, "secure" transport).
  bool unix_socket = true;
  /// True on the tls listener: encrypted, so CONNECT_IS_SECURE answers 1.
  bool tls = false;
  /// How clients of this socket authenticate (`auth_unix_rw`, ...).
  auth_method auth = auth_method::none;
  /// SASL identities let in (`sasl_allowed_username_list`, fnmatch globs);
  /// absent: every identity SASL accepts.
  std::optional<std::vector<std::string>> sasl_allowed_usernames;
  /// Least SASL SSF on plain TCP (`tcp_min_ssf`).
  int tcp_min_ssf = 56;
  /// Seconds between keepalive PINGs to an idle client (0: never).
  int keepalive_interval = 5;
  /// Unanswered PINGs after which the client is dropped.
  int keepalive_count = 5;
  /// Deadline for one call into a driver.
  std::chrono::seconds call_timeout{300};
  /// Calls one client may have in flight at once (`max_client_requests`).
  int max_client_requests = 5;
  /// What the client's frame broker bounds (queued calls, unsent replies).
  stream_limits limits;
  /// Custom test-driver files (`test:///PATH`) may be opened for clients of
  /// this socket, with the client's own credentials (unix sockets only).
  bool allow_test_driver_files = false;
  /// Largest such file; bigger ones are refused unread.
  uint64_t max_test_driver_file_size = 10 * 1024 * 1024;
  /// Longest error message a client gets; longer ones are cut.
  size_t max_error_length = 4096;
  /// Registry used for CONNECT_OPEN.
  registry_actor registry;
  /// Called once when the session ends (the server counts its clients).
  std::function<void()> on_exit;
  /// The daemon's log (level: 2 info, 3 warning, 4 error); may be empty.
  std::function<void(int level, const std::string& message)> log;
};

/// The credentials of a client on a unix socket (SO_PEERCRED, SO_PEERGROUPS).
struct peer_credentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
  int32_t pid = 0;
  /// Supplementary groups, when the kernel tells them.
  std::vector<uint32_t> groups;
};

/// What a session knows about its client.
struct client_info {
  /// On unix sockets.
  std::optional<peer_credentials> credentials;
  /// Addresses and TLS strength, for SASL.
  stream_peer peer;
};

/// Reads the credentials of the client on unix socket `fd`.
std::optional<peer_credentials> read_peer_credentials(int fd);

/// The sessions of one listener, hosted as plain objects inside the
/// listener's own `caf::io` broker together with their connections' framing
/// (`frame_conn`): no actor per client. Each session decodes its client's
/// messages, answers keepalive at once, authenticates (SASL) where its socket
/// asks for that, sends calls to its driver connection (opened through the
/// same registry the client library uses) and writes replies and events
/// back. A session that fails ends that client only; a session ends, and
/// frees what it holds, as soon as its client leaves. One timer per host
/// serves every session's keepalive and call deadlines.
class session_host {
public:
  virtual ~session_host() = default;
  /// Adopts connection `hdl`, already a scribe of the host's broker, as a
  /// new client. `owner` (TLS state, a slot in the server's count) lives as
  /// long as the client. `plain_socket`: the handle's scribe is a plain
  /// socket (replies may be written to it directly), not a TLS scribe.
  virtual void add(caf::io::connection_handle hdl, client_info info, bool plain_socket,
                   std::shared_ptr<void> owner = {}) = 0;
  /// Closes every client (the server stops).
  virtual void close_all() = 0;
  /// Clients hosted now.
  virtual size_t size() const = 0;
};

/// Makes the host of `self`'s sessions and returns it with the handlers its
/// broker adds to its behaviour (CAF's I/O messages for hosted connections,
/// the driver's replies and events, the host's timer). `self` owns the
/// host through those handlers; the broker's down handler is the host's.
std::pair<std::shared_ptr<session_host>, caf::message_handler>
make_session_host(caf::io::broker* self, std::shared_ptr<const session_options> opts);

} // namespace virtactor::daemon
