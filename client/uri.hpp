/// What libvirt 9.0's remote driver derives from a connection URI (transport,
/// endpoint, remote-only parameters, the CONNECT_OPEN name, default Unix
/// sockets). The URI grammar itself is shared: actors/uri.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/uri.hpp"
#include "actors/user_dirs.hpp"
#include "protocol/error.hpp"

// GNU dialects predefine `unix` as a macro; the transport below is named after
// libvirt's spelling, so keep the macro out of this header's way.
#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

using virtactor::format_params;
using virtactor::parse_uri;
using virtactor::to_string;
using virtactor::uri;
using virtactor::uri_param;

/// The remote driver's transports, numbered as libvirt's `remoteDriverTransport`.
enum class transport : uint8_t {
  tls = 0,
  unix = 1,
  ssh = 2,
  libssh2 = 3,
  ext = 4,
  tcp = 5,
  libssh = 6,
};

/// The transport's name in URIs, e.g. "libssh2".
std::string_view to_string(transport x);

/// The transport named `name` (ASCII case-insensitive), if any.
std::optional<transport> parse_transport(std::string_view name);

/// The port used when the URI gives none: 16514 (tls), 16509 (tcp), 22 (the
/// ssh family; the `ssh` binary is then left to its own configuration), 0 for
/// unix and ext, which use no port.
uint16_t default_port(transport x);

/// Which daemon a local socket belongs to (`mode=`): the per-driver daemon
/// (direct), libvirtd (legacy), or whichever socket exists (automatic).
enum class remote_mode : uint8_t { automatic = 0, legacy = 1, direct = 2 };

/// What runs on the far side of an ssh connection (`proxy=`): virt-ssh-helper
/// with a netcat fallback (automatic), netcat only, or virt-ssh-helper only (native).
enum class proxy_mode : uint8_t { automatic = 0, netcat = 1, native = 2 };

/// How libssh/libssh2 treat unknown host keys (`known_hosts_verify=`).
enum class host_key_check : uint8_t { normal = 0, auto_add = 1, ignore = 2 };

/// The value as written in URIs: "auto", "legacy", "direct".
std::string_view to_string(remote_mode x);
/// The value as written in URIs: "auto", "netcat", "native".
std::string_view to_string(proxy_mode x);
/// The value as written in URIs: "normal", "auto", "ignore".
std::string_view to_string(host_key_check x);

/// The process facts the remote driver's choices depend on; explicit so that
/// tests can play any user without being root.
struct local_env : user_env {
  /// The effective uid: non-root users talk to a session daemon for
  /// `/session` and `test+...` URIs.
  uint32_t euid = 0;
  /// `LIBVIRT_AUTOSTART`: "0" stops a session daemon from being spawned.
  std::optional<std::string> libvirt_autostart;

  /// The facts of this process (geteuid, getenv; the passwd entry for a missing $HOME).
  static local_env from_process();
};

/// Everything libvirt 9.0's remote driver derives from a URI before connecting.
struct remote_target {
  /// The driver part of the scheme, e.g. "qemu".
  std::string driver;
  client::transport transport = client::transport::unix;
  /// The host to connect to; "localhost" when the URI has none.
  std::string host = "localhost";
  std::optional<std::string> user;
  /// The port from the URI, if it gave one; see `port_or_default`.
  std::optional<uint16_t> port;
  /// The name sent in CONNECT_OPEN (`name=`, or the URI without transport,
  /// user, host, port and remote-only parameters; "" for `remote:` URIs).
  std::string open_name;
  /// The URI given to virt-ssh-helper on the far side of the ssh family:
  /// `open_name` with the `mode=` and `socket=` parameters kept in place
  /// (libvirt's `virtSshURI`); the same as `open_name` with `name=`.
  std::string helper_name;
  /// The session (per-user) daemon is meant: a non-root user with a
  /// `/session` path or a `test+...` scheme.
  bool session = false;
  /// A session daemon may be spawned if its socket is missing.
  bool autostart = false;

  std::optional<std::string> socket;         ///< `socket=`
  remote_mode mode = remote_mode::automatic; ///< `mode=`
  /// `proxy=`, or the default: netcat with `socket=`, native for a session, else automatic.
  proxy_mode proxy = proxy_mode::automatic;
  std::optional<std::string> command;     ///< `command=`: the ssh binary, or the ext command
  std::optional<std::string> netcat;      ///< `netcat=`
  std::optional<std::string> keyfile;     ///< `keyfile=`
  bool no_verify = false;                 ///< `no_verify=` (any integer; non-zero is true)
  bool no_tty = false;                    ///< `no_tty=`
  bool no_sanity = false;                 ///< `no_sanity=` (skip TLS certificate sanity checks)
  std::optional<std::string> known_hosts; ///< `known_hosts=`
  /// `known_hosts_verify=`; only read (and checked) for libssh and libssh2.
  host_key_check known_hosts_verify = host_key_check::normal;
  /// `sshauth=` split at ','; empty means the transport's default order.
  std::vector<std::string> sshauth;
  std::optional<std::string> pkipath;      ///< `pkipath=`
  std::optional<std::string> tls_priority; ///< `tls_priority=`
  std::optional<std::string> auth;         ///< `auth=`: the authentication type to ask for
  std::optional<std::string> authfile;     ///< `authfile=`: the auth.conf to read credentials from

  /// Parameters that are not remote-only, in order: they go to the daemon.
  std::vector<uri_param> passthrough;

  /// `port`, else the transport's default.
  uint16_t port_or_default() const { return port ? *port : default_port(transport); }

  bool operator==(const remote_target&) const = default;
};

/// Derives the remote target from `u` as libvirt 9.0's remote driver does,
/// with its checks in its order and its error codes, domains and messages.
result<remote_target> make_remote_target(const uri& u, const local_env& env);

/// Tells whether a path exists; tests pass a fake.
using exists_fn = std::function<bool(const std::string&)>;

/// The inputs of the default Unix socket choice (libvirt's `remoteGetUNIXSocket`).
struct socket_query {
  client::transport transport = client::transport::unix;
  remote_mode mode = remote_mode::automatic;
  /// The driver part of the scheme; names the per-driver daemon `virt<driver>d`.
  std::string driver;
  bool read_only = false;
  /// Use the per-user directory (see `remote_target::session`).
  bool session = false;
};

/// The directory a session daemon keeps its sockets in: `$XDG_RUNTIME_DIR/libvirt`,
/// else `$XDG_CACHE_HOME/libvirt`, else `$HOME/.cache/libvirt` (GLib's rules).
std::string user_runtime_dir(const local_env& env);

/// The socket libvirt 9.0 picks when the URI has no `socket=`:
/// `/var/run/libvirt/libvirt-sock[-ro]` (legacy) or `/var/run/libvirt/virt<driver>d-sock[-ro]`
/// (direct); for a session both live in `user_runtime_dir` and have no `-ro` twin.
/// `automatic` means direct if that socket exists (for the unix transport only),
/// else legacy, Debian's build default. `exists` defaults to the real filesystem.
/// Fails with VIR_ERR_OPERATION_UNSUPPORTED for direct mode over a non-unix transport.
result<std::string> default_unix_socket(const socket_query& q, const local_env& env,
                                        const exists_fn& exists = {});

/// The Unix socket `t` uses: its `socket=`, else `default_unix_socket`. Only
/// the unix transport and the ssh family have one; others fail with VIR_ERR_INVALID_ARG.
result<std::string> unix_socket_path(const remote_target& t, bool read_only, const local_env& env,
                                     const exists_fn& exists = {});

} // namespace virtactor::client

#pragma pop_macro("unix")
