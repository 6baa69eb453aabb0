/// The QMP monitor of one running domain: an actor that owns the connection
/// to QEMU's monitor socket, negotiates capabilities, runs commands with a
/// deadline each, and forwards QEMU's events to its owner (the domain actor).
///
/// - `(qmp_exec, command, arguments, deadline)`: runs `command` with
///   `arguments` (JSON text of an object, or empty). Replies with the
///   `return` value as compact JSON text, or with a libvirt error:
///   QEMU's error reply -> VIR_ERR_INTERNAL_ERROR "unable to execute QEMU
///   command 'X': DESC"; no reply within `deadline` -> VIR_ERR_OPERATION_TIMEOUT
///   naming the command (a late reply is then dropped); the stream ends ->
///   libvirt's monitor end-of-file or read error. Commands asked before the
///   capabilities negotiation finished wait for it (their deadline runs).
///   The monitor always answers within the deadline: requesters should use a
///   longer request timeout than the deadline.
/// - `(qmp_status)`: what the monitor knows (answers at once, even while
///   QEMU does not).
/// - `(close)`: fails what is pending ("QEMU monitor was closed"), closes the
///   socket and ends the actor. The owner gets no `monitor_closed` for it.
///
/// To the owner, in arrival order: `qmp_event` for each QMP event, and once
/// `monitor_closed` when the stream ends by itself (QEMU quit or died, or
/// sent something that is not QMP). An event that QEMU sends before a reply is
/// in the owner's mailbox before that reply is delivered, so an owner that
/// sent the command itself handles e.g. RESUME before `cont` returns.
/// The monitor ends when its owner ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/fd.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/qemu/qmp.hpp"

namespace virtactor::qemu {

/// Run a QMP command: (qmp_exec, command, arguments, deadline).
using qmp_exec_atom = caf::atom_constant<caf::atom("qmp_exec")>;
/// Ask the monitor for its `monitor_status`.
using qmp_status_atom = caf::atom_constant<caf::atom("qmp_status")>;

/// One QMP event, as QEMU sent it.
struct qmp_event {
  std::string name;
  /// The `data` object as compact JSON text; empty when the event has none.
  std::string data;
  /// QEMU's host wall-clock timestamp.
  int64_t seconds = 0;
  int64_t microseconds = 0;
};

/// Why a monitor connection ended.
enum class monitor_end : uint8_t {
  eof,            ///< QEMU closed the socket (quit, exit, crash)
  reset,          ///< ECONNRESET: QEMU died with our bytes unread (e.g. SIGKILL)
  io_error,       ///< any other read or write error
  protocol_error, ///< QEMU sent something that is not QMP: libvirt raises CONTROL_ERROR
};

/// To the owner, once: the monitor connection is gone. `reason` is the
/// libvirt error text that pending and later commands get.
struct monitor_closed {
  monitor_end why = monitor_end::eof;
  std::string reason;
};

/// A snapshot of the monitor's state.
struct monitor_status {
  bool greeted = false; ///< the greeting arrived
  bool ready = false;   ///< capabilities negotiated, commands flow
  bool ended = false;   ///< the stream is gone
  uint64_t pending = 0; ///< commands sent or queued, not answered yet
  /// The greeting's `QMP` object as JSON text (QEMU version, capabilities).
  std::string greeting;
};

/// The monitor's interface (see the file comment).
using monitor_actor = caf::typed_actor<
  caf::replies_to<qmp_exec_atom, std::string, std::string, caf::timespan>::with<std::string>,
  caf::replies_to<qmp_status_atom>::with<monitor_status>, caf::reacts_to<close_atom>>;

/// What a monitor's owner must accept: `qmp_event` and `monitor_closed`,
/// each wrapped as `(backend_atom, message)` (the domain actor's backend
/// messages, drivers/conf/actors.hpp).
using monitor_owner = drivers::conf::backend_sink;

/// How to run a monitor.
struct monitor_options {
  /// The domain's name, for libvirt's messages ("... (vm='NAME')").
  std::string vm_name;
  /// Longest line accepted from QEMU.
  std::size_t max_line = qmp::default_max_line;
};

/// Starts the monitor over `connected`, a stream socket connected to QEMU's
/// monitor (see `connect_monitor`), with `owner` receiving its events. The
/// actor system must have loaded `caf::io::middleman`.
monitor_actor spawn_monitor(caf::actor_system& sys, unique_fd connected, monitor_owner owner,
                            monitor_options options);

/// Makes the monitor socket at `path` as libvirt does before it starts QEMU:
/// a stale file replaced, bound, listening with a backlog of one. QEMU gets
/// it as an inherited descriptor (`-chardev socket,...,fd=N,server=on`).
result<unique_fd> listen_monitor(const std::string& path);

/// Connects to the monitor socket at `path` without blocking: a unix socket
/// that QEMU (or the daemon, before QEMU runs) listens on takes the
/// connection at once, and a dead one refuses it at once. Errors are
/// VIR_ERR_SYSTEM_ERROR "failed to connect to monitor socket: REASON".
result<unique_fd> connect_monitor(const std::string& path);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, qmp_event& x) {
  return f(caf::meta::type_name("qmp_event"), x.name, x.data, x.seconds, x.microseconds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, monitor_closed& x) {
  return f(caf::meta::type_name("monitor_closed"), x.why, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, monitor_status& x) {
  return f(caf::meta::type_name("monitor_status"), x.greeted, x.ready, x.ended, x.pending,
           x.greeting);
}

} // namespace virtactor::qemu
