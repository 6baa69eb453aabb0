#include "client/remote/remote_driver.hpp"


#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/error.hpp"
#include "client/remote/auth_file.hpp"
#include "client/remote/remote_connection.hpp"
#include "client/remote/transports.hpp"

#pragma push_macro("unix")
#undef unix

namespace virtactor::client {

bool remote_accepts(const uri&) {
  // As libvirt's client library: every URI no local driver took goes to a
  // daemon (the local one without a host), which then says whether it has a
  // driver for it ("no connection driver available for ...").
  return true;
}

driver_actor spawn_remote_driver(caf::actor_system& sys) {
  auto impl = [](caf::event_based_actor* self) -> caf::behavior {
    return {
      [self](open_atom, const std::string& text, uint32_t flags,
             const open_options& opts) -> caf::result<connection_actor> {
        auto parsed = parse_uri(text);
        if (!parsed)
          return to_caf_error(parsed.error());
        if (!remote_accepts(*parsed))
          return connection_actor{};
        auto target = make_remote_target(*parsed, local_env::from_process());
        if (!target)
          return to_caf_error(target.error());
        auto connector = make_connector(*target, (flags & 1u) != 0, opts.auth);
        if (!connector)
          return to_caf_error(connector.error());
        remote_options ro;
        ro.connect = std::move(*connector);
        ro.uri = text;
        ro.open_name = target->open_name;
        ro.flags = flags;
        ro.keepalive_interval = opts.keepalive_interval;
        ro.keepalive_count = opts.keepalive_count;
        ro.reconnect_attempts = opts.reconnect_attempts;
        ro.reconnect_backoff = std::chrono::milliseconds{opts.reconnect_backoff_ms};
        ro.auth = with_auth_file(opts.auth, *target);
        ro.hostname = target->host;
        ro.auth_type = target->auth.value_or("");
        auto conn = spawn_remote_connection(self->system(), std::move(ro));
        self->delegate(caf::actor_cast<caf::actor>(conn), open_atom::value);
        return caf::delegated<connection_actor>{};
      },
      // The remote driver keeps no state of its own.
      [](initialize_atom) { return true; },
      [](reload_atom) { return true; },
      [](shutdown_atom) { return true; },
    };
  };
  // Hidden, as the registry that owns it (client/registry.cpp).
  return caf::actor_cast<driver_actor>(sys.spawn<caf::hidden>(impl));
}

} // namespace virtactor::client

#pragma pop_macro("unix")
