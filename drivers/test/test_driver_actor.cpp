#include "drivers/test/test_driver_actor.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "client/uri.hpp"
#include "drivers/local_connection.hpp"
#include "drivers/test/call_context.hpp"
#include "drivers/test/domain_object.hpp"
#include "drivers/test/driver_state.hpp"
#include "drivers/test/node_file.hpp"

namespace virtactor::drivers::test {

namespace {

using protocol::nonnull_domain;

/// The per-domain messages carry the model's summary; it never leaves the process.
struct domain_update {
  domain_summary summary;
  std::vector<domain_event> events;
};

} // namespace

} // namespace virtactor::drivers::test

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(virtactor::drivers::test::domain_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::drivers::test::domain_object>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::drivers::test::driver_state>)

namespace virtactor::drivers::test {

namespace {

std::string uuid_key(const xdr::uuid& u) {
  return std::string(reinterpret_cast<const char*>(u.data()), u.size());
}

// -- domain actor: serialises the operations on one domain ------------------------

struct domain_state {
  std::shared_ptr<domain_object> obj;
  /// What the owner last heard; a call that changes nothing sends nothing.
  std::optional<domain_summary> told;
  caf::actor owner;
  std::shared_ptr<std::atomic<int32_t>> next_id;
  static inline const char* name = "va_test_domain";
};

caf::behavior domain_actor(caf::stateful_actor<domain_state>* self,
                           std::shared_ptr<domain_object> obj, caf::actor owner,
                           std::shared_ptr<std::atomic<int32_t>> next_id) {
  self->state.obj = std::move(obj);
  self->state.owner = std::move(owner);
  self->state.next_id = std::move(next_id);
  return {
    [self](call_atom, int32_t proc, const xdr::buffer& args,
           bool read_only) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      std::vector<domain_event> events;
      call_context ctx;
      ctx.read_only = read_only;
      ctx.events = &events;
      ctx.next_domain_id = [ids = st.next_id] { return ids->fetch_add(1); };
      auto res = st.obj->dispatch(proc, args, ctx);
      // The update reaches the owner before the caller sees the reply, so a
      // listing the caller makes next already reflects this call. Most calls
      // (getters) change nothing: they cost the owner no message.
      auto now = st.obj->summary();
      if (!events.empty() || st.told != now) {
        st.told = now;
        self->send(st.owner, update_atom::value, domain_update{std::move(now), std::move(events)});
      }
      if (!res)
        return to_caf_error(res.error());
      return std::move(*res);
    },
  };
}

// -- state actor: one open test URI -----------------------------------------------------

struct owner_state {
  std::shared_ptr<driver_state> model;
  std::unordered_map<std::string, caf::actor> domains;
  std::shared_ptr<std::atomic<int32_t>> next_id;
  std::vector<caf::actor> listeners;
  static inline const char* name = "va_test_state";
};

using owner_ptr = caf::stateful_actor<owner_state>*;

void publish(owner_ptr self, const std::vector<domain_event>& events) {
  for (auto& ev : events)
    for (auto& l : self->state.listeners)
      self->send(l, publish_atom::value, ev);
}

void adopt_domain(owner_ptr self, std::unique_ptr<domain_object> obj) {
  auto key = uuid_key(obj->summary().dom.uuid);
  std::shared_ptr<domain_object> shared{std::move(obj)};
  self->state.domains[key] = self->spawn(domain_actor, std::move(shared), caf::actor{self},
                                         self->state.next_id);
}

caf::behavior owner_actor(owner_ptr self, std::shared_ptr<driver_state> model) {
  // The driver opened the model (file I/O, error reporting) before spawning us.
  self->state.model = std::move(model);
  auto initial = self->state.model->take_initial_domains();
  int32_t max_id = 0;
  for (auto& obj : initial)
    max_id = std::max(max_id, obj->summary().dom.id);
  // Ids keep increasing over the life of the state: the next start gets max + 1.
  self->state.next_id = std::make_shared<std::atomic<int32_t>>(max_id + 1);
  for (auto& obj : initial)
    adopt_domain(self, std::move(obj));
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const caf::actor& a) { return a.address() == dm.source; }),
             ls.end());
  });
  return {
    [self](call_atom, int32_t proc, const xdr::buffer& args,
           bool read_only) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      if (driver_state::is_domain_proc(proc)) {
        nonnull_domain dom;
        if (auto err = xdr::decode(args, dom); !err.empty())
          return make_caf_error(error_code::rpc, error_domain::rpc,
                                "Unable to decode message payload");
        auto i = st.domains.find(uuid_key(dom.uuid));
        if (i == st.domains.end()) {
          call_context ctx;
          ctx.read_only = read_only;
          return to_caf_error(st.model->no_domain_error(proc, args, ctx));
        }
        self->delegate(i->second, call_atom::value, proc, args, read_only);
          return caf::delegated<xdr::buffer>{};
      }
      std::vector<domain_event> events;
      call_context ctx;
      ctx.read_only = read_only;
      ctx.events = &events;
      ctx.next_domain_id = [ids = st.next_id] { return ids->fetch_add(1); };
      auto out = st.model->dispatch(proc, args, ctx);
      if (!out)
        return to_caf_error(out.error());
      if (out->forward_to) {
        auto i = st.domains.find(uuid_key(*out->forward_to));
        if (i != st.domains.end()) {
          self->delegate(i->second, call_atom::value, proc, args, read_only);
          return caf::delegated<xdr::buffer>{};
        }
        return make_caf_error(error_code::internal_error, error_domain::test,
                              "internal error: domain vanished during the call");
      }
      if (out->created)
        adopt_domain(self, std::move(out->created));
      publish(self, events);
      return std::move(out->reply);
    },
    [self](update_atom, const domain_update& up) {
      auto& st = self->state;
      st.model->update(up.summary);
      if (up.summary.removed)
        st.domains.erase(uuid_key(up.summary.dom.uuid));
      publish(self, up.events);
    },
    [self](subscribe_atom, const caf::actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(listener);
    },
    [self](unsubscribe_atom, const caf::actor& listener) {
      auto& ls = self->state.listeners;
      ls.erase(std::remove(ls.begin(), ls.end(), listener), ls.end());
    },
  };
}

