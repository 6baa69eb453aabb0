/// The `event` command: waits for domain events and prints them as virsh
/// does, one-shot or in a loop, until a timeout, Ctrl-C or SIGTERM.
#include "client/shell/commands.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <sys/time.h>

#include "actors/events.hpp"
#include "client/shell/shell.hpp"

namespace virtactor::client::shell {

namespace {

/// virsh's event names, indexed by `virDomainEventID` (libvirt 9.0 has 27).
const char* const event_names[] = {
    "lifecycle",
    "reboot",
    "rtc-change",
    "watchdog",
    "io-error",
    "graphics",
    "io-error-reason",
    "control-error",
    "block-job",
    "disk-change",
    "tray-change",
    "pm-wakeup",
    "pm-suspend",
    "balloon-change",
    "pm-suspend-disk",
    "device-removed",
    "block-job-2",
    "tunable",
    "agent-lifecycle",
    "device-added",
    "migration-iteration",
    "job-completed",
    "device-removal-failed",
    "metadata-change",
    "block-threshold",
    "memory-failure",
    "memory-device-size-change",
};
static_assert(std::size(event_names) == domain_event_id_last);

} // namespace

std::vector<std::string> domain_event_names() {
  return {std::begin(event_names), std::end(event_names)};
}

namespace {

const char* lifecycle_name(int event) {
  static const char* const names[] = {"Defined", "Undefined", "Started",     "Suspended", "Resumed",
                                      "Stopped", "Shutdown",  "PMSuspended", "Crashed"};
  return event >= 0 && event < 9 ? names[event] : "unknown";
}

const char* lifecycle_detail(int event, int detail) {
  static const std::vector<std::vector<const char*>> details = {
      {"Added", "Updated", "Renamed", "Snapshot"},
      {"Removed", "Renamed"},
      {"Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"},
      {"Paused", "Migrated", "I/O Error", "Watchdog", "Restored", "Snapshot", "API error",
       "Post-copy", "Post-copy Error"},
      {"Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error"},
      {"Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot"},
      {"Finished", "Finished after guest request", "Finished after host request"},
      {"Memory", "Disk"},
      {"Panicked", "Crashloaded"},
  };
  if (event >= 0 && static_cast<size_t>(event) < details.size()) {
    const auto& d = details[static_cast<size_t>(event)];
    if (detail >= 0 && static_cast<size_t>(detail) < d.size())
      return d[static_cast<size_t>(detail)];
  }
  return "unknown";
}

/// `virTimeStringNowRaw`: "2024-01-31 12:34:56.789+0000".
std::string timestamp_now() {
  struct timeval tv {};
  ::gettimeofday(&tv, nullptr);
  struct tm tm {};
  time_t secs = tv.tv_sec;
  ::gmtime_r(&secs, &tm);
  return format("%4d-%02d-%02d %02d:%02d:%02d.%03d+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(tv.tv_usec / 1000));
}

/// Set by SIGINT/SIGTERM while `event` waits.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted = true;
}

/// Installs the interrupt handlers for its lifetime.
class interrupt_guard {
public:
  interrupt_guard() {
    interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~interrupt_guard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string describe(const domain_event& ev) {
  if (ev.event_id == static_cast<int32_t>(domain_event_id::lifecycle))
    return format("event 'lifecycle' for domain '%s': %s %s\n", ev.dom.name.c_str(),
                  lifecycle_name(ev.event), lifecycle_detail(ev.event, ev.detail));
  const char* name =
      ev.event_id >= 0 && ev.event_id < domain_event_id_last ? event_names[ev.event_id] : "unknown";
  return format("event '%s' for domain '%s'\n", name, ev.dom.name.c_str());
}

bool cmd_event(shell& sh, const parsed_command& cmd) {
  auto& out = sh.out();
  bool all = cmd.has("all");
  bool loop = cmd.has("loop");
  bool timestamp = cmd.has("timestamp");
  if (!exclusive(out, cmd, "all", "event") || !exclusive(out, cmd, "list", "all") ||
      !exclusive(out, cmd, "list", "event"))
    return false;
  if (cmd.has("list")) {
    std::string text;
    for (const char* name : event_names)
      text += std::string{name} + "\n";
    out.print(text);
    return true;
  }
  std::optional<std::string> event_name;
  if (opt_string_req(out, cmd, "event", event_name) < 0)
    return false;
  if (!event_name && !all) {
    out.error("one of --list, --all, or --event <type> is required");
    return false;
  }
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < domain_event_id_last; ++i)
    if (!event_name || *event_name == event_names[i])
      ids.push_back(i);
  if (ids.empty()) {
    out.error(format("unknown event type %s", event_name->c_str()));
    return false;
  }
  int timeout_ms = 0;
  if (opt_timeout_ms(out, cmd, timeout_ms) < 0)
    return false;
  std::optional<protocol::nonnull_domain> dom;
  if (cmd.has("domain")) {
    dom = sh.domain_opt(cmd);
    if (!dom)
      return false;
  }
  auto* conn = sh.connection();
  if (conn == nullptr)
    return false;

  interrupt_guard guard;
  std::vector<int32_t> callbacks;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto id = conn->register_domain_event(ids[i], dom);
    if (!id) {
      // After a first success, later failures mean an older server that
      // knows fewer events; virsh ignores them.
      if (i == 0) {
        sh.save_error(id.error());
        return false;
      }
      continue;
    }
    callbacks.push_back(*id);
  }

  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds{timeout_ms};
  int count = 0;
  enum class outcome { done, timeout, interrupt, closed } how = outcome::done;
  for (;;) {
    if (interrupted) {
      how = outcome::interrupt;
      break;
    }
    auto slice = std::chrono::milliseconds{100};
    if (timeout_ms > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0) {
        how = outcome::timeout;
        break;
      }
      slice = std::min(slice, left);
    }
    auto ev = conn->next_event(slice);
    if (!ev) {
      if (sh.check_lost()) {
        // virsh's close callback ends the wait as if it were done.
        how = outcome::closed;
        break;
      }
      continue;
    }
    std::string text = describe(*ev);
    if (timestamp)
      text = timestamp_now() + ": " + text;
    out.print(text);
    ++count;
    if (!loop)
      break;
  }
  bool ret = false;
  switch (how) {
    case outcome::interrupt:
      out.print("event loop interrupted\n");
      break;
    case outcome::timeout:
      out.print("event loop timed out\n");
      break;
    case outcome::closed:
    case outcome::done:
      break;
  }
  out.print(format("events received: %d\n", count));
  ret = count > 0;
  for (auto cb : callbacks) {
    if (auto r = conn->deregister_domain_event(cb); !r) {
      sh.save_error(r.error());
      ret = false;
    }
  }
  return ret;
}

} // namespace

command_group event_commands() {
  return {
      "Domain Events",
      "events",
      {
          {"event",
           "Domain Events",
           "List event types, or wait for domain events to occur",
           {{"domain", opt_type::string, 0, "filter by domain name, id or uuid"},
            {"event", opt_type::string, 0, "which event type to wait for"},
            {"all", opt_type::boolean, 0, "wait for all events instead of just one type"},
            {"loop", opt_type::boolean, 0, "loop until timeout or interrupt, rather than one-shot"},
            {"timeout", opt_type::integer, 0, "timeout seconds"},
            {"list", opt_type::boolean, 0, "list valid event types"},
            {"timestamp", opt_type::boolean, 0, "show timestamp for each printed event"}},
           cmd_event},
      },
  };
}

} // namespace virtactor::client::shell
