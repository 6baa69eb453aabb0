/// virtactord's configuration: libvirtd.conf's syntax (libvirt's virConf) and
/// the typed settings it holds, with libvirtd's defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::daemon {

/// One value of a virConf file: a quoted string, an integer or a list.
struct conf_value {
  enum class kind : uint8_t { string, integer, list };

  conf_value::kind type = kind::string;
  /// The text of a string (no escapes exist in this syntax).
  std::string text;
  /// The magnitude of an integer; `negative` tells its sign was '-'.
  uint64_t number = 0;
  /// Written with '-': libvirt's "signed" integers, refused where an
  /// unsigned or boolean value is expected (even `-0`).
  bool negative = false;
  /// The elements of a list.
  std::vector<conf_value> items;
  /// The line the value starts on, counting from 1.
  int line = 0;
};

/// One `name = value` statement.
struct conf_entry {
  std::string name;
  conf_value value;
  /// The line of the name.
  int line = 0;
};

/// Parses the virConf syntax: `name = value` statements separated by line ends
/// or ';', `#` comments, strings in "..." or '...' (one line) or """...""" (any
/// number of lines), integers with an optional sign, and lists `[ v, v, ]`
/// that may span lines. As an extension, comments may stand inside a list.
/// Syntax errors are VIR_ERR_CONF_SYNTAX / VIR_FROM_CONF: "config line N: ...".
result<std::vector<conf_entry>> parse_conf(std::string_view text);

/// How clients of one listener authenticate, numbered as `remote_auth_type`.
/// `none` and `sasl` are implemented; the parser refuses `polkit`.
enum class auth_method : uint8_t { none = 0, sasl = 1, polkit = 2 };

/// The name as written in libvirtd.conf: "none", "sasl", "polkit".
std::string_view to_string(auth_method x);

/// The settings of libvirtd.conf that virtactord knows. The defaults are
/// libvirtd 9.0's for a build without polkit and SASL; an absent optional
/// means "libvirtd's built-in choice" (see each field).
struct daemon_config {
  // --- Network listeners (used only with --listen) ---
  bool listen_tcp = false;
  bool listen_tls = true;
  /// Absent: every address.
  std::optional<std::string> listen_addr;
  /// libvirtd writes ports as strings ("16509"); bare integers are accepted too. 0 asks the
  /// kernel for a free port.
  uint16_t tcp_port = 16509;
  uint16_t tls_port = 16514;

  // --- Unix sockets ---
  /// Absent: /var/run/libvirt (root) or $XDG_RUNTIME_DIR/libvirt.
  std::optional<std::string> unix_sock_dir;
  /// Absent: the daemon's own group.
  std::optional<std::string> unix_sock_group;
  /// Permission bits, written in the file as octal strings such as "0777".
  uint32_t unix_sock_ro_perms = 0777;
  uint32_t unix_sock_rw_perms = 0700;

  // --- Authentication ---
  auth_method auth_unix_rw = auth_method::none;
  auth_method auth_unix_ro = auth_method::none;
  auth_method auth_tcp = auth_method::none;
  auth_method auth_tls = auth_method::none;

  // --- TLS ---
  /// Absent: /etc/pki/libvirt/private/serverkey.pem (root); "" loads no key.
  std::optional<std::string> key_file;
  /// Absent: /etc/pki/libvirt/servercert.pem (root); "" loads no certificate.
  std::optional<std::string> cert_file;
  /// Absent: /etc/pki/CA/cacert.pem; "" loads no CA.
  std::optional<std::string> ca_file;
  /// Absent: no revocation list.
  std::optional<std::string> crl_file;
  bool tls_no_verify_certificate = false;
  bool tls_no_sanity_certificate = false;
  /// Client certificate DNs allowed in (`*` globs). Absent: no check; empty: nobody.
  std::optional<std::vector<std::string>> tls_allowed_dn_list;
  /// Absent: GnuTLS's "NORMAL".
  std::optional<std::string> tls_priority;

  // --- Limits ---
  uint32_t max_clients = 5000;
  uint32_t max_queued_clients = 1000;
  uint32_t max_anonymous_clients = 20;
  uint32_t min_workers = 5;
  /// At least 1.
  uint32_t max_workers = 20;
  uint32_t prio_workers = 5;
  /// Old libvirtd's global limit on calls in flight; libvirtd 9.0 no longer reads it.
  uint32_t max_requests = 20;
  uint32_t max_client_requests = 5;

  // --- Keepalive ---
  /// Seconds between pings; -1 turns keepalive off.
  int32_t keepalive_interval = 5;
  uint32_t keepalive_count = 5;

  // --- Logging ---
  /// 1 debug, 2 info, 3 warning, 4 error. 0 in the file keeps this default.
  uint32_t log_level = 3;
  std::optional<std::string> log_filters;
  std::optional<std::string> log_outputs;

