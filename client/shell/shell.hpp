/// The shell's control block (virsh's `vshControl`): settings from the
/// command line, the hypervisor connection, running parsed commands with
/// virsh's error reporting, and the lookups every command shares (a domain
/// by id, UUID or name; networks, pools and volumes).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/blocking.hpp"
#include "client/shell/command.hpp"
#include "client/shell/console.hpp"
#include "drivers/xml/uuid.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::client::shell {

/// Settings from the global command line options.
struct settings {
  /// `-c URI`; empty means the default URI, connected on first use.
  std::string uri;
  bool uri_given = false;
  bool readonly = false;
  bool timing = false;
  /// `-k` / `-K` as given (-1: not given).
  int keepalive_interval = -1;
  int keepalive_count = -1;
};

/// Lookup methods for `lookup_domain` (`VIRSH_BYID` ...).
enum lookup_by : unsigned {
  by_id = 1,
  by_uuid = 2,
  by_name = 4,
  by_all = by_id | by_uuid | by_name,
};

/// The URI used when none is given: `VIRTACTOR_DEFAULT_URI`, then
/// `LIBVIRT_DEFAULT_URI`, then "test:///default".
std::string default_uri();

/// UUID text as libvirt reads and prints it (drivers/xml/uuid.hpp).
using drivers::xml::format_uuid;
using drivers::xml::parse_uuid;

class shell {
public:
  shell(const command_table& table, console& out, settings s);
  ~shell();

  console& out() { return out_; }
  const command_table& commands() const { return table_; }
  settings& config() { return settings_; }

  /// Interactive mode (commands read from stdin); `quit` ends it.
  bool interactive() const { return interactive_; }
  void set_interactive(bool on) { interactive_ = on; }

  // -- connection ------------------------------------------------------------------------

  /// Connects at start-up when `-c` was given (virsh does so eagerly);
  /// reports and returns false on failure.
  bool connect_initial();

  /// (Re)connects to `uri` (empty: the current URI). `force` suppresses the
  /// "Reconnected" notice (the `connect` command).
  bool reconnect(const std::string& uri, bool readonly, bool force);

  /// The connection a command may use, connecting on first use
  /// (`virshConnectionHandler`); nullptr after reporting why not.
  blocking_connection* connection();

  /// The connection for completion: the open one, or a first connection
  /// made without printing anything; nullptr if there is none.
  blocking_connection* quiet_connection();

  /// Reports, once, that the server closed the connection, as virsh's close
  /// callback does ("Disconnected from URI due to end of file"). True if the
  /// connection is lost.
  bool check_lost();

  // -- running ---------------------------------------------------------------------------

  /// Parses and runs one command string; returns the last command's result.
  bool run_string(const std::string& line);

  /// Parses and runs argv words as one command.
  bool run_argv(std::vector<std::string> words);

  /// Runs parsed commands in order (`vshCommandRun`).
  bool run(const std::vector<parsed_command>& cmds);

  // -- API calls ---------------------------------------------------------------------------

  /// Calls `P`; on failure keeps the error as the command's libvirt error.
  template <protocol::proc P>
  std::optional<typename protocol::proc_traits<P>::ret>
  call(const typename protocol::proc_traits<P>::args& args = {}) {
    auto* c = conn_.get();
    if (c == nullptr) {
      save_error(make_virt_error(error_code::invalid_conn, error_domain::none,
                                 "invalid connection pointer in " +
                                     std::string{protocol::proc_traits<P>::api}));
      return std::nullopt;
    }
    auto r = c->template call<P>(args);
    if (!r) {
      save_error(r.error());
      return std::nullopt;
    }
    return std::move(*r);
  }

  /// Calls a procedure by number with explicit argument and reply structs,
  /// for procedures the typed table does not list (a driver that lacks one
  /// answers with libvirt's "unsupported" error).
  template <class Ret, class Args>
  std::optional<Ret> call_number(protocol::proc number, const Args& args) {
    auto* c = conn_.get();
    if (c == nullptr) {
      save_error(make_virt_error(error_code::invalid_conn, error_domain::none,
                                 "invalid connection pointer"));
      return std::nullopt;
    }
    auto reply = c->call_raw(static_cast<int32_t>(number), xdr::encode(args));
    if (!reply) {
      save_error(reply.error());
      return std::nullopt;
    }
    Ret ret{};
    if (auto err = xdr::decode(*reply, ret); !err.empty()) {
      save_error(
          make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload"));
      return std::nullopt;
    }
    return ret;
  }

  /// Records `err` as the command's libvirt error.
  void save_error(virt_error err) { out_.last_error = std::move(err); }

  /// Forgets the libvirt error (`vshResetLibvirtError`).
  void reset_error() { out_.last_error.reset(); }

  /// Prints and forgets the libvirt error (`vshReportError`).
  void report_error();

  /// The code of the pending libvirt error, if any.
  std::optional<error_code> error_code_pending() const;

  // -- lookups (each prints virsh's message on failure) -------------------------------------

  std::optional<protocol::nonnull_domain> lookup_domain(const std::string& name,
                                                        unsigned by = by_all);
  std::optional<protocol::nonnull_domain> domain_opt(const parsed_command& cmd,
                                                     std::string* name = nullptr,
                                                     unsigned by = by_all,
                                                     std::string_view optname = "domain");
  std::optional<protocol::nonnull_network> network_opt(const parsed_command& cmd,
                                                       std::string* name = nullptr,
                                                       unsigned by = by_uuid | by_name);
  std::optional<protocol::nonnull_storage_pool> pool_opt(const parsed_command& cmd,
                                                         std::string_view optname,
                                                         std::string* name = nullptr,
                                                         unsigned by = by_uuid | by_name);
  /// A volume by name within --pool (when `pool_optname` is not empty and
  /// given), else by key, else by path.
  std::optional<protocol::nonnull_storage_vol>
  vol_opt(const parsed_command& cmd, std::string_view optname, std::string_view pool_optname,
          std::string* name = nullptr, unsigned by = by_uuid | by_name);

  /// `virshDomainState`: the state (and reason) of `dom`, -1 on failure.
  int domain_state(const protocol::nonnull_domain& dom, int* reason = nullptr);

  /// Reads a whole file as virsh does (`virFileReadAll`), saving libvirt's
  /// error on failure.
  std::optional<std::string> read_file(const std::string& path);

private:
  bool open_connection(const std::string& uri, bool readonly);

  const command_table& table_;
  console& out_;
  settings settings_;
  std::unique_ptr<blocking_connection> conn_;
  bool interactive_ = false;
  /// Set when the connection is known to be gone (a failed command's error
  /// or the server closing it).
  bool disconnected_ = false;
  /// The loss of the current connection has been reported.
  bool loss_reported_ = false;
};

/// The `<file>` commands (define, create, net-define, pool-create ...): reads
/// `file`, hands its text to `call` (which returns the new object's name, or
/// nothing on failure) and prints virsh's lines: `fail` with the file name,
/// or `done` with the object's name and the file name.
template <class Call>
bool from_file(shell& sh, const std::string& file, const char* fail, const char* done, Call call) {
  auto xml = sh.read_file(file);
  if (!xml)
    return false;
  std::optional<std::string> name = call(*xml);
  if (!name) {
    sh.out().error(format(fail, file.c_str()));
    return false;
  }
  sh.out().print_extra(format(done, name->c_str(), file.c_str()));
  return true;
}

/// `virshDomainStateToString`.
const char* domain_state_name(int state);

/// `virshDomainStateReasonToString`.
const char* domain_state_reason(int state, int reason);

} // namespace virtactor::client::shell
