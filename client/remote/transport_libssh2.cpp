#include "client/remote/libssh2_session.hpp"
#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

// `libssh2` and `libssh` URIs share one implementation on libssh2; libssh
// ones report libvirt's libssh error code and domain.
result<connector> libssh2_connector(const remote_target& t, bool read_only,
                                    std::shared_ptr<const connect_auth> auth) {
  auto settings = make_libssh2_settings(t, read_only, std::move(auth), local_env::from_process());
  if (!settings)
    return settings.error();
  return connector{[s = std::move(*settings)]() { return open_libssh2_stream(s); }};
}

} // namespace virtactor::client

#pragma pop_macro("unix")
