#include "client/remote/transports.hpp"

#include <chrono>

#include "actors/tls_context.hpp"
#include "actors/tls_scribe.hpp"
#include "actors/tls_session.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

// libvirt's doRemoteOpen for tls: the credentials are located and checked
// (context first, so a missing CA is reported even when no daemon listens),
// then TCP, the handshake, the server's certificate and its confirmation
// byte, all within one deadline on the connector's thread.
result<connector> tls_connector(const remote_target& t) {
  tls::context_options opts;
  opts.role = tls::role::client;
  opts.sanity_check = !t.no_sanity;
  opts.require_valid_peer = !t.no_verify;
  opts.priority = t.tls_priority;
  return connector{[opts, pkipath = t.pkipath, host = t.host,
                    port = t.port_or_default()]() mutable -> result<stream_endpoint> {
    auto deadline = tls::clock::now() + std::chrono::milliseconds{connect_timeout_ms};
    // Root uses /etc/pki only; other users try ~/.pki/libvirt first.
    auto env = local_env::from_process();
    opts.files =
        tls::locate_pki_files(tls::role::client, pkipath, env.euid != 0, env.home.value_or(""));
    auto ctx = tls::context::make(opts);
    if (!ctx)
      return ctx.error();
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - tls::clock::now());
    auto fd = connect_tcp(host, port, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (!fd)
      return fd.error();
    auto s = tls::connect(std::move(*ctx), std::move(*fd), host, deadline);
    if (!s)
      return s.error();
    return tls::make_stream(std::move(*s), "tls:" + host + ":" + std::to_string(port));
  }};
}

} // namespace virtactor::client

#pragma pop_macro("unix")
