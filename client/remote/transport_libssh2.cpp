#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

// Not built yet: the issue for this transport fills it in.
result<connector> libssh2_connector(const remote_target& t, bool) {
  return transport_unavailable(t.transport);
}

} // namespace virtactor::client

#pragma pop_macro("unix")
