#include "client/shell/shell.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "client/console_auth.hpp"
#include "client/shell/lexer.hpp"
#include "client/shell/units.hpp"

namespace virtactor::client::shell {

// -- helpers ---------------------------------------------------------------------------------

std::string default_uri() {
  for (const char* var : {"VIRTACTOR_DEFAULT_URI", "LIBVIRT_DEFAULT_URI"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0')
      return v;
  }
  return "test:///default";
}

const char* domain_state_name(int state) {
  static const char* const names[] = {"no state",    "running",  "idle",    "paused",
                                      "in shutdown", "shut off", "crashed", "pmsuspended"};
  if (state >= 0 && state < 8)
    return names[state];
  return "no state";
}

const char* domain_state_reason(int state, int reason) {
  static const std::vector<std::vector<const char*>> reasons = {
      {"unknown"},
      {"unknown", "booted", "migrated", "restored", "from snapshot", "unpaused",
       "migration canceled", "save canceled", "event wakeup", "crashed", "post-copy",
       "post-copy failed"},
      {"unknown"},
      {"unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog",
       "from snapshot", "shutting down", "creating snapshot", "crashed", "starting up", "post-copy",
       "post-copy failed", "api error"},
      {"unknown", "user"},
      {"unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
       "from snapshot", "daemon"},
      {"unknown", "panicked"},
      {"unknown"},
  };
  if (state >= 0 && static_cast<size_t>(state) < reasons.size()) {
    const auto& r = reasons[static_cast<size_t>(state)];
    if (reason >= 0 && static_cast<size_t>(reason) < r.size())
      return r[static_cast<size_t>(reason)];
  }
  return "unknown";
}

// -- shell -----------------------------------------------------------------------------------

shell::shell(const command_table& table, console& out, settings s)
    : table_(table), out_(out), settings_(std::move(s)) {
  if (settings_.uri.empty())
    settings_.uri = default_uri();
}

shell::~shell() {
  if (conn_)
    (void)conn_->close();
}

bool shell::open_connection(const std::string& uri, bool readonly) {
  // As virsh: a person at the console answers what a transport must ask
  // (SSH passphrases, passwords, unknown host keys), and -k/-K set keepalive.
  open_options opts;
  opts.auth = client::console_auth();
  if (settings_.keepalive_interval >= 0)
    opts.keepalive_interval = settings_.keepalive_interval;
  if (settings_.keepalive_count >= 0)
    opts.keepalive_count = settings_.keepalive_count;
  auto r = blocking_connection::open(uri, readonly ? uint32_t{connect_ro} : uint32_t{0}, opts);
  if (!r) {
    save_error(r.error());
    return false;
  }
  conn_ = std::move(*r);
  // virsh asks for keepalive when -k/-K was given; the in-process test
  // driver has no transport to keep alive, as libvirt's test driver has none.
  bool forced = settings_.keepalive_interval >= 0 || settings_.keepalive_count >= 0;
  int interval = settings_.keepalive_interval >= 0 ? settings_.keepalive_interval : 5;
  if (forced && interval > 0 && uri.rfind("test:", 0) == 0) {
    out_.error("Cannot setup keepalive on connection as requested, disconnecting");
    save_error(make_virt_error(error_code::no_support, error_domain::none,
                               "this function is not supported by the connection driver: "
                               "virConnectSetKeepAlive"));
    (void)conn_->close();
    conn_.reset();
    return false;
  }
  return true;
}

bool shell::reconnect(const std::string& uri, bool readonly, bool force) {
  bool was_connected = false;
  if (conn_) {
    was_connected = true;
    (void)conn_->close();
    conn_.reset();
  }
  const std::string& target = uri.empty() ? settings_.uri : uri;
  if (!open_connection(target, readonly)) {
    out_.error(disconnected_ ? "Failed to reconnect to the hypervisor"
                             : "failed to connect to the hypervisor");
    return false;
  }
  if (!uri.empty())
    settings_.uri = uri;
  settings_.readonly = readonly;
  if (was_connected && !force)
    out_.error("Reconnected to the hypervisor");
  disconnected_ = false;
  loss_reported_ = false;
  return true;
}

bool shell::connect_initial() {
  if (!settings_.uri_given)
    return true;
  if (!reconnect({}, settings_.readonly, false)) {
    report_error();
    return false;
  }
  return true;
}

bool shell::check_lost() {
  if (!conn_)
    return false;
  auto reason = conn_->lost_reason();
  if (!reason)
    return false;
  if (!loss_reported_) {
    loss_reported_ = true;
    disconnected_ = true;
    const char* why = *reason == 0   ? "Disconnected from %s due to I/O error"
                      : *reason == 1 ? "Disconnected from %s due to end of file"
                      : *reason == 2 ? "Disconnected from %s due to keepalive timeout"
                                     : "unknown reason";
    out_.error(format(why, conn_->uri().c_str()));
  }
  return true;
}

blocking_connection* shell::connection() {
  check_lost();
  if (!conn_ || disconnected_ || conn_->closed()) {
    if (!reconnect({}, settings_.readonly, false))
      return nullptr;
  }
  if (!conn_) {
    out_.error("no valid connection");
    return nullptr;
  }
  return conn_.get();
}

blocking_connection* shell::quiet_connection() {
  if (conn_ && !disconnected_ && !conn_->closed() && !conn_->lost_reason())
    return conn_.get();
  if (conn_ || disconnected_)
    return nullptr; // a lost connection is reported and renewed by the next command
  if (!open_connection(settings_.uri, settings_.readonly))
    return nullptr;
  return conn_.get();
}

void shell::report_error() {
  if (out_.last_error) {
    if (out_.last_error->code == error_code::ok)
      out_.error("unknown error");
    else
      out_.error(out_.last_error->message);
  }
  reset_error();
}

std::optional<error_code> shell::error_code_pending() const {
  if (out_.last_error)
    return out_.last_error->code;
  return std::nullopt;
}

bool shell::run(const std::vector<parsed_command>& cmds) {
  bool ret = true;
  for (const auto& cmd : cmds) {
    auto before = std::chrono::steady_clock::now();
    if ((cmd.def->flags & cmd_no_connect) || connection() != nullptr)
      ret = cmd.def->handler(*this, cmd);
    else
      ret = false;
    auto after = std::chrono::steady_clock::now();
    if (!ret && out_.last_error) {
      auto code = out_.last_error->code;
      if ((code == error_code::system_error && out_.last_error->domain == error_domain::remote) ||
          code == error_code::rpc || code == error_code::no_connect ||
          code == error_code::invalid_conn)
        disconnected_ = true;
    }
    if (!ret)
      report_error();
    reset_error();
    if (cmd.def->name == "quit" || cmd.def->name == "exit")
      return ret;
    if (settings_.timing) {
      double ms = std::chrono::duration<double, std::milli>(after - before).count();
      out_.print(format("\n(Time: %.3f ms)\n\n", ms));
    } else {
      out_.print_extra("\n");
    }
  }
  return ret;
}

bool shell::run_string(const std::string& line) {
  if (line.empty())
    return false;
  string_tokens tokens{line};
  auto cmds = parse_commands(table_, tokens, out_);
  if (!cmds)
    return false;
  return run(*cmds);
}

bool shell::run_argv(std::vector<std::string> words) {
  if (words.empty())
    return false;
  argv_tokens tokens{std::move(words)};
  auto cmds = parse_commands(table_, tokens, out_);
  if (!cmds)
    return false;
  return run(*cmds);
}

// -- lookups ---------------------------------------------------------------------------------

std::optional<protocol::nonnull_domain> shell::lookup_domain(const std::string& name, unsigned by) {
  std::optional<protocol::nonnull_domain> dom;
  int id = 0;
  if ((by & by_id) && parse_int(name, id) && id >= 0) {
    if (auto r = call<protocol::proc::domain_lookup_by_id>({id}))
      dom = r->dom;
  }
  if (!dom && (by & by_uuid) && name.size() == 36) {
    if (auto uuid = parse_uuid(name)) {
      if (auto r = call<protocol::proc::domain_lookup_by_uuid>({*uuid}))
        dom = r->dom;
    }
  }
  if (!dom && (by & by_name)) {
    if (auto r = call<protocol::proc::domain_lookup_by_name>({name}))
      dom = r->dom;
  }
  reset_error();
  if (!dom)
    out_.error(format("failed to get domain '%s'", name.c_str()));
  return dom;
}

std::optional<protocol::nonnull_domain> shell::domain_opt(const parsed_command& cmd,
                                                          std::string* name, unsigned by,
                                                          std::string_view optname) {
  std::optional<std::string> n;
  if (opt_string_req(out_, cmd, optname, n) < 0 || !n)
    return std::nullopt;
  if (name != nullptr)
    *name = *n;
  return lookup_domain(*n, by);
}

namespace {

/// Looks an object up by UUID (when `n` has a UUID's length) and then by
/// name, as virsh does for networks and pools; `api` names the UUID lookup
/// in the error for a malformed UUID.
template <protocol::proc ByUuid, protocol::proc ByName, class Get>
auto by_uuid_or_name(shell& sh, const std::string& n, unsigned by, const char* api, Get get)
    -> std::optional<decltype(get(*sh.call<ByName>({n})))> {
  std::optional<decltype(get(*sh.call<ByName>({n})))> found;
  if ((by & by_uuid) && n.size() == 36) {
    if (auto uuid = parse_uuid(n)) {
      if (auto r = sh.call<ByUuid>({*uuid}))
        found = get(*r);
    } else {
      sh.save_error(make_virt_error(error_code::invalid_arg, error_domain::none,
                                    format("uuidstr in %s must be a valid UUID", api)));
    }
  }
  if (!found && (by & by_name)) {
    if (auto r = sh.call<ByName>({n}))
      found = get(*r);
  }
  return found;
}

} // namespace

std::optional<protocol::nonnull_network> shell::network_opt(const parsed_command& cmd,
                                                            std::string* name, unsigned by) {
  std::optional<std::string> n;
  if (opt_string_req(out_, cmd, "network", n) < 0 || !n)
    return std::nullopt;
  if (name != nullptr)
    *name = *n;
  auto net = by_uuid_or_name<protocol::proc::network_lookup_by_uuid,
                             protocol::proc::network_lookup_by_name>(
      *this, *n, by, "virNetworkLookupByUUIDString", [](const auto& r) { return r.net; });
  if (!net)
    out_.error(format("failed to get network '%s'", n->c_str()));
  return net;
}

std::optional<protocol::nonnull_storage_pool> shell::pool_opt(const parsed_command& cmd,
                                                              std::string_view optname,
                                                              std::string* name, unsigned by) {
  std::optional<std::string> n;
  if (opt_string_req(out_, cmd, optname, n) < 0 || !n)
    return std::nullopt;
  if (name != nullptr)
    *name = *n;
  auto pool = by_uuid_or_name<protocol::proc::storage_pool_lookup_by_uuid,
                              protocol::proc::storage_pool_lookup_by_name>(
      *this, *n, by, "virStoragePoolLookupByUUIDString", [](const auto& r) { return r.pool; });
  if (!pool)
    out_.error(format("failed to get pool '%s'", n->c_str()));
  return pool;
}

std::optional<protocol::nonnull_storage_vol> shell::vol_opt(const parsed_command& cmd,
                                                            std::string_view optname,
                                                            std::string_view pool_optname,
                                                            std::string* name, unsigned by) {
  std::optional<std::string> n;
  if (opt_string_req(out_, cmd, optname, n) < 0 || !n)
    return std::nullopt;
  if (name != nullptr)
    *name = *n;
  std::optional<std::string> pool_name;
  if (!pool_optname.empty() && opt_string_req(out_, cmd, pool_optname, pool_name) < 0)
    return std::nullopt;
  std::optional<protocol::nonnull_storage_pool> pool;
  if (pool_name) {
    pool = pool_opt(cmd, pool_optname);
    if (!pool)
      return std::nullopt;
    auto active = call<protocol::proc::storage_pool_is_active>({*pool});
    if (!active || active->value != 1) {
      out_.error(format("pool '%s' is not active", pool_name->c_str()));
      return std::nullopt;
    }
  }
  std::optional<protocol::nonnull_storage_vol> vol;
  if (pool && (by & by_name)) {
    if (auto r = call<protocol::proc::storage_vol_lookup_by_name>({*pool, *n}))
      vol = r->vol;
  }
  if (!vol && (by & by_uuid)) {
    if (auto r = call<protocol::proc::storage_vol_lookup_by_key>({*n}))
      vol = r->vol;
  }
  if (!vol && (by & by_uuid)) {
    if (auto r = call<protocol::proc::storage_vol_lookup_by_path>({*n}))
      vol = r->vol;
  }
  if (!vol) {
    if (pool || pool_optname.empty())
      out_.error(format("failed to get vol '%s'", n->c_str()));
    else
      out_.error(format("failed to get vol '%s', specifying --%.*s might help", n->c_str(),
                        static_cast<int>(pool_optname.size()), pool_optname.data()));
    return std::nullopt;
  }
  return vol;
}

int shell::domain_state(const protocol::nonnull_domain& dom, int* reason) {
  if (reason != nullptr)
    *reason = -1;
  auto r = call<protocol::proc::domain_get_state>({dom, 0});
  if (r) {
    if (reason != nullptr)
      *reason = r->reason;
    return r->state;
  }
  if (error_code_pending() != error_code::no_support)
    return -1;
  auto info = call<protocol::proc::domain_get_info>({dom});
  if (!info)
    return -1;
  return info->state;
}

std::optional<std::string> shell::read_file(const std::string& path) {
  constexpr size_t max_size = 10 * 1024 * 1024;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    save_error(make_virt_error(
        error_code::system_error, error_domain::none,
        format("Failed to open file '%s': %s", path.c_str(), std::strerror(errno))));
    return std::nullopt;
  }
  std::string data;
  char buf[65536];
  int err = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      break;
    }
    if (n == 0)
      break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_size) {
      err = EINVAL;
      break;
    }
  }
  ::close(fd);
  if (err != 0) {
    save_error(
        make_virt_error(error_code::system_error, error_domain::none,
                        format("Failed to read file '%s': %s", path.c_str(), std::strerror(err))));
    return std::nullopt;
  }
  return data;
}

} // namespace virtactor::client::shell
