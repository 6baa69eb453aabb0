#include "client/uri.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <unistd.h>

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

virt_error invalid_arg(error_domain domain, const std::string& detail) {
  return make_virt_error(error_code::invalid_arg, domain, "invalid argument: " + detail);
}

/// Joins directory parts as GLib's g_build_filename: one '/' between them.
std::string join_path(std::string_view dir, std::string_view name) {
  std::string out{dir};
  while (out.size() > 1 && out.back() == '/')
    out.pop_back();
  if (out.empty() || out.back() != '/')
    out.push_back('/');
  out.append(name);
  return out;
}

constexpr std::array<std::string_view, 7> transport_names = {
    "tls", "unix", "ssh", "libssh2", "ext", "tcp", "libssh",
};

} // namespace

// --- enums ---------------------------------------------------------------

std::string_view to_string(transport x) {
  return transport_names[static_cast<size_t>(x)];
}

std::optional<transport> parse_transport(std::string_view name) {
  for (size_t i = 0; i < transport_names.size(); ++i)
    if (iequals(name, transport_names[i]))
      return static_cast<transport>(i);
  return std::nullopt;
}

uint16_t default_port(transport x) {
  switch (x) {
    case transport::tls:
      return 16514;
    case transport::tcp:
      return 16509;
    case transport::ssh:
    case transport::libssh2:
    case transport::libssh:
      return 22;
    case transport::unix:
    case transport::ext:
      break;
  }
  return 0;
}

std::string_view to_string(remote_mode x) {
  switch (x) {
    case remote_mode::legacy:
      return "legacy";
    case remote_mode::direct:
      return "direct";
    case remote_mode::automatic:
      break;
  }
  return "auto";
}

std::string_view to_string(proxy_mode x) {
  switch (x) {
    case proxy_mode::netcat:
      return "netcat";
    case proxy_mode::native:
      return "native";
    case proxy_mode::automatic:
      break;
  }
  return "auto";
}

std::string_view to_string(host_key_check x) {
  switch (x) {
    case host_key_check::auto_add:
      return "auto";
    case host_key_check::ignore:
      return "ignore";
    case host_key_check::normal:
      break;
  }
  return "normal";
}

// --- local_env ---------------------------------------------------------------

local_env local_env::from_process() {
  local_env env;
  static_cast<user_env&>(env) = user_env::from_process();
  env.euid = static_cast<uint32_t>(::geteuid());
  env.libvirt_autostart = env_var("LIBVIRT_AUTOSTART");
  return env;
}

// --- remote_target -----------------------------------------------------------

namespace {

/// libvirt's `virStrToLong_i` with base 10: optional blanks and sign, digits,
/// nothing after, within `int`.
std::optional<int> parse_int(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::string_view{" \t\n\v\f\r"}.find(s[i]) != std::string_view::npos)
    ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    negative = s[i++] == '-';
  if (i == s.size())
    return std::nullopt;
  long long value = 0;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i]))
      return std::nullopt;
    value = value * 10 + (s[i] - '0');
    if (value > 2147483648LL)
      return std::nullopt;
  }
  value = negative ? -value : value;
  if (value > 2147483647LL)
    return std::nullopt;
  return static_cast<int>(value);
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  for (;;) {
    auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos)
      return out;
    s.remove_prefix(comma + 1);
  }
}

bool uses_unix_socket(transport t) {
  return t == transport::unix || t == transport::ssh || t == transport::libssh ||
         t == transport::libssh2;
}

bool is_ssh_family(transport t) {
  return t == transport::ssh || t == transport::libssh || t == transport::libssh2;
}

