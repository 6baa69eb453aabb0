#include "drivers/qemu/capabilities.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/fd.hpp"

namespace virtactor::qemu {

namespace {

/// A probe that takes longer than this is a broken binary.
constexpr auto probe_deadline = std::chrono::seconds{10};
/// More output than this from `-version` or `-machine help` is not QEMU.
constexpr size_t max_output = 1 << 20;

virt_error probe_error(const std::string& emulator, const std::string& why) {
  return make_virt_error(error_code::internal_error, error_domain::qemu,
                         "internal error: Failed to probe capabilities for " + emulator + ": "
                           + why);
}

/// Runs `emulator ARGS...` with LC_ALL=C and returns its stdout, within the
/// probe deadline.
result<std::string> run_capture(const std::string& emulator, std::vector<const char*> args) {
  std::string what;
  for (auto a : args)
    what += (what.empty() ? "" : " ") + std::string{a};
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return probe_error(emulator, std::string{"cannot create pipe: "} + std::strerror(errno));
  unique_fd rd{pipefd[0]}, wr{pipefd[1]};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv{const_cast<char*>(emulator.c_str())};
  for (auto a : args)
    argv.push_back(const_cast<char*>(a));
  argv.push_back(nullptr);
  char lc_all[] = "LC_ALL=C";
  char* envp[] = {lc_all, nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, emulator.c_str(), &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  wr.reset();
  if (rc != 0)
    return probe_error(emulator, std::string{"cannot execute: "} + std::strerror(rc));
  std::string out;
  auto until = std::chrono::steady_clock::now() + probe_deadline;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{rd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    char buf[4096];
    auto got = ::read(rd.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > max_output)
      break;
  }
  if (timed_out || out.size() > max_output)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // nop
  }
  if (timed_out)
    return probe_error(emulator, what + " did not finish in time");
  if (out.size() > max_output)
    return probe_error(emulator, what + " printed too much");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return probe_error(emulator, what + " failed");
  return out;
}

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// Removes `suffix` (e.g. " (default)") from the end of `s`; true if it was there.
bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix))
    return false;
  s.remove_suffix(suffix.size());
  s = trim(s);
  return true;
}

} // namespace

std::optional<std::string> emulator_caps::resolve_machine(std::string_view name) const {
  for (auto& m : machines)
    if (m.name == name || (!m.alias.empty() && m.alias == name))
      return m.name;
  return std::nullopt;
}

std::string emulator_caps::default_machine() const {
  for (auto& m : machines)
    if (m.is_default)
      return m.name;
  return {};
}

result<void> parse_version(std::string_view output, emulator_caps& caps) {
  constexpr std::string_view marker = "version ";
  auto line = output.substr(0, output.find('\n'));
  auto at = line.find(marker);
  auto bad = make_virt_error(error_code::internal_error, error_domain::qemu,
                             "internal error: cannot parse QEMU version from '"
                               + std::string{trim(line)} + "'");
  if (at == std::string_view::npos)
    return bad;
  auto rest = line.substr(at + marker.size());
  auto end = rest.find_first_not_of("0123456789.");
  auto number = rest.substr(0, end);
  unsigned parts[3] = {0, 0, 0};
  size_t count = 0;
  for (size_t pos = 0; pos <= number.size() && count < 3;) {
    auto dot = number.find('.', pos);
    auto piece = number.substr(pos, dot == std::string_view::npos ? std::string_view::npos
                                                                  : dot - pos);
    if (piece.empty() || piece.size() > 6)
      return bad;
    parts[count++] = static_cast<unsigned>(std::stoul(std::string{piece}));
    if (dot == std::string_view::npos)
      break;
    pos = dot + 1;
  }
  if (count < 2 || parts[1] > 999 || parts[2] > 999 || parts[0] > 4000)
    return bad;
  caps.version = parts[0] * 1'000'000 + parts[1] * 1'000 + parts[2];
  caps.version_text = std::string{number};
  caps.package.clear();
  auto open = rest.find('(');
  auto close = rest.rfind(')');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    caps.package = std::string{trim(rest.substr(open + 1, close - open - 1))};
  return {};
}

result<std::vector<machine_type>> parse_machines(std::string_view output) {
  std::vector<machine_type> out;
  std::vector<std::pair<std::string, std::string>> aliases; // alias -> target
  bool header = false;
  while (!output.empty()) {
    auto nl = output.find('\n');
    auto line = output.substr(0, nl);
    output = nl == std::string_view::npos ? std::string_view{} : output.substr(nl + 1);
    if (trim(line).empty())
      continue;
    if (line.starts_with("Supported machines are:")) {
      header = true;
      continue;
    }
    auto sp = line.find_first_of(" \t");
    std::string_view name = line.substr(0, sp);
    std::string_view desc = sp == std::string_view::npos ? std::string_view{}
                                                         : trim(line.substr(sp));
    if (name.empty())
      continue;
    // Markers QEMU appends to the description.
    auto alias_at = desc.rfind(" (alias of ");
    if (alias_at != std::string_view::npos && desc.ends_with(")")) {
      auto target = desc.substr(alias_at + 11, desc.size() - alias_at - 12);
      aliases.emplace_back(std::string{name}, std::string{target});
      continue;
    }
    machine_type m;
    m.name = std::string{name};
    for (bool more = true; more;) {
      more = false;
      if (strip_suffix(desc, "(default)"))
        more = m.is_default = true;
      if (strip_suffix(desc, "(deprecated)"))
        more = m.deprecated = true;
    }
    m.description = std::string{desc};
    out.push_back(std::move(m));
  }
  if (!header || out.empty())
    return make_virt_error(error_code::internal_error, error_domain::qemu,
                           "internal error: cannot parse the machine types of QEMU");
  for (auto& [alias, target] : aliases)
    for (auto& m : out)
      if (m.name == target)
        m.alias = alias;
  return out;
}

bool kvm_usable(const std::string& device) {
  int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return false;
  ::close(fd);
  return true;
}

result<emulator_caps> probe_emulator(const std::string& emulator) {
  emulator_caps caps;
  caps.path = emulator;
  auto version = run_capture(emulator, {"-version"});
  if (!version)
    return version.error();
  if (auto parsed = parse_version(*version, caps); !parsed)
    return parsed.error();
  auto help = run_capture(emulator, {"-machine", "help"});
  if (!help)
    return help.error();
  auto machines = parse_machines(*help);
  if (!machines)
    return machines.error();
  caps.machines = std::move(*machines);
  caps.kvm = kvm_usable();
  return caps;
}

result<std::shared_ptr<const emulator_caps>> caps_cache::get(const std::string& emulator) {
  struct stat st{};
  if (::stat(emulator.c_str(), &st) != 0)
    return make_virt_error(error_code::system_error, error_domain::qemu,
                           "Cannot check QEMU binary " + emulator + ": " + std::strerror(errno));
  auto key = std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "/"
             + std::to_string(st.st_size) + "/" + std::to_string(st.st_ino);
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(emulator);
  if (i != entries_.end() && i->second.key == key)
    return i->second.caps;
  ++probes_;
  auto caps = probe_emulator(emulator);
  if (!caps)
    return caps.error();
  auto shared = std::make_shared<const emulator_caps>(std::move(*caps));
  entries_[emulator] = entry{key, shared};
  return std::shared_ptr<const emulator_caps>{shared};
}

unsigned caps_cache::probes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return probes_;
}

} // namespace virtactor::qemu
