#include <cstring>

#include "actors/process.hpp"
#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

namespace {

/// libvirt's `virBufferEscapeShell`: the text as is when it holds no shell
/// metacharacter, else single-quoted with each `'` written as `'\''`.
std::string escape_shell(const std::string& text) {
  if (!text.empty() && text.find_first_of("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~") == std::string::npos)
    return text;
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

/// The remote command is parsed by the login shell, then by our `sh -c`.
std::string double_escape_shell(const std::string& text) {
  return escape_shell(escape_shell(text));
}

} // namespace

result<std::string> ssh_remote_command(const remote_target& t, bool read_only) {
  auto proxy = t.proxy;
  // A netcat path in the URI means the legacy netcat proxy.
  if (proxy == proxy_mode::automatic && t.netcat)
    proxy = proxy_mode::netcat;
  if (proxy == proxy_mode::native && t.netcat)
    return make_virt_error(error_code::invalid_arg, error_domain::rpc,
                           "invalid argument: netcat path not valid with native proxy mode");
  auto socket = unix_socket_path(t, read_only, local_env::from_process());
  if (!socket)
    return socket.error();
  auto nc = double_escape_shell(t.netcat ? *t.netcat : "nc");
  // libvirt 9.0 inserts the socket path bare, which breaks paths with shell
  // metacharacters; those are quoted here like the other words.
  auto sock = escape_shell(*socket) == *socket ? *socket : "'" + double_escape_shell(*socket) + "'";
  std::string nccmd = "if '" + nc +
                      "' -q 2>&1 | grep \"requires an argument\" >/dev/null 2>&1; "
                      "then ARG=-q0;else ARG=;fi;'" +
                      nc + "' $ARG -U " + sock;
  std::string helpercmd = std::string{"virt-ssh-helper"} + (read_only ? " -r " : " ") + "'" +
                          double_escape_shell(t.helper_name) + "'";
  switch (proxy) {
    case proxy_mode::automatic:
      return "sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     " +
             helpercmd + "; else    " + nccmd + "; fi'";
    case proxy_mode::netcat:
      return "sh -c '" + nccmd + "'";
    case proxy_mode::native:
      return "sh -c '" + helpercmd + "'";
  }
  return make_virt_error(error_code::internal_error, error_domain::rpc,
                         "internal error: unknown proxy mode");
}

result<std::vector<std::string>> ssh_command_line(const remote_target& t, bool read_only) {
  auto remote = ssh_remote_command(t, read_only);
  if (!remote)
    return remote.error();
  std::vector<std::string> argv{t.command ? *t.command : "ssh"};
  if (t.port) {
    argv.insert(argv.end(), {"-p", std::to_string(*t.port)});
  }
  if (t.user)
    argv.insert(argv.end(), {"-l", *t.user});
  if (t.keyfile)
    argv.insert(argv.end(), {"-i", *t.keyfile});
  argv.insert(argv.end(), {"-T", "-e", "none"});
  if (t.no_tty)
    argv.insert(argv.end(), {"-o", "BatchMode=yes"});
  if (t.no_verify)
    argv.insert(argv.end(), {"-o", "StrictHostKeyChecking=no"});
  argv.insert(argv.end(), {"--", t.host, std::move(*remote)});
  return argv;
}

result<connector> ssh_connector(const remote_target& t, bool read_only) {
  auto argv = ssh_command_line(t, read_only);
  if (!argv)
    return argv.error();
  process_spec spec;
  spec.argv = std::move(*argv);
  // What ssh needs from the caller's session: agent, askpass, Kerberos, X11.
  spec.env = command_environment({"XDG_RUNTIME_DIR", "KRB5CCNAME", "SSH_AUTH_SOCK", "SSH_ASKPASS",
                                  "OPENSSL_CONF", "DISPLAY", "XAUTHORITY", "TERM"});
  auto description = "ssh:" + (t.user ? *t.user + "@" : std::string{}) + t.host;
  return connector{[spec = std::move(spec), description]() -> result<stream_endpoint> {
    auto child = spawn_stream_process(spec);
    if (!child)
      return child.error();
    return process_endpoint(std::move(*child), description);
  }};
}

} // namespace virtactor::client

#pragma pop_macro("unix")
