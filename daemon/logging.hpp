/// virtactord's log, on libvirt's logging model: a default priority
/// (`log_level`), filters that give a module its own priority
/// (`log_filters = "1:daemon.tls 4:daemon"`) and outputs, each with its own
/// minimum priority (`log_outputs = "3:stderr 1:file:/var/log/x.log
/// 4:syslog:virtactord 2:journald"`). The syntax, the checks and their
/// messages are libvirt 9.0's; the environment variables LIBVIRT_DEBUG,
/// LIBVIRT_LOG_FILTERS and LIBVIRT_LOG_OUTPUTS override the file, as for
/// libvirtd.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::daemon {

/// `virLogPriority`.
enum class log_priority : uint8_t { debug = 1, info = 2, warning = 3, error = 4 };

/// "debug", "info", "warning", "error".
std::string_view to_string(log_priority p);

/// A module's own minimum priority: messages of every module whose name
/// contains `match` (the first filter that matches decides).
struct log_filter {
  log_priority priority = log_priority::debug;
  std::string match;
  bool operator==(const log_filter&) const = default;
};

/// Where messages go (`virLogDestination`).
enum class log_destination : uint8_t { stderr_stream, syslog, file, journald };

struct log_output {
  log_priority priority = log_priority::debug;
  log_destination destination = log_destination::stderr_stream;
  /// The file's absolute path, or syslog's ident.
  std::string name;
  bool operator==(const log_output&) const = default;
};

/// `virLogParseDefaultPriority`: "1".."4" or "debug", "info", "warning",
/// "error".
result<log_priority> parse_log_priority(std::string_view text);

/// `virLogParseFilters`: filters separated by blanks, each `PRIORITY:MATCH`
/// (a leading '+' on MATCH is accepted and ignored, as libvirt does).
result<std::vector<log_filter>> parse_log_filters(std::string_view text);

/// `virLogParseOutputs`: outputs separated by blanks, each `PRIORITY:stderr`,
/// `PRIORITY:journald`, `PRIORITY:file:PATH` or `PRIORITY:syslog:IDENT`; a
/// later output to the same place replaces an earlier one. A relative PATH
/// is taken from the current directory.
result<std::vector<log_output>> parse_log_outputs(std::string_view text);

/// The log settings in force.
struct log_settings {
  log_priority level = log_priority::warning;
  std::vector<log_filter> filters;
  std::vector<log_output> outputs;
};

/// The daemon's logger. Thread-safe; `configure` may run while others log.
class logger {
public:
  logger();
  ~logger();

  /// Replaces the settings (filters, outputs, level). Files are opened in
  /// append mode, the first message to each output is preceded by the
  /// version and host name lines, as libvirt does. On failure to open a
  /// file, the old settings stay and the error says why.
  result<void> configure(log_settings s);

  /// The default priority alone (SIGHUP, `-v`).
  void set_level(log_priority p);
  log_priority level() const;

  /// True if a message of `module` at `p` would be written anywhere.
  bool enabled(log_priority p, std::string_view module) const;

  /// Writes `message` of `module` at `p` to every output that takes it:
  /// "YYYY-MM-DD HH:MM:SS.mmm+0000: TID: PRIORITY : MODULE : MESSAGE".
  void log(log_priority p, std::string_view module, std::string_view message);

  void debug(std::string_view module, std::string_view m) { log(log_priority::debug, module, m); }
  void info(std::string_view module, std::string_view m) { log(log_priority::info, module, m); }
  void warn(std::string_view module, std::string_view m) { log(log_priority::warning, module, m); }
  void error(std::string_view module, std::string_view m) { log(log_priority::error, module, m); }

  struct sink;

private:
  mutable std::mutex mtx_;
  log_settings settings_;
  std::vector<std::unique_ptr<sink>> sinks_;
};

/// The outputs libvirtd uses when `log_outputs` is not set: the journal when
/// systemd connected standard error to it (`JOURNAL_STREAM`), a file when
/// running as a daemon (`/var/log/virtactor/virtactord.log` for root, else
/// `$XDG_CACHE_HOME/virtactor/virtactord.log`), else standard error.
std::vector<log_output> default_log_outputs(log_priority level, bool daemonized);

} // namespace virtactor::daemon
