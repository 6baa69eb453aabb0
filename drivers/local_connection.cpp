#include "drivers/local_connection.hpp"

#include <map>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "protocol/api_names.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers {

using protocol::proc;

virt_error read_only_error(const char* api) {
  std::string_view name{api};
  auto domain = error_domain::none;
  if (name.starts_with("virDomain"))
    domain = error_domain::domain;
  else if (name.starts_with("virNetwork"))
    domain = error_domain::network;
  else if (name.starts_with("virStorage"))
    domain = error_domain::storage;
  return make_virt_error(error_code::operation_denied, domain,
                         std::string{"operation forbidden: read only access prevents "} + api);
}

namespace {

struct subscription {
  int32_t event_id = 0;
  domain_filter filter;
  caf::actor sink;
};

struct conn_state {
  caf::actor owner;
  std::string uri;
  bool read_only = false;
  bool listening = false;
  int32_t next_callback = 0;
  std::map<int32_t, subscription> subs;
  std::vector<caf::actor> watchers;
  static inline const char* name = "va_local_conn";
};

using conn_ptr = caf::stateful_actor<conn_state>*;

bool matches(const subscription& s, const domain_event& ev) {
  return s.event_id == ev.event_id && (s.filter.empty() || s.filter.front().uuid == ev.dom.uuid);
}

template <class T>
xdr::buffer encoded(const T& x) {
  return xdr::encode(x);
}

caf::behavior local_connection(conn_ptr self, caf::actor owner, std::string uri, uint32_t flags) {
  self->state.owner = std::move(owner);
  self->state.uri = std::move(uri);
  self->state.read_only = (flags & 1u) != 0;
  self->monitor(self->state.owner);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (dm.source != self->state.owner.address())
      return;
    // The driver state died under us: tell the watchers, then end.
    for (auto& w : self->state.watchers)
      self->send(w, connection_closed{static_cast<int32_t>(close_reason::error)});
    self->quit(dm.reason);
  });
  auto close = [self] {
    if (self->state.listening)
      self->send(self->state.owner, unsubscribe_atom::value, caf::actor{self});
    self->quit();
  };
  return {
    [self, close](call_atom, int32_t number, xdr::buffer& args) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      auto info = protocol::find_proc_info(number);
      if (!info)
        return to_caf_error(protocol::unsupported_api_error(number));
      if (st.read_only && info->access == protocol::access::write)
        return to_caf_error(read_only_error(info->api));
      switch (info->id) {
        case proc::connect_open:
          return make_caf_error(error_code::internal_error, error_domain::rpc,
                                "internal error: connection already open");
        case proc::connect_close:
          close();
          return xdr::buffer{};
        case proc::connect_get_uri:
          return encoded(protocol::connect_get_uri_ret{st.uri});
        case proc::connect_is_secure:
          return encoded(protocol::connect_is_secure_ret{1});
        case proc::auth_list: {
          protocol::auth_list_ret ret;
          ret.types.push_back(protocol::auth_type::none);
          return encoded(ret);
        }
        case proc::connect_register_close_callback:
        case proc::connect_unregister_close_callback:
          return xdr::buffer{};
        case proc::connect_domain_event_register_any:
        case proc::connect_domain_event_deregister_any:
        case proc::connect_domain_event_callback_register_any:
        case proc::connect_domain_event_callback_deregister_any:
          return make_caf_error(error_code::no_support, error_domain::none,
                                "domain events are delivered through subscriptions, "
                                "not through raw calls");
        default:
          self->delegate(st.owner, call_atom::value, number, std::move(args), st.read_only);
          return caf::delegated<xdr::buffer>{};
      }
    },
    [self](subscribe_atom, int32_t event_id, domain_filter& filter,
           caf::actor& sink) -> caf::result<int32_t> {
      auto& st = self->state;
      if (event_id < 0 || event_id >= domain_event_id_last)
        return make_caf_error(error_code::invalid_arg, error_domain::none,
                              "invalid argument: unsupported event ID " +
                                std::to_string(event_id));
      if (!st.listening) {
        self->send(st.owner, subscribe_atom::value, caf::actor{self});
        st.listening = true;
      }
      auto id = st.next_callback++;
      st.subs.emplace(id, subscription{event_id, std::move(filter), std::move(sink)});
      return id;
    },
    [self](unsubscribe_atom, int32_t callback_id) -> caf::result<bool> {
      if (self->state.subs.erase(callback_id) == 0)
        return make_caf_error(error_code::invalid_arg, error_domain::none,
                              "invalid argument: callback ID " + std::to_string(callback_id) +
                                " not registered");
      return true;
    },
    [self](watch_atom, caf::actor& sink) {
      self->state.watchers.push_back(std::move(sink));
      return true;
    },
    [self](uri_atom) { return self->state.uri; },
    [close](close_atom) {
      close();
      return true;
    },
    [self](publish_atom, const domain_event& ev) {
      for (auto& [id, sub] : self->state.subs) {
        if (!matches(sub, ev))
          continue;
        auto copy = ev;
        copy.callback_id = id;
        self->send(sub.sink, std::move(copy));
      }
    },
  };
}

} // namespace

connection_actor spawn_local_connection(caf::actor_system& sys, caf::actor owner,
                                        std::string uri, uint32_t flags) {
  return caf::actor_cast<connection_actor>(
    sys.spawn(local_connection, std::move(owner), std::move(uri), flags));
}

} // namespace virtactor::drivers
