#include "client/remote/transports.hpp"

#include "client/remote/session_daemon.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

result<connector> make_connector(const remote_target& t, bool read_only,
                                 std::shared_ptr<const connect_auth> auth) {
  switch (t.transport) {
    case transport::unix:
      return unix_connector(t, read_only);
    case transport::tcp:
      return tcp_connector(t);
    case transport::tls:
      return tls_connector(t);
    case transport::ssh:
      return ssh_connector(t, read_only);
    case transport::libssh2:
    case transport::libssh:
      return libssh2_connector(t, read_only, std::move(auth));
    case transport::ext:
      return ext_connector(t);
  }
  return make_virt_error(error_code::invalid_arg, error_domain::remote,
                         "unknown transport in the connection URI");
}

result<connector> unix_connector(const remote_target& t, bool read_only) {
  auto path = unix_socket_path(t, read_only, local_env::from_process());
  if (!path)
    return path.error();
  return connector{[p = *path, spawn = t.autostart]() -> result<stream_endpoint> {
    auto fd = spawn ? connect_session_daemon(p, connect_timeout_ms) : connect_unix(p, connect_timeout_ms);
    if (!fd)
      return fd.error();
    auto peer = describe_socket(fd->get());
    return stream_endpoint{std::move(*fd), {}, {}, "unix:" + p, {}, peer};
  }};
}

result<connector> tcp_connector(const remote_target& t) {
  return connector{[host = t.host, port = t.port_or_default()]() -> result<stream_endpoint> {
    auto fd = connect_tcp(host, port, connect_timeout_ms);
    if (!fd)
      return fd.error();
    auto peer = describe_socket(fd->get());
    peer.secure = false; // plain TCP: SASL must bring a security layer
    return stream_endpoint{std::move(*fd), {}, {}, "tcp:" + host + ":" + std::to_string(port), {},
                           peer};
  }};
}

} // namespace virtactor::client

#pragma pop_macro("unix")
