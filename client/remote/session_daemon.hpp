/// A user's session daemon, started on demand: libvirt's client starts
/// `libvirtd --timeout=120` when a `qemu:///session` (or other session URI)
/// finds no daemon on the user's socket; ours starts virtactord the same way.
#pragma once

#include <string>

#include "actors/fd.hpp"
#include "protocol/error.hpp"

namespace virtactor::client {

/// The daemon to start: $VIRTACTORD_PATH, else the installed virtactord,
/// else the one of the build tree this client was built in. Empty when
/// none of them exists.
std::string session_daemon_binary();

/// The pid file of a session daemon started for `socket_path`:
/// virtactord.pid beside the socket (libvirtd's is libvirtd.pid there).
std::string session_daemon_pid_file(const std::string& socket_path);

/// Connects to the session daemon's socket `path`; when nothing listens there
/// (no socket, or a stale one), starts the daemon (one client at a time:
/// `path`.lock serialises them) and connects once it serves. The daemon
/// exits after 120 s without clients.
result<unique_fd> connect_session_daemon(const std::string& path, int timeout_ms);

} // namespace virtactor::client