/// Takes one remote-only parameter into `t`; returns false for others.
result<bool> take_remote_param(remote_target& t, const uri_param& p,
                               std::optional<std::string>& name, std::optional<std::string>& mode,
                               std::optional<std::string>& proxy,
                               std::optional<std::string>& known_hosts_verify,
                               std::optional<std::string>& sshauth) {
  struct string_param {
    std::string_view key;
    std::optional<std::string>* field;
  };
  const string_param strings[] = {
      {"name", &name},
      {"command", &t.command},
      {"socket", &t.socket},
      {"auth", &t.auth},
      {"sshauth", &sshauth},
      {"netcat", &t.netcat},
      {"keyfile", &t.keyfile},
      {"pkipath", &t.pkipath},
      {"known_hosts", &t.known_hosts},
      {"known_hosts_verify", &known_hosts_verify},
      {"tls_priority", &t.tls_priority},
      {"mode", &mode},
      {"proxy", &proxy},
      {"authfile", &t.authfile},
  };
  for (const auto& s : strings) {
    if (iequals(p.name, s.key)) {
      *s.field = p.value; // a later occurrence wins, as in libvirt
      return true;
    }
  }
  struct bool_param {
    std::string_view key;
    bool* field;
  };
  const bool_param bools[] = {
      {"no_sanity", &t.no_sanity},
      {"no_verify", &t.no_verify},
      {"no_tty", &t.no_tty},
  };
  for (const auto& b : bools) {
    if (iequals(p.name, b.key)) {
      auto value = parse_int(p.value);
      if (!value)
        return invalid_arg(error_domain::remote,
                           "Failed to parse value of URI component " + p.name);
      *b.field = *value != 0;
      return true;
    }
  }
  return false;
}

} // namespace

result<remote_target> make_remote_target(const uri& u, const local_env& env) {
  remote_target t;
  t.driver = u.driver;
  // remoteSplitURIScheme: the transport, or tls with a host and unix without.
  if (u.transport) {
    auto kind = parse_transport(*u.transport);
    if (!kind)
      return invalid_arg(error_domain::remote, "remote_open: transport in URL not recognised "
                                               "(should be tls|unix|ssh|ext|tcp|libssh2|libssh)");
    if (*kind == transport::unix && u.host)
      return invalid_arg(error_domain::remote,
                         "using unix socket and remote server '" + *u.host + "' is not supported.");
    t.transport = *kind;
  } else {
    t.transport = u.host ? transport::tls : transport::unix;
  }
  // remoteGetURIDaemonInfo: which daemon a non-root user means.
  bool wants_session = !u.path.empty() && (u.path == "/session" || u.scheme.starts_with("test+"));
  t.session = wants_session && env.euid > 0;
  t.autostart = t.session && !u.host && t.transport == transport::unix &&
                (!env.libvirt_autostart || *env.libvirt_autostart != "0");
  if (u.host)
    t.host = *u.host;
  t.user = u.user;
  t.port = u.port;
  // doRemoteOpen: the remote-only parameters, then the name.
  std::optional<std::string> name, mode, proxy, known_hosts_verify, sshauth;
  std::vector<uri_param> helper_params; // passthrough plus mode= and socket=
  for (const auto& p : u.params) {
    auto taken = take_remote_param(t, p, name, mode, proxy, known_hosts_verify, sshauth);
    if (!taken)
      return taken.error();
    if (!*taken)
      t.passthrough.push_back(p);
    if (!*taken || iequals(p.name, "mode") || iequals(p.name, "socket"))
      helper_params.push_back(p);
  }
  if (name) {
    t.open_name = *name;
    t.helper_name = *name;
  } else if (u.scheme == "remote" || u.scheme.starts_with("remote+")) {
    t.open_name.clear(); // the daemon picks its default URI
  } else {
    uri stripped;
    stripped.scheme = u.driver;
    stripped.path = u.path;
    if (!t.passthrough.empty())
      stripped.query = format_params(t.passthrough);
    stripped.fragment = u.fragment;
    t.open_name = to_string(stripped);
    stripped.query.reset();
    if (!helper_params.empty())
      stripped.query = format_params(helper_params);
    t.helper_name = to_string(stripped);
  }
  if (mode) {
    if (*mode == "auto")
      t.mode = remote_mode::automatic;
    else if (*mode == "legacy")
      t.mode = remote_mode::legacy;
    else if (*mode == "direct")
      t.mode = remote_mode::direct;
    else
      return invalid_arg(error_domain::remote, "Unknown remote mode '" + *mode + "'");
  }
  if (proxy) {
    if (*proxy == "auto")
      t.proxy = proxy_mode::automatic;
    else if (*proxy == "netcat")
      t.proxy = proxy_mode::netcat;
    else if (*proxy == "native")
      t.proxy = proxy_mode::native;
    else // "Unnkown" is libvirt 9.0's own spelling; clients may match on it.
      return invalid_arg(error_domain::remote, "Unnkown proxy type '" + *proxy + "'");
  } else if (t.socket) {
    t.proxy = proxy_mode::netcat; // virt-ssh-helper cannot take a socket path
  } else if (t.session) {
    t.proxy = proxy_mode::native; // the far side's session paths are unknown here
  }
  if (sshauth)
    t.sshauth = split_commas(*sshauth);
  if (t.transport == transport::ext && !t.command)
    return invalid_arg(error_domain::remote,
                       "remote_open: for 'ext' transport, command is required");
  if (uses_unix_socket(t.transport) && !t.socket && t.mode == remote_mode::direct &&
      t.transport != transport::unix)
    return make_virt_error(error_code::operation_unsupported, error_domain::remote,
                           "Operation not supported: Cannot use direct socket mode for " +
                               std::string{to_string(t.transport)} + " transport");
  // virNetClientNew{SSH,LibSSH2,Libssh}: checked when the session is set up.
  if (is_ssh_family(t.transport) && t.proxy == proxy_mode::native && t.netcat)
    return invalid_arg(error_domain::rpc, "netcat path not valid with native proxy mode");
  if (t.transport == transport::libssh || t.transport == transport::libssh2) {
    if (known_hosts_verify) {
      if (iequals(*known_hosts_verify, "normal"))
        t.known_hosts_verify = host_key_check::normal;
      else if (iequals(*known_hosts_verify, "auto"))
        t.known_hosts_verify = host_key_check::auto_add;
      else if (iequals(*known_hosts_verify, "ignore"))
        t.known_hosts_verify = host_key_check::ignore;
      else
        return invalid_arg(error_domain::rpc,
                           "Invalid host key verification method: '" + *known_hosts_verify + "'");
    }
    for (const auto& method : t.sshauth) {
      if (!iequals(method, "keyboard-interactive") && !iequals(method, "password") &&
          !iequals(method, "privkey") && !iequals(method, "agent"))
        return invalid_arg(error_domain::rpc, "Invalid authentication method: '" + method + "'");
    }
  }
  return t;
}