  // --- Identity ---
  /// Absent: taken from the host (SMBIOS or machine-id).
  std::optional<std::string> host_uuid;

  // --- Security: SASL (libvirtd's keys) ---
  /// SASL identities let in (fnmatch globs). Absent: everyone SASL accepts;
  /// empty: nobody.
  std::optional<std::vector<std::string>> sasl_allowed_username_list;
  /// Least SSF a SASL mechanism must give on plain TCP (libvirtd: 56 and up).
  uint32_t tcp_min_ssf = 56;

  // --- Security: bounds on what one client makes the daemon do (virtactord's
  // own keys; libvirtd has none of these) ---
  /// Calls read from one client and not yet answered: at this many the daemon
  /// stops reading that client until replies go out.
  uint32_t max_client_pending_calls = 256;
  /// Bytes of those calls: reading stops at this many.
  uint64_t max_client_pending_bytes = 8 * 1024 * 1024;
  /// Replies and events not yet written to a client: reading stops above
  /// this many bytes (the client does not read)...
  uint64_t max_client_unsent_bytes = 1024 * 1024;
  /// ...and the client is dropped above this many. At least one message
  /// (32 MiB + 4).
  uint64_t max_client_unsent_bytes_hard = 64 * 1024 * 1024;
  /// Open custom test-driver files (`test:///PATH`) for clients on the unix
  /// sockets, as the client's own user (0: refuse them all).
  bool allow_test_driver_files = false;
  /// Largest test-driver file read; bigger ones are refused unread.
  uint64_t max_test_driver_file_size = 10 * 1024 * 1024;
  /// XML documents from clients: largest size in bytes, deepest nesting
  /// (libxml2's default limit, which libvirt inherits, is 256).
  uint64_t max_xml_size = 4 * 1024 * 1024;
  uint32_t max_xml_depth = 256;
  /// Longest error message sent to a client; longer ones are cut.
  uint32_t max_error_length = 4096;

  // -- the qemu driver (virtactor's own keys; libvirt keeps these in qemu.conf) --
  /// Persistent definitions (default /etc/virtactor/qemu as root, else
  /// $XDG_CONFIG_HOME/virtactor/qemu).
  std::optional<std::string> qemu_config_dir;
  /// Status and pid files of running domains (/run/virtactor/qemu).
  std::optional<std::string> qemu_run_dir;
  /// Domain directories (/var/lib/virtactor/qemu).
  std::optional<std::string> qemu_lib_dir;
  /// QEMU's logs (/var/log/virtactor/qemu).
  std::optional<std::string> qemu_log_dir;
  /// The emulator (/usr/bin/qemu-system-x86_64).
  std::optional<std::string> qemu_emulator;
  /// Every QMP command's deadline, in milliseconds.
  uint32_t qemu_monitor_timeout_ms = 30000;
  /// How long bulk statistics (domstats) wait for one domain's QEMU, in
  /// milliseconds; never longer than the QMP deadline.
  uint32_t qemu_stats_timeout_ms = 5000;
  /// SIGTERM to SIGKILL on destroy, in milliseconds (libvirt: 10 s).
  uint32_t qemu_destroy_grace_ms = 10000;
  /// Start autostart domains when the daemon starts.
  bool qemu_autostart = true;
  /// The account QEMU runs as: a name or `+N` (libvirt's qemu.conf `user`
  /// and `group`). Unset as root: `libvirt-qemu` when it exists, else root
  /// with a warning; unset group: the user's primary group. A user's daemon
  /// runs QEMU as itself and refuses keys naming another account.
  std::optional<std::string> qemu_user;
  std::optional<std::string> qemu_group;
  /// As root: the files QEMU opens by path are given to its account while
  /// the domain runs and back at stop (libvirt's `dynamic_ownership`).
  bool qemu_dynamic_ownership = true;

  bool operator==(const daemon_config&) const = default;
};

/// Reads libvirtd.conf-syntax `text` into a `daemon_config`.
///
/// As in libvirtd, the first setting of a key wins. Keys virtactord does not
/// know, keys libvirtd knows but virtactord ignores, and repeated keys add a
/// warning naming the key and its line; `admin_*` keys are ignored silently.
/// Bad values fail with "config line N: ..." (VIR_FROM_CONF; auth "polkit"
/// is VIR_ERR_CONFIG_UNSUPPORTED).
result<daemon_config> parse_config(std::string_view text, std::vector<std::string>& warnings);

/// Reads the file at `path` (at most 10 MiB, libvirt's limit) and parses it as
/// `parse_config` does; messages then start with the path. A missing or
/// unreadable file is VIR_ERR_SYSTEM_ERROR "Failed to open file '<path>': <reason>".
result<daemon_config> load_config(const std::string& path, std::vector<std::string>& warnings);

} // namespace virtactor::daemon
