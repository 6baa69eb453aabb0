#include "daemon/session.hpp"

#include <chrono>
#include <list>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "protocol/api_names.hpp"
#include "protocol/header.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::daemon {

using protocol::header;
using protocol::msg_status;
using protocol::msg_type;
using protocol::proc;

namespace {

/// libvirt's internal `virDrvFeature` numbers the daemon answers itself.
enum feature : int32_t {
  feature_fd_passing = 8,
  feature_program_keepalive = 10,
  feature_remote_event_callback = 14,
  feature_remote_close_callback = 15,
};

/// A call waiting for a free request slot (`max_client_requests`).
struct queued_call {
  header hdr;
  xdr::buffer args;
};

/// A call the driver is working on: its header and when it times out.
struct running_call {
  header hdr;
  std::chrono::steady_clock::time_point deadline;
};

/// Wakes a session to time out calls past their deadline.
using deadline_atom = caf::atom_constant<caf::atom("va_dline")>;

struct session_state {
  caf::actor broker;
  std::shared_ptr<const session_options> opts;
  connection_actor conn;       // the driver connection, once open
  bool opening = false;        // CONNECT_OPEN in flight
  bool read_only = false;      // of the driver connection
  bool closing = false;        // CONNECT_CLOSE answered or stream gone
  bool keepalive = false;      // client asked SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
  bool close_callback = false; // CONNECT_REGISTER_CLOSE_CALLBACK
  int idle_ticks = 0;          // keepalive intervals without traffic
  int unanswered = 0;          // PINGs sent since the last message from the client
  // Calls the driver is working on, by session-local id: ids grow and every
  // call has the same timeout, so the first entry has the earliest deadline.
  // The session keeps these deadlines itself (one timer per session, not a
  // CAF request timeout per call: see docs/benchmarks.md).
  std::map<uint64_t, running_call> running;
  uint64_t next_call_id = 0;
  bool deadline_timer = false; // a deadline_atom is on its way
  // A list allocates nothing while empty; most sessions never queue a call.
  std::list<queued_call> waiting;
  std::map<int32_t, int32_t> legacy_events; // eventID -> callback id (procs 167/168)
  static inline const char* name = "va_session";
};

using session_ptr = caf::stateful_actor<session_state>*;

void send_frame(session_ptr self, xdr::buffer msg) {
  self->send(self->state.broker, frame_atom::value, std::move(msg));
}

header reply_header(const header& call, msg_status status) {
  header h = call;
  h.type = msg_type::reply;
  h.status = status;
  return h;
}

void reply_ok(session_ptr self, const header& call, const xdr::buffer& payload) {
  send_frame(self, protocol::make_message_raw(reply_header(call, msg_status::ok), payload.data(),
                                              payload.size()));
}

template <class T>
void reply_value(session_ptr self, const header& call, const T& ret) {
  send_frame(self, protocol::make_message(reply_header(call, msg_status::ok), ret));
}

protocol::remote_error to_remote_error(const virt_error& e) {
  protocol::remote_error r;
  r.code = static_cast<int32_t>(e.code);
  r.domain = static_cast<int32_t>(e.domain);
  r.message = e.message;
  r.level = static_cast<int32_t>(e.level);
  r.str1 = e.message;
  return r;
}

void reply_error(session_ptr self, const header& call, const virt_error& e) {
  send_frame(self, protocol::make_message(reply_header(call, msg_status::error), to_remote_error(e)));
}

/// The exact error libvirtd gives for procedures it does not know; virsh's
/// fallbacks depend on it (code RPC, domain RPC, "unknown procedure: N").
void reply_unknown_proc(session_ptr self, const header& call) {
  auto text = "unknown procedure: " + std::to_string(call.proc);
  protocol::remote_error r;
  r.code = static_cast<int32_t>(error_code::rpc);
  r.domain = static_cast<int32_t>(error_domain::rpc);
  r.message = text;
  r.level = static_cast<int32_t>(error_level::error);
  r.str1 = std::string{"%s"};
  r.str2 = text;
  send_frame(self, protocol::make_message(reply_header(call, msg_status::error), r));
}

virt_error rpc_error(std::string message) {
  return make_virt_error(error_code::rpc, error_domain::rpc, std::move(message));
}

virt_error not_open_error() {
  return make_virt_error(error_code::internal_error, error_domain::rpc,
                         "internal error: hypervisor connection not open");
}

void send_event_message(session_ptr self, int32_t number, const xdr::buffer& body) {
  header h;
  h.proc = number;
  h.type = msg_type::message;
  h.serial = 1; // what libvirtd 9.0 sends on events; clients ignore it
  send_frame(self, protocol::make_message_raw(h, body.data(), body.size()));
}

/// An event whose message is the domain alone (reboot, control error): the
/// legacy message or the callback one carrying the subscription's id.
template <class Msg, class CallbackMsg>
void send_domain_only_event(session_ptr self, const domain_event& ev, bool legacy,
                            int32_t legacy_proc, int32_t callback_proc) {
  xdr::buffer body;
  Msg msg{ev.dom};
  if (legacy) {
    xdr::encode_into(body, msg);
    send_event_message(self, legacy_proc, body);
  } else {
    xdr::encode_into(body, CallbackMsg{ev.callback_id, msg});
    send_event_message(self, callback_proc, body);
  }
}

void send_keepalive(session_ptr self, protocol::keepalive_proc p) {
  header h;
  h.prog = protocol::program::keepalive;
  h.proc = static_cast<int32_t>(p);
  h.type = msg_type::message;
  h.serial = 0;
  send_frame(self, protocol::make_message(h, xdr::empty{}));
}

void shutdown(session_ptr self) {
  auto& st = self->state;
  if (st.conn)
    self->send(st.conn, close_atom::value);
  st.conn = nullptr;
  self->quit();
}

/// After the reply to CONNECT_CLOSE: let the broker flush and close.
void close_stream(session_ptr self) {
  self->state.closing = true;
  self->send(self->state.broker, close_atom::value);
  shutdown(self);
}

template <class T>
bool decode_args(session_ptr self, const header& hdr, const xdr::buffer& args, T& out) {
  if (auto err = xdr::decode(args, out); !err.empty()) {
    reply_error(self, hdr, rpc_error("Unable to decode message payload"));
    return false;
  }
  return true;
}

void start_next_call(session_ptr self);

/// Arms the deadline timer for the earliest running call, unless armed.
void arm_deadline(session_ptr self) {
  auto& st = self->state;
  if (st.deadline_timer || st.running.empty())
    return;
  st.deadline_timer = true;
  auto wait = st.running.begin()->second.deadline - std::chrono::steady_clock::now();
  if (wait < std::chrono::steady_clock::duration::zero())
    wait = std::chrono::steady_clock::duration::zero();
  self->delayed_send(self, wait, deadline_atom::value);
}

/// Answers every call past its deadline with a timeout (a late reply from
/// the driver is then dropped), and re-arms the timer for the rest.
void expire_calls(session_ptr self) {
  auto& st = self->state;
  st.deadline_timer = false;
  auto now = std::chrono::steady_clock::now();
  while (!st.running.empty() && st.running.begin()->second.deadline <= now) {
    auto hdr = st.running.begin()->second.hdr;
    st.running.erase(st.running.begin());
    if (!st.closing)
      reply_error(self, hdr,
                  from_caf_error(caf::make_error(caf::sec::request_timeout),
                                 protocol::proc_name(hdr.proc)));
  }
  arm_deadline(self);
  start_next_call(self);
}

/// Forwards a decoded-and-checked call to the driver connection. The request
/// itself carries no CAF timeout: the session's own deadline (opts.call_timeout)
/// answers the client if the driver never does.
void forward_call(session_ptr self, header hdr, xdr::buffer args) {
  auto& st = self->state;
  auto id = st.next_call_id++;
  st.running.emplace(id, running_call{hdr, std::chrono::steady_clock::now() + st.opts->call_timeout});
  arm_deadline(self);
  self->request(st.conn, caf::infinite, call_atom::value, hdr.proc, std::move(args))
    .then(
      [self, hdr, id](const xdr::buffer& ret) {
        if (self->state.running.erase(id) == 0)
          return; // answered already: it timed out
        if (!self->state.closing)
          reply_ok(self, hdr, ret);
        if (hdr.proc == static_cast<int32_t>(proc::connect_close))
          close_stream(self);
        else
          start_next_call(self);
      },
      [self, hdr, id](caf::error& err) {
        if (self->state.running.erase(id) == 0)
          return;
        if (!self->state.closing)
          reply_error(self, hdr, from_caf_error(err, protocol::proc_name(hdr.proc)));
        start_next_call(self);
      });
}

void start_next_call(session_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests &&
         st.conn) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    forward_call(self, next.hdr, std::move(next.args));
  }
}

