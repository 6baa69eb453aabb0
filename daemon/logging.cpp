#include "daemon/logging.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#ifndef VA_VERSION
#define VA_VERSION "0.0.0"
#endif

namespace virtactor::daemon {

namespace {

virt_error invalid_arg(std::string message) {
  return make_virt_error(error_code::invalid_arg, error_domain::none,
                         "invalid argument: " + std::move(message));
}

/// Splits on ':' as g_strsplit does (empty fields kept).
std::vector<std::string> split_colons(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto colon = s.find(':', start);
    out.emplace_back(s.substr(start, colon - start));
    if (colon == std::string_view::npos)
      return out;
    start = colon + 1;
  }
}

/// Splits on blanks, dropping empty words.
std::vector<std::string> split_blanks(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ')
      ++j;
    if (j > i)
      out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

/// `virStrToLong_uip` then the range check: "1".."4" (leading blanks and a
/// '+' are allowed by strtoul; nothing may follow).
std::optional<log_priority> numeric_priority(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < 1 || v > 4)
    return std::nullopt;
  return static_cast<log_priority>(v);
}

int syslog_priority(log_priority p) {
  switch (p) {
    case log_priority::debug:
      return LOG_DEBUG;
    case log_priority::info:
      return LOG_INFO;
    case log_priority::warning:
      return LOG_WARNING;
    case log_priority::error:
      return LOG_ERR;
  }
  return LOG_ERR;
}

std::string timestamp() {
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  std::tm tm{};
  ::gmtime_r(&tv.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0)
    return "unknown";
  return buf;
}

} // namespace

std::string_view to_string(log_priority p) {
  switch (p) {
    case log_priority::debug:
      return "debug";
    case log_priority::info:
      return "info";
    case log_priority::warning:
      return "warning";
    case log_priority::error:
      return "error";
  }
  return "error";
}

result<log_priority> parse_log_priority(std::string_view text) {
  static constexpr std::string_view names[] = {"debug", "info", "warning", "error"};
  for (int i = 0; i < 4; ++i)
    if (text == names[i] || text == std::string(1, static_cast<char>('1' + i)))
      return static_cast<log_priority>(i + 1);
  return invalid_arg("Failed to set logging priority, argument '" + std::string{text} +
                     "' is invalid");
}

result<std::vector<log_filter>> parse_log_filters(std::string_view text) {
  std::vector<log_filter> out;
  for (const auto& src : split_blanks(text)) {
    auto tokens = split_colons(src);
    if (tokens.size() < 2)
      return invalid_arg("Malformed format for filter '" + src + "'");
    auto prio = numeric_priority(tokens[0]);
    if (!prio)
      return invalid_arg("Invalid priority '" + tokens[0] + "' for filter '" + src + "'");
    std::string match = tokens[1];
    if (!match.empty() && match[0] == '+')
      match.erase(0, 1); // once asked for a stack trace; libvirt ignores it now
    if (match.empty())
      return invalid_arg("Invalid match string '" + tokens[1] + "'");
    out.push_back({*prio, std::move(match)});
  }
  return out;
}

result<std::vector<log_output>> parse_log_outputs(std::string_view text) {
  std::vector<log_output> out;
  for (const auto& src : split_blanks(text)) {
    auto tokens = split_colons(src);
    if (tokens.size() < 2)
      return invalid_arg("Malformed format for log output '" + src + "'");
    auto prio = numeric_priority(tokens[0]);
    if (!prio)
      return invalid_arg("Invalid log priority '" + tokens[0] + "' for log output '" + src + "'");
    log_output o;
    o.priority = *prio;
    const auto& dest = tokens[1];
    size_t want = 2;
    if (dest == "stderr") {
      o.destination = log_destination::stderr_stream;
    } else if (dest == "journald") {
      o.destination = log_destination::journald;
    } else if (dest == "file") {
      o.destination = log_destination::file;
      want = 3;
    } else if (dest == "syslog") {
      o.destination = log_destination::syslog;
      want = 3;
    } else {
      return invalid_arg("Invalid log destination '" + dest + "' for log output '" + src + "'");
    }
    if (tokens.size() != want)
      return invalid_arg("Log output '" + src +
                         "' does not meet the format requirements for destination type '" + dest +
                         "'");
    if (want == 3) {
      o.name = tokens[2];
      if (o.destination == log_destination::file && (o.name.empty() || o.name[0] != '/')) {
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd) != nullptr)
          o.name = std::string{cwd} + "/" + o.name;
      }
    }
    // A later output to the same place replaces the earlier one.
    std::erase_if(out, [&](const log_output& x) {
      return x.destination == o.destination && x.name == o.name;
    });
    out.push_back(std::move(o));
  }
  return out;
}

// -- logger --------------------------------------------------------------------------

/// One opened output.
struct logger::sink {
  log_output out;
  int fd = -1; ///< stderr or the file
  bool greeted = false;

  ~sink() {
    if (out.destination == log_destination::file && fd >= 0)
      ::close(fd);
  }

