#include "drivers/test/test_driver_actor.hpp"

#include <map>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/uri.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/local_connection.hpp"
#include "drivers/test/driver_state.hpp"
#include "drivers/test/node_file.hpp"

namespace virtactor::drivers::test {

namespace {

/// The test driver: the driver interface, and connections telling it they
/// are closing (so a state is gone before the close returns).
using test_driver_actor =
  driver_actor::extend<caf::replies_to<release_atom, caf::actor_addr>::with<bool>>;

struct driver_st {
  struct entry {
    conf::state_actor state;
    size_t connections = 0;
  };
  std::map<std::string, entry> states;              // by URI path
  std::map<caf::actor_addr, std::string> conn_path; // open connections
  static inline const char* name = "va_test_driver";
};

using driver_ptr = test_driver_actor::stateful_pointer<driver_st>;

/// The path of a URI the test driver accepts (`test:///PATH`, no transport,
/// no host); nullopt when the URI belongs to another driver.
std::optional<std::string> test_uri_path(const std::string& text) {
  auto u = parse_uri(text);
  if (!u || u->driver != "test" || u->transport || u->host)
    return std::nullopt;
  return u->path;
}

/// Connection `conn` is gone: libvirt drops a test state with its last connection.
bool release(driver_ptr self, const caf::actor_addr& conn) {
  auto& st = self->state;
  auto i = st.conn_path.find(conn);
  if (i == st.conn_path.end())
    return false;
  auto j = st.states.find(i->second);
  st.conn_path.erase(i);
  if (j != st.states.end() && --j->second.connections == 0) {
    self->send_exit(j->second.state, caf::exit_reason::user_shutdown);
    st.states.erase(j);
  }
  return true;
}

test_driver_actor::behavior_type driver_impl(driver_ptr self) {
  self->set_down_handler([self](const caf::down_msg& dm) { release(self, dm.source); });
  return {
    [self](open_atom, const std::string& uri, uint32_t flags,
           const open_options& opts) -> caf::result<connection_actor> {
      auto path = test_uri_path(uri);
      if (!path)
        return connection_actor{};
      if (path->empty() || (*path)[0] != '/')
        return make_caf_error(error_code::invalid_arg, error_domain::test,
                              "invalid argument: testOpen: supply a path or use test:///default");
      auto& st = self->state;
      auto i = st.states.find(*path);
      // A custom file is checked for this caller even when another caller's
      // open already loaded it: the state is shared.
      if (i != st.states.end() && *path != "/default" && opts.files)
        if (auto ok = check_node_file(*path, *opts.files); !ok)
          return to_caf_error(ok.error());
      if (i == st.states.end()) {
        auto model = driver_state::open(*path, opts.files.get());
        if (!model)
          return to_caf_error(model.error());
        auto state = conf::spawn_state(self->system(), std::move(*model));
        i = st.states.emplace(*path, driver_st::entry{state, 0}).first;
      }
      auto conn = spawn_local_connection(self->system(), i->second.state, uri, flags,
                                         caf::actor_cast<caf::actor>(self));
      self->monitor(conn);
      st.conn_path.emplace(conn.address(), *path);
      ++i->second.connections;
      return conn;
    },
    [self](release_atom, const caf::actor_addr& conn) { return release(self, conn); },
    // The test driver keeps a state per open URI, not per daemon.
    [](initialize_atom) { return true; },
    [](reload_atom) { return true; },
    [](shutdown_atom) { return true; },
  };
}

} // namespace

driver_actor spawn_test_driver(caf::actor_system& sys) {
  // Hidden, as the registry that owns it (drivers/registry.cpp).
  return caf::actor_cast<driver_actor>(sys.spawn<caf::hidden>(driver_impl));
}

} // namespace virtactor::drivers::test