void handle_open(session_ptr self, const header& hdr, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_open_args a;
  if (!decode_args(self, hdr, args, a))
    return;
  if (st.conn || st.opening) {
    reply_error(self, hdr,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: connection already open"));
    return;
  }
  uint32_t flags = a.flags;
  if (st.opts->read_only_socket)
    flags |= 1u; // VIR_CONNECT_RO
  // A NULL name means "the default": the daemon's own choice.
  std::string name = a.name.value_or("test:///default");
  st.opening = true;
  self->request(st.opts->registry, std::chrono::seconds{90}, open_atom::value, name, flags,
                open_options{})
    .then(
      [self, hdr, flags](const connection_actor& conn) {
        auto& st = self->state;
        st.opening = false;
        st.conn = conn;
        st.read_only = (flags & 1u) != 0;
        self->monitor(conn);
        self->request(conn, std::chrono::seconds{30}, watch_atom::value, caf::actor{self})
          .then([](bool) {}, [](caf::error&) {});
        reply_value(self, hdr, xdr::empty{});
        start_next_call(self);
      },
      [self, hdr](caf::error& err) {
        self->state.opening = false;
        reply_error(self, hdr, from_caf_error(err, "virConnectOpen"));
      });
}

void handle_supports_feature(session_ptr self, const header& hdr, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_supports_feature_args a;
  if (!decode_args(self, hdr, args, a))
    return;
  int32_t answer = -1;
  switch (a.feature) {
    case feature_program_keepalive:
      // The client has an event loop and answers PINGs: start pinging it.
      st.keepalive = st.opts->keepalive_interval > 0;
      answer = 1;
      break;
    case feature_remote_event_callback:
    case feature_remote_close_callback:
      answer = 1;
      break;
    case feature_fd_passing:
      answer = st.opts->unix_socket ? 1 : 0;
      break;
    default:
      break;
  }
  if (answer >= 0) {
    if (!st.conn && a.feature != feature_program_keepalive)
      reply_error(self, hdr, not_open_error());
    else
      reply_value(self, hdr, protocol::connect_supports_feature_ret{answer});
    return;
  }
  if (!st.conn) {
    reply_error(self, hdr, not_open_error());
    return;
  }
  forward_call(self, hdr, args);
}

void handle_event_register(session_ptr self, const header& hdr, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_callback_register_any_args a;
  if (!decode_args(self, hdr, args, a))
    return;
  domain_filter filter;
  if (a.dom)
    filter.push_back(*a.dom);
  self->request(st.conn, std::chrono::seconds{30}, subscribe_atom::value, a.event_id, filter,
                caf::actor{self})
    .then(
      [self, hdr](int32_t id) {
        reply_value(self, hdr, protocol::connect_domain_event_callback_register_any_ret{id});
      },
      [self, hdr](caf::error& err) { reply_error(self, hdr, from_caf_error(err)); });
}

void handle_event_deregister(session_ptr self, const header& hdr, int32_t callback_id) {
  self->request(self->state.conn, std::chrono::seconds{30}, unsubscribe_atom::value, callback_id)
    .then([self, hdr](bool) { reply_value(self, hdr, xdr::empty{}); },
          [self, hdr](caf::error& err) { reply_error(self, hdr, from_caf_error(err)); });
}

void handle_legacy_event_register(session_ptr self, const header& hdr, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(self, hdr, args, a))
    return;
  if (st.legacy_events.count(a.event_id)) {
    reply_error(self, hdr,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " already registered"));
    return;
  }
  self->request(st.conn, std::chrono::seconds{30}, subscribe_atom::value, a.event_id,
                domain_filter{}, caf::actor{self})
    .then(
      [self, hdr, ev = a.event_id](int32_t id) {
        self->state.legacy_events[ev] = id;
        reply_value(self, hdr, xdr::empty{});
      },
      [self, hdr](caf::error& err) { reply_error(self, hdr, from_caf_error(err)); });
}