  void write_line(log_priority p, std::string_view module, std::string_view message) {
    switch (out.destination) {
      case log_destination::stderr_stream:
      case log_destination::file: {
        auto line = timestamp() + ": " + std::to_string(::gettid()) + ": " +
                    std::string{to_string(p)} + " : " + std::string{module} + " : " +
                    std::string{message} + "\n";
        // One write per line: lines of threads never interleave.
        [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
        break;
      }
      case log_destination::syslog: {
        auto line = std::to_string(::gettid()) + ": " + std::string{to_string(p)} + " : " +
                    std::string{module} + " : " + std::string{message};
        ::syslog(syslog_priority(p), "%s", line.c_str());
        break;
      }
      case log_destination::journald: {
        std::string msg{message};
        std::string mod{module};
        sd_journal_send("MESSAGE=%s", msg.c_str(), "PRIORITY=%d", syslog_priority(p),
                        "SYSLOG_IDENTIFIER=virtactord", "VIRTACTOR_MODULE=%s", mod.c_str(),
                        nullptr);
        break;
      }
    }
  }
};

logger::logger() {
  settings_.outputs.push_back({log_priority::debug, log_destination::stderr_stream, {}});
  auto s = std::make_unique<sink>();
  s->out = settings_.outputs.back();
  s->fd = STDERR_FILENO;
  sinks_.push_back(std::move(s));
}

logger::~logger() = default;

result<void> logger::configure(log_settings settings) {
  std::vector<std::unique_ptr<sink>> fresh;
  std::string syslog_ident;
  for (const auto& o : settings.outputs) {
    auto s = std::make_unique<sink>();
    s->out = o;
    if (o.destination == log_destination::stderr_stream) {
      s->fd = STDERR_FILENO;
    } else if (o.destination == log_destination::file) {
      s->fd = ::open(o.name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (s->fd < 0)
        return make_virt_error(error_code::system_error, error_domain::none,
                               "failed to open " + o.name + ": " + std::strerror(errno));
    } else if (o.destination == log_destination::syslog) {
      syslog_ident = o.name;
    }
    fresh.push_back(std::move(s));
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (!syslog_ident.empty()) {
    // openlog keeps the pointer: the ident must outlive every syslog call.
    static std::string ident;
    ident = syslog_ident;
    ::openlog(ident.c_str(), 0, LOG_DAEMON);
  }
  // An output that stays keeps its greeting state (no second banner).
  for (auto& f : fresh)
    for (auto& old : sinks_)
      if (old->out == f->out)
        f->greeted = old->greeted;
  settings_ = std::move(settings);
  sinks_ = std::move(fresh);
  return {};
}

void logger::set_level(log_priority p) {
  std::lock_guard<std::mutex> guard{mtx_};
  settings_.level = p;
}

log_priority logger::level() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return settings_.level;
}

bool logger::enabled(log_priority p, std::string_view module) const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string mod{module};
  auto floor = settings_.level;
  for (const auto& f : settings_.filters) {
    // libvirt matches '*MATCH*' as a glob against the module name.
    auto pattern = "*" + f.match + "*";
    if (::fnmatch(pattern.c_str(), mod.c_str(), 0) == 0) {
      floor = f.priority;
      break;
    }
  }
  if (p < floor)
    return false;
  for (const auto& o : settings_.outputs)
    if (p >= o.priority)
      return true;
  return false;
}

void logger::log(log_priority p, std::string_view module, std::string_view message) {
  if (!enabled(p, module))
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& s : sinks_) {
    if (p < s->out.priority)
      continue;
    if (!s->greeted) {
      // As libvirt: each output starts with what produced it, and where.
      s->greeted = true;
      s->write_line(log_priority::info, "daemon", "virtactor version: " VA_VERSION);
      s->write_line(log_priority::info, "daemon", "hostname: " + host_name());
    }
    s->write_line(p, module, message);
  }
}

std::vector<log_output> default_log_outputs(log_priority level, bool daemonized) {
  // systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected
  // to the journal: log there when that stream is our standard error.
  if (const char* js = std::getenv("JOURNAL_STREAM"); js != nullptr && !daemonized) {
    struct stat st {};
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) == 2 && ::fstat(STDERR_FILENO, &st) == 0 &&
        st.st_dev == dev && st.st_ino == ino)
      return {{level, log_destination::journald, {}}};
  }
  if (!daemonized)
    return {{level, log_destination::stderr_stream, {}}};
  std::string dir;
  if (::geteuid() == 0) {
    dir = "/var/log/virtactor";
  } else {
    const char* cache = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    dir = cache != nullptr && *cache == '/' ? std::string{cache} + "/virtactor"
                                             : std::string{home != nullptr ? home : ""} +
                                                 "/.cache/virtactor";
  }
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/')
      ::mkdir(dir.substr(0, i).c_str(), 0700);
  return {{level, log_destination::file, dir + "/virtactord.log"}};
}

} // namespace virtactor::daemon
