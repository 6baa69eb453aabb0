/// The in-process SSH client of the `libssh2` (and `libssh`) transports, as
/// libvirt's virNetSSHSession does it: TCP connect, handshake, host key check
/// against known_hosts, authentication in `sshauth=` order through the
/// caller's credential callbacks, an exec channel running the remote helper;
/// then one pump thread per connection moves bytes between the channel and a
/// socketpair whose other end the frame broker adopts. libssh2 blocks, so it
/// only ever runs on that thread, never on an actor or I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/connect_auth.hpp"
#include "actors/stream.hpp"
#include "client/uri.hpp"
#include "protocol/error.hpp"

namespace virtactor::client {

/// Everything one connection needs, defaults applied.
struct libssh2_settings {
  std::string host;
  uint16_t port = 22;
  /// The remote user; libvirt's default is "root", not the local user.
  std::string user = "root";
  /// The private key for `privkey`: `keyfile=`, else the first of
  /// ~/.ssh/{identity,id_dsa,id_ecdsa,id_ed25519,id_rsa} that exists.
  std::optional<std::string> keyfile;
  /// `known_hosts=`, else $XDG_CONFIG_HOME/libvirt/known_hosts (or
  /// ~/.config/libvirt/known_hosts), as libvirt.
  std::string known_hosts;
  host_key_check verify = host_key_check::normal;
  /// Lower-case methods in order: agent, privkey, password, keyboard-interactive.
  std::vector<std::string> methods;
  /// What the channel executes (see `ssh_remote_command`).
  std::string command;
  /// Answers host key, passphrase and password questions; may be null.
  std::shared_ptr<const connect_auth> auth;
  /// Bound on the TCP connect and on each blocking SSH step.
  int timeout_ms = 30000;
  /// `libssh` URIs: errors carry libvirt's libssh code and domain.
  bool libssh_flavour = false;
};

/// Derives the settings from `t` as libvirt's virNetClientNewLibSSH2 does.
result<libssh2_settings> make_libssh2_settings(const remote_target& t, bool read_only,
                                               std::shared_ptr<const connect_auth> auth,
                                               const local_env& env);

/// Connects and authenticates (on a thread of its own, which then pumps
/// bytes), waiting for the outcome. Errors carry libvirt's codes and texts:
/// VIR_ERR_SYSTEM_ERROR when TCP fails, VIR_ERR_NO_CONNECT for a failed
/// handshake, VIR_ERR_AUTH_FAILED for a changed host key or rejected
/// credentials, VIR_ERR_SSH for an unknown host key nobody accepted and
/// other session errors.
result<stream_endpoint> open_libssh2_stream(const libssh2_settings& s);

} // namespace virtactor::client