void handle_legacy_event_deregister(session_ptr self, const header& hdr, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(self, hdr, args, a))
    return;
  auto i = st.legacy_events.find(a.event_id);
  if (i == st.legacy_events.end()) {
    reply_error(self, hdr,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " not registered"));
    return;
  }
  auto id = i->second;
  st.legacy_events.erase(i);
  handle_event_deregister(self, hdr, id);
}

void handle_remote_call(session_ptr self, const header& hdr, xdr::buffer args) {
  auto& st = self->state;
  if (hdr.status != msg_status::ok) {
    reply_error(self, hdr,
                rpc_error("Unexpected message status " +
                          std::to_string(static_cast<int32_t>(hdr.status))));
    return;
  }
  auto info = protocol::find_proc_info(hdr.proc);
  if (!info && protocol::proc_name(hdr.proc).empty()) {
    reply_unknown_proc(self, hdr);
    return;
  }
  if (!info) {
    // A procedure libvirt 9.0 defines that no driver here implements:
    // libvirtd dispatches it and the driver refuses it by its API's name
    // ("this function is not supported by the connection driver:
    // virDomainMemoryStats"); so do we, once the connection is open.
    if (!st.conn)
      reply_error(self, hdr, not_open_error());
    else
      reply_error(self, hdr, protocol::unsupported_api_error(hdr.proc));
    return;
  }
  if (auto err = protocol::check_args(hdr.proc, args.data(), args.size()); !err.empty()) {
    reply_error(self, hdr, rpc_error("Unable to decode message payload"));
    return;
  }
  switch (info->id) {
    case proc::auth_list: {
      protocol::auth_list_ret ret;
      ret.types.push_back(protocol::auth_type::none);
      reply_value(self, hdr, ret);
      return;
    }
    case proc::connect_supports_feature:
      handle_supports_feature(self, hdr, args);
      return;
    case proc::connect_open:
      handle_open(self, hdr, args);
      return;
    default:
      break;
  }
  if (!st.conn) {
    reply_error(self, hdr, not_open_error());
    return;
  }
  switch (info->id) {
    case proc::connect_close:
      // Replies go out in order: answer once earlier calls are done.
      st.waiting.push_back({hdr, std::move(args)});
      start_next_call(self);
      return;
    case proc::connect_is_secure:
      reply_value(self, hdr,
                  protocol::connect_is_secure_ret{st.opts->unix_socket || st.opts->tls ? 1 : 0});
      return;
    case proc::connect_register_close_callback:
      st.close_callback = true;
      reply_value(self, hdr, xdr::empty{});
      return;
    case proc::connect_unregister_close_callback:
      st.close_callback = false;
      reply_value(self, hdr, xdr::empty{});
      return;
    case proc::connect_domain_event_callback_register_any:
      handle_event_register(self, hdr, args);
      return;
    case proc::connect_domain_event_callback_deregister_any: {
      protocol::connect_domain_event_callback_deregister_any_args a;
      if (decode_args(self, hdr, args, a))
        handle_event_deregister(self, hdr, a.callback_id);
      return;
    }
    case proc::connect_domain_event_register_any:
      handle_legacy_event_register(self, hdr, args);
      return;
    case proc::connect_domain_event_deregister_any:
      handle_legacy_event_deregister(self, hdr, args);
      return;
    default:
      break;
  }
  if (st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests) {
    forward_call(self, hdr, std::move(args)); // a free slot: no queueing
    return;
  }
  st.waiting.push_back({hdr, std::move(args)});
  start_next_call(self);
}