// --- Unix sockets -------------------------------------------------------------

std::string user_runtime_dir(const local_env& env) {
  return join_path(virtactor::user_runtime_dir(env), "libvirt");
}

namespace {

/// remoteGetUNIXSocketHelper: `<prefix>-sock` in the user directory, or
/// `<prefix>-sock[-ro]` in /var/run/libvirt (not /run: the far end of an ssh
/// connection may lack it).
std::string socket_in_dir(std::string_view prefix, const socket_query& q, const local_env& env) {
  if (q.session)
    return join_path(user_runtime_dir(env), std::string{prefix} + "-sock");
  return "/var/run/libvirt/" + std::string{prefix} + (q.read_only ? "-sock-ro" : "-sock");
}

} // namespace

result<std::string> default_unix_socket(const socket_query& q, const local_env& env,
                                        const exists_fn& exists) {
  auto direct = socket_in_dir("virt" + q.driver + "d", q, env);
  auto legacy = socket_in_dir("libvirt", q, env);
  auto mode = q.mode;
  if (mode == remote_mode::automatic) {
    mode = remote_mode::legacy; // also Debian's build default when no socket exists
    if (q.transport == transport::unix) {
      auto present = [&](const std::string& path) {
        if (exists)
          return exists(path);
        std::error_code ec;
        return std::filesystem::exists(path, ec);
      };
      if (present(direct))
        mode = remote_mode::direct;
    }
  }
  if (mode == remote_mode::legacy)
    return legacy;
  if (q.transport != transport::unix)
    return make_virt_error(error_code::operation_unsupported, error_domain::remote,
                           "Operation not supported: Cannot use direct socket mode for " +
                               std::string{to_string(q.transport)} + " transport");
  return direct;
}

result<std::string> unix_socket_path(const remote_target& t, bool read_only, const local_env& env,
                                     const exists_fn& exists) {
  if (!uses_unix_socket(t.transport))
    return invalid_arg(error_domain::remote, "the " + std::string{to_string(t.transport)} +
                                                 " transport uses no Unix socket");
  if (t.socket)
    return *t.socket;
  return default_unix_socket(socket_query{t.transport, t.mode, t.driver, read_only, t.session}, env,
                             exists);
}

} // namespace virtactor::client

#pragma pop_macro("unix")
