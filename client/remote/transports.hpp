/// The remote driver's transports: each turns a `remote_target` into a
/// connector, a function that (off the actor threads, within its own
/// deadline) produces a connected `stream_endpoint`. One file per transport.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/connect_auth.hpp"
#include "actors/stream.hpp"
#include "client/uri.hpp"
#include "protocol/error.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

/// Produces a connected stream, or the reason it could not.
using connector = std::function<result<stream_endpoint>()>;

/// How long connecting a transport may take, handshakes included.
inline constexpr int connect_timeout_ms = 30000;

/// The connector for `t`'s transport (dispatches to the functions below).
/// `auth` answers the questions a transport must ask (libssh2); may be null.
result<connector> make_connector(const remote_target& t, bool read_only,
                                 std::shared_ptr<const connect_auth> auth = {});

/// `unix`: the daemon's socket (read-only socket for read-only opens).
result<connector> unix_connector(const remote_target& t, bool read_only);

/// `tcp`: plain TCP to host:port (16509).
result<connector> tcp_connector(const remote_target& t);

/// `tls`: TLS over TCP (16514) with libvirt's PKI layout and checks.
result<connector> tls_connector(const remote_target& t);

/// `ssh`: the system `ssh` binary running a netcat-like helper on the host.
result<connector> ssh_connector(const remote_target& t, bool read_only);

/// `libssh2` (and `libssh`): an in-process SSH session and channel.
result<connector> libssh2_connector(const remote_target& t, bool read_only,
                                    std::shared_ptr<const connect_auth> auth = {});

/// The command the ssh family runs on the host (libvirt's
/// `virNetClientSSHHelperCommand`): virt-ssh-helper, netcat, or a shell probe
/// choosing between them, as one `sh -c '...'` string.
result<std::string> ssh_remote_command(const remote_target& t, bool read_only);

/// The `ssh` transport's whole command line (libvirt's
/// `virNetSocketNewConnectSSH`): binary, options, `--`, host, remote command.
result<std::vector<std::string>> ssh_command_line(const remote_target& t, bool read_only);

/// `ext`: any command whose stdin/stdout carry the stream (`command=`).
result<connector> ext_connector(const remote_target& t);

} // namespace virtactor::client

#pragma pop_macro("unix")