void handle_frame(session_ptr self, xdr::buffer& frame) {
  auto& st = self->state;
  header hdr;
  if (auto err = protocol::decode_header(frame.data(), frame.size(), hdr); !err.empty()) {
    shutdown(self);
    return;
  }
  st.idle_ticks = 0;
  st.unanswered = 0;
  if (hdr.prog == protocol::program::keepalive && hdr.vers == protocol::program_version &&
      hdr.type == msg_type::message) {
    if (hdr.proc == static_cast<int32_t>(protocol::keepalive_proc::ping))
      send_keepalive(self, protocol::keepalive_proc::pong);
    return; // a PONG only proves the client is alive
  }
  if (hdr.type != msg_type::call) {
    // libvirtd ignores replies and events from clients; streams are not open.
    return;
  }
  if (hdr.prog != protocol::program::remote || hdr.vers != protocol::program_version) {
    reply_error(self, hdr,
                rpc_error("Cannot find program " + std::to_string(hdr.prog) + " version " +
                          std::to_string(hdr.vers)));
    return;
  }
  xdr::buffer args(frame.begin() + protocol::header_size, frame.end());
  handle_remote_call(self, hdr, std::move(args));
}

void keepalive_tick(session_ptr self) {
  auto& st = self->state;
  auto interval = st.opts->keepalive_interval;
  if (interval <= 0)
    return;
  self->delayed_send(self, std::chrono::seconds{interval}, tick_atom::value);
  if (!st.keepalive)
    return;
  if (st.idle_ticks++ == 0)
    return; // traffic within the last interval
  if (st.unanswered >= st.opts->keepalive_count) {
    // The client stopped answering: drop it.
    self->send(st.broker, close_atom::value);
    shutdown(self);
    return;
  }
  ++st.unanswered;
  send_keepalive(self, protocol::keepalive_proc::ping);
}

