#include "tests/transports/ssh/census.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace virtactor::tests {

size_t open_fds() {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

std::vector<child_info> children() {
  std::vector<child_info> out;
  auto self = ::getpid();
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    std::ifstream in(it->path() / "stat");
    std::string line;
    if (!std::getline(in, line))
      continue; // gone meanwhile
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size())
      continue;
    std::istringstream rest(line.substr(close + 2));
    char state = '?';
    pid_t ppid = -1;
    rest >> state >> ppid;
    if (ppid != self)
      continue;
    out.push_back(
        {static_cast<pid_t>(std::stol(name)), line.substr(open + 1, close - open - 1), state});
  }
  return out;
}

std::vector<child_info> children_except(const std::vector<pid_t>& keep) {
  auto all = children();
  all.erase(std::remove_if(all.begin(), all.end(),
                           [&](const child_info& c) {
                             return std::find(keep.begin(), keep.end(), c.pid) != keep.end();
                           }),
            all.end());
  return all;
}

std::string describe(const std::vector<child_info>& kids) {
  std::string out;
  for (const auto& k : kids)
    out += (out.empty() ? "" : ", ") + std::to_string(k.pid) + " " + k.comm + " " + k.state;
  return out.empty() ? "none" : out;
}

} // namespace virtactor::tests