// -- driver ----------------------------------------------------------------------------

struct driver_st {
  struct entry {
    caf::actor owner;
    size_t connections = 0;
  };
  std::map<std::string, entry> states;              // by URI path
  std::map<caf::actor_addr, std::string> conn_path; // open connections
  static inline const char* name = "va_test_driver";
};

/// The path of a URI the test driver accepts (`test:///PATH`, no transport,
/// no host); nullopt when the URI belongs to another driver.
std::optional<std::string> test_uri_path(const std::string& text) {
  auto u = client::parse_uri(text);
  if (!u || u->driver != "test" || u->transport || u->host)
    return std::nullopt;
  return u->path;
}

} // namespace

driver_actor spawn_test_driver(caf::actor_system& sys) {
  auto impl = [](caf::stateful_actor<driver_st>* self) -> caf::behavior {
    self->set_down_handler([self](const caf::down_msg& dm) {
      auto& st = self->state;
      auto i = st.conn_path.find(dm.source);
      if (i == st.conn_path.end())
        return;
      auto j = st.states.find(i->second);
      st.conn_path.erase(i);
      if (j != st.states.end() && --j->second.connections == 0) {
        // libvirt drops a test state with its last connection.
        self->send_exit(j->second.owner, caf::exit_reason::user_shutdown);
        st.states.erase(j);
      }
    });
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
        // A custom file is checked for this caller even when another
        // caller's open already loaded it: the state is shared.
        if (i != st.states.end() && *path != "/default" && opts.files)
          if (auto ok = check_node_file(*path, *opts.files); !ok)
            return to_caf_error(ok.error());
        if (i == st.states.end()) {
          auto model = driver_state::open(*path, opts.files.get());
          if (!model)
            return to_caf_error(model.error());
          std::shared_ptr<driver_state> shared{std::move(*model)};
          auto owner = self->spawn(owner_actor, std::move(shared));
          i = st.states.emplace(*path, driver_st::entry{owner, 0}).first;
        }
        auto conn = spawn_local_connection(self->system(), i->second.owner, uri, flags);
        self->monitor(conn);
        st.conn_path.emplace(conn.address(), *path);
        ++i->second.connections;
        return conn;
      },
    };
  };
  return caf::actor_cast<driver_actor>(sys.spawn(impl));
}

} // namespace virtactor::drivers::test
