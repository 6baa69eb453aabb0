#include "drivers/local_connection.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

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

call_step prepare_call(const std::string& uri, bool read_only, int32_t number,
                       const xdr::buffer& args) {
  call_step step;
  auto refuse = [&](virt_error e) {
    step.what = call_step::refuse;
    step.error = std::move(e);
    return std::move(step);
  };
  auto info = protocol::find_proc_info(number);
  if (!info)
    return refuse(protocol::unsupported_api_error(number));
  if (read_only && info->access == protocol::access::write)
    return refuse(read_only_error(info->api));
  switch (info->id) {
    case proc::connect_open:
      return refuse(make_virt_error(error_code::internal_error, error_domain::rpc,
                                    "internal error: connection already open"));
    case proc::connect_get_uri:
      step.reply = xdr::encode(protocol::connect_get_uri_ret{uri});
      return step;
    case proc::connect_is_secure:
      step.reply = xdr::encode(protocol::connect_is_secure_ret{1});
      return step;
    case proc::auth_list: {
      protocol::auth_list_ret ret;
      ret.types.push_back(protocol::auth_type::none);
      step.reply = xdr::encode(ret);
      return step;
    }
    case proc::connect_register_close_callback:
    case proc::connect_unregister_close_callback:
      return step;
    case proc::connect_domain_event_register_any:
    case proc::connect_domain_event_deregister_any:
    case proc::connect_domain_event_callback_register_any:
    case proc::connect_domain_event_callback_deregister_any:
      return refuse(make_virt_error(error_code::no_support, error_domain::none,
                                    "domain events are delivered through subscriptions, "
                                    "not through raw calls"));
    default:
      break;
  }
  step.call.proc = number;
  step.call.read_only = read_only;
  if (!protocol::decode_args(number, args.data(), args.size(), step.call.args).empty())
    return refuse(
      make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload"));
  step.what = call_step::to_state;
  return step;
}

namespace {

struct subscription {
  int32_t event_id = 0;
  domain_filter filter;
  caf::actor sink;
};

struct conn_state {
  // Not an aggregate: CAF 0.17 would try to build a C++20 aggregate from the
  // actor pointer (its first member is a typed handle).
  conn_state() = default;
  conf::state_actor owner;
  caf::actor driver;
  bool closing = false;
  std::string uri;
  bool read_only = false;
  bool listening = false;
  int32_t next_callback = 0;
  std::map<int32_t, subscription> subs;
  std::vector<caf::actor> watchers;
  static inline const char* name = "va_local_conn";
};

/// The connection interface, and the events its driver state publishes.
using local_conn_actor = connection_actor::extend<
  caf::reacts_to<publish_atom, domain_event>,
  caf::replies_to<driver_state_atom>::with<conf::state_actor, std::string>>;
using conn_ptr = local_conn_actor::stateful_pointer<conn_state>;

bool matches(const subscription& s, const domain_event& ev) {
  return s.event_id == ev.event_id && (s.filter.empty() || s.filter.front().uuid == ev.dom.uuid);
}

/// How long a driver may take to confirm that a closing connection is released.
constexpr auto release_timeout = std::chrono::seconds{10};

/// Ends the connection: stops listening, lets the driver release it, then
/// confirms through `confirm` and quits.
void close_connection(conn_ptr self, std::function<void()> confirm) {
  auto& st = self->state;
  if (st.listening)
    self->send(st.owner, unsubscribe_atom::value, caf::actor_cast<conf::event_listener>(self));
  st.listening = false;
  st.closing = true;
  if (!st.driver) {
    confirm();
    self->quit();
    return;
  }
  self->request(st.driver, release_timeout, release_atom::value, self->address())
    .then(
      [self, confirm](bool) {
        confirm();
        self->quit();
      },
      [self, confirm](const caf::error&) {
        confirm();
        self->quit();
      });
}

local_conn_actor::behavior_type local_connection(conn_ptr self, conf::state_actor owner, std::string uri, uint32_t flags,
                      caf::actor driver) {
  self->state.owner = std::move(owner);
  self->state.driver = std::move(driver);
  self->state.uri = std::move(uri);
  self->state.read_only = (flags & 1u) != 0;
  self->monitor(self->state.owner);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (dm.source != self->state.owner.address())
      return;
    // The driver state died under us: tell the watchers, then end.
    // Sent as this connection: a host of many sessions (the daemon's
    // listeners) finds the session by its sender.
    for (auto& w : self->state.watchers)
      caf::send_as(caf::actor_cast<caf::actor>(self), w,
                   connection_closed{static_cast<int32_t>(close_reason::error)});
    self->quit(dm.reason);
  });
  return {
    [self](call_atom, int32_t number, xdr::buffer& args) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      if (number == static_cast<int32_t>(proc::connect_close)) {
        auto rp = self->make_response_promise<xdr::buffer>();
        close_connection(self, [rp]() mutable { rp.deliver(xdr::buffer{}); });
        return rp;
      }
      auto step = prepare_call(st.uri, st.read_only, number, args);
      switch (step.what) {
        case call_step::answer:
          return std::move(step.reply);
        case call_step::refuse:
          return to_caf_error(step.error);
        case call_step::to_state:
          break;
      }
      self->delegate(st.owner, call_atom::value, std::move(step.call));
      return caf::delegated<xdr::buffer>{};
    },
    [self](driver_state_atom) { return std::make_tuple(self->state.owner, self->state.uri); },
    [self](subscribe_atom, int32_t event_id, domain_filter& filter,
           caf::actor& sink) -> caf::result<int32_t> {
      auto& st = self->state;
      if (event_id < 0 || event_id >= domain_event_id_last)
        return make_caf_error(error_code::invalid_arg, error_domain::none,
                              "invalid argument: unsupported event ID " +
                                std::to_string(event_id));
      if (!st.listening) {
        self->send(st.owner, subscribe_atom::value, caf::actor_cast<conf::event_listener>(self));
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
    [self](close_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      close_connection(self, [rp]() mutable { rp.deliver(true); });
      return rp;
    },
    [self](publish_atom, const domain_event& ev) {
      for (auto& [id, sub] : self->state.subs) {
        if (!matches(sub, ev))
          continue;
        auto copy = ev;
        copy.callback_id = id;
        caf::send_as(caf::actor_cast<caf::actor>(self), sub.sink,
                     std::move(copy)); // as this connection (see above)
      }
    },
  };
}

} // namespace

connection_actor spawn_local_connection(caf::actor_system& sys, conf::state_actor owner,
                                        std::string uri, uint32_t flags, caf::actor driver) {
  return caf::actor_cast<connection_actor>(
    sys.spawn(local_connection, std::move(owner), std::move(uri), flags, std::move(driver)));
}

} // namespace virtactor::drivers
