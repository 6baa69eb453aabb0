/// Child processes that carry a transport's byte stream (`ssh`, `ext`):
/// started without a shell, stdin and stdout on one end of a socketpair,
/// stderr collected for error messages, and stopped and reaped by a monitor
/// thread once the stream ends, so no actor thread ever waits for a child.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "actors/fd.hpp"
#include "actors/stream.hpp"
#include "protocol/error.hpp"

namespace virtactor {

/// What to start.
struct process_spec {
  /// The program (looked up in the caller's PATH when it has no '/') and its
  /// arguments. No shell is involved.
  std::vector<std::string> argv;
  /// The child's whole environment, "NAME=value" each.
  std::vector<std::string> env;
};

/// A started child whose stdin and stdout are the other end of `fd`.
struct process_stream {
  /// Our end of the socketpair.
  unique_fd fd;
  /// Releasing the last reference stops the child (SIGTERM, SIGKILL two
  /// seconds later) and has it reaped; neither waits.
  std::shared_ptr<void> owner;
  /// What the child wrote to stderr so far (at most 4 KiB, trailing white
  /// space trimmed). Never blocks; usable after the owner is gone.
  std::function<std::string()> stderr_text;
  pid_t pid = -1;
};

/// Starts `spec`. Errors: VIR_ERR_SYSTEM_ERROR "Cannot find 'x' in path" for
/// a program PATH lacks, "cannot execute binary x: ..." when exec fails.
result<process_stream> spawn_stream_process(const process_spec& spec);

/// `p` as a stream for the frame broker. When the stream ends and the child
/// said something on stderr, the connection reports libvirt's
/// VIR_ERR_SYSTEM_ERROR "End of file while reading data: <stderr>: ...".
stream_endpoint process_endpoint(process_stream p, std::string description);

/// The environment libvirt gives the commands it runs (`virCommandAddEnvPassCommon`):
/// LC_ALL=C, then LD_PRELOAD, LD_LIBRARY_PATH, PATH, HOME, USER, LOGNAME,
/// TMPDIR and each of `extra` that this process has set.
std::vector<std::string> command_environment(const std::vector<std::string>& extra = {});

/// The number of children spawned here that are not reaped yet (for tests).
size_t unreaped_stream_processes();

} // namespace virtactor
