/// The asynchronous actor API: open connections and make typed calls from any
/// event-based actor, with a response handler, an error handler and a
/// deadline on every request. Many connections to many hosts can be in flight
/// from one actor; nothing blocks a thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/error.hpp"
#include "actors/events.hpp"
#include "actors/interfaces.hpp"
#include "client/registry.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::client {

/// Opens `uri` from `self`: `on_ok(connection_actor)` or `on_err(virt_error)`.
///
/// The connection belongs to `self`: close it with `client::close` when done;
/// at the latest it is closed when `self` ends. (To open a connection that
/// outlives its opener, ask `driver_registry(sys)` for it directly and close
/// it yourself.)
template <class Self, class OnOk, class OnErr>
void open(Self* self, const std::string& uri, uint32_t flags, const open_options& opts,
          OnOk on_ok, OnErr on_err) {
  self->request(driver_registry(self->system()), open_timeout, open_atom::value, uri, flags, opts)
    .then(
      [self, on_ok](const connection_actor& conn) mutable {
        close_with_owner(self->system(), self->address(), conn);
        on_ok(conn);
      },
      [on_err](caf::error& err) mutable { on_err(from_caf_error(err, "connection open")); });
}

/// Closes `conn` (`virConnectClose`). The connection ends its subscriptions
/// and its transport, then its actor quits; `self` gets no reply message, so
/// it may quit right after this call.
template <class Self>
void close(Self*, const connection_actor& conn) {
  caf::anon_send(conn, close_atom::value);
}

/// Closes `conn` and calls `on_done()` once it is closed (or could not be
/// reached within `timeout`).
template <class Self, class OnDone>
void close(Self* self, const connection_actor& conn, std::chrono::milliseconds timeout,
           OnDone on_done) {
  self->request(conn, timeout, close_atom::value)
    .then([on_done](bool) mutable { on_done(); }, [on_done](caf::error&) mutable { on_done(); });
}

/// Calls procedure `P` on `conn` from `self`: `on_ok(ret)` with the decoded
/// return struct, or `on_err(virt_error)` (including a timeout after `timeout`).
template <protocol::proc P, class Self, class OnOk, class OnErr>
void call(Self* self, const connection_actor& conn,
          const typename protocol::proc_traits<P>::args& args, std::chrono::milliseconds timeout,
          OnOk on_ok, OnErr on_err) {
  using ret_t = typename protocol::proc_traits<P>::ret;
  xdr::buffer encoded;
  if (auto err = xdr::encode_checked(encoded, args); !err.empty()) {
    on_err(make_virt_error(error_code::rpc, error_domain::rpc,
                           "Unable to encode message payload: " + err));
    return;
  }
  self->request(conn, timeout, call_atom::value, static_cast<int32_t>(P), std::move(encoded))
    .then(
      [on_ok, on_err](const xdr::buffer& reply) mutable {
        ret_t ret{};
        if (auto err = xdr::decode(reply, ret); !err.empty()) {
          on_err(make_virt_error(error_code::rpc, error_domain::rpc,
                                 "Unable to decode message payload"));
          return;
        }
        on_ok(std::move(ret));
      },
      [on_err](caf::error& err) mutable {
        on_err(from_caf_error(err, protocol::proc_traits<P>::api));
      });
}

/// Subscribes `sink` to domain events `id` of `conn` (of one domain when
/// `filter` names it, else of all): `sink` receives `domain_event` messages,
/// `on_ok(callback_id)` tells the subscription's id. With a reconnect policy
/// (`open_options::reconnect_attempts`) the subscription survives a
/// reconnect under the same id.
template <class Self, class OnOk, class OnErr>
void subscribe(Self* self, const connection_actor& conn, domain_event_id id,
               const domain_filter& filter, const caf::actor& sink,
               std::chrono::milliseconds timeout, OnOk on_ok, OnErr on_err) {
  self->request(conn, timeout, subscribe_atom::value, static_cast<int32_t>(id), filter, sink)
    .then([on_ok](int32_t callback_id) mutable { on_ok(callback_id); },
          [on_err](caf::error& err) mutable {
            on_err(from_caf_error(err, "virConnectDomainEventRegisterAny"));
          });
}

/// Asks `conn` to tell `sink` when it is lost (`connection_closed`, libvirt's
/// close callback) and, with a reconnect policy, when it is back
/// (`connection_resumed`).
template <class Self, class OnErr>
void watch(Self* self, const connection_actor& conn, const caf::actor& sink,
           std::chrono::milliseconds timeout, OnErr on_err) {
  self->request(conn, timeout, watch_atom::value, sink)
    .then([](bool) {
            // nop: watching
          },
          [on_err](caf::error& err) mutable {
            on_err(from_caf_error(err, "virConnectRegisterCloseCallback"));
          });
}

} // namespace virtactor::client