caf::behavior session(session_ptr self, caf::actor broker,
                      std::shared_ptr<const session_options> opts) {
  self->state.broker = std::move(broker);
  self->state.opts = std::move(opts);
  self->monitor(self->state.broker);
  self->attach_functor([opts = self->state.opts] {
    if (opts->on_exit)
      opts->on_exit();
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.broker.address()) {
      shutdown(self);
    } else if (st.conn && dm.source == st.conn.address()) {
      // The driver connection ended under us.
      st.conn = nullptr;
      if (st.close_callback) {
        xdr::buffer body;
        xdr::encode_into(body, protocol::connect_event_connection_closed_msg{
                                 static_cast<int32_t>(close_reason::error)});
        send_event_message(self, protocol::proc_connect_event_connection_closed, body);
      }
    }
  });
  if (self->state.opts->keepalive_interval > 0)
    self->delayed_send(self, std::chrono::seconds{self->state.opts->keepalive_interval},
                       tick_atom::value);
  return {
    [self](frame_atom, xdr::buffer& frame, caf::actor_id) { handle_frame(self, frame); },
    [self](closed_atom, const std::string&, caf::actor_id) { shutdown(self); },
    [self](tick_atom) { keepalive_tick(self); },
    [self](deadline_atom) { expire_calls(self); },
    [self](const domain_event& ev) {
      xdr::buffer body;
      bool legacy = false;
      for (auto& [event_id, id] : self->state.legacy_events)
        if (id == ev.callback_id)
          legacy = true;
      protocol::domain_event_lifecycle_msg msg{ev.dom, ev.event, ev.detail};
      if (ev.event_id == static_cast<int32_t>(domain_event_id::lifecycle)) {
        if (legacy) {
          xdr::encode_into(body, msg);
          send_event_message(self, protocol::proc_domain_event_lifecycle, body);
        } else {
          xdr::encode_into(body, protocol::domain_event_callback_lifecycle_msg{ev.callback_id, msg});
          send_event_message(self, protocol::proc_domain_event_callback_lifecycle, body);
        }
      } else if (ev.event_id == static_cast<int32_t>(domain_event_id::reboot)) {
        send_domain_only_event<protocol::domain_event_reboot_msg,
                               protocol::domain_event_callback_reboot_msg>(
          self, ev, legacy, protocol::proc_domain_event_reboot,
          protocol::proc_domain_event_callback_reboot);
      } else if (ev.event_id == static_cast<int32_t>(domain_event_id::control_error)) {
        send_domain_only_event<protocol::domain_event_control_error_msg,
                               protocol::domain_event_callback_control_error_msg>(
          self, ev, legacy, protocol::proc_domain_event_control_error,
          protocol::proc_domain_event_callback_control_error);
      }
    },
    [self](const connection_closed& cc) {
      if (!self->state.close_callback)
        return;
      xdr::buffer body;
      xdr::encode_into(body, protocol::connect_event_connection_closed_msg{cc.reason});
      send_event_message(self, protocol::proc_connect_event_connection_closed, body);
    },
    [](const connection_resumed&) {
      // nop: only remote connections reconnect
    },
  };
}

} // namespace

caf::actor spawn_session(caf::actor_system& sys, caf::actor broker,
                         std::shared_ptr<const session_options> opts) {
  return sys.spawn(session, std::move(broker), std::move(opts));
}

} // namespace virtactor::daemon
