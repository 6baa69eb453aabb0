/// What a transport leaves behind in this process: open descriptors and
/// child processes (zombies included), for leak tests over many opens.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <sys/types.h>

namespace virtactor::tests {

/// The number of entries in /proc/self/fd.
size_t open_fds();

/// One child of this process, from /proc.
struct child_info {
  pid_t pid = -1;
  std::string comm;
  char state = '?'; ///< 'Z' for a zombie
};

/// The children of this process (every thread's), zombies included.
std::vector<child_info> children();

/// The children that are not in `keep` (peers the test started itself).
std::vector<child_info> children_except(const std::vector<pid_t>& keep);

/// "pid comm state, ..." for failure messages.
std::string describe(const std::vector<child_info>& kids);

} // namespace virtactor::tests
