#include "daemon/session.hpp"

#include <cerrno>
#include <chrono>
#include <list>
#include <map>

#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "actors/sasl.hpp"
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

/// A received call: its header and its size on the wire. The size is
/// released to the broker with the reply (the broker bounds what is pending).
struct inbound {
  header hdr;
  uint32_t bytes = 0;
};

/// A call waiting for a free request slot (`max_client_requests`).
struct queued_call {
  inbound in;
  xdr::buffer args;
};

/// A call the driver is working on: what it was and when it times out.
struct running_call {
  inbound in;
  std::chrono::steady_clock::time_point deadline;
};

/// A request the session sends itself and never answers: its timeout is the
/// session's timer. CAF cancels request timeouts when an actor ends, while a
/// delayed message would keep an ended session's memory until it fires
/// (CAF 0.17's clock holds its receiver).
using wake_atom = caf::atom_constant<caf::atom("va_wake")>;

struct session_state {
  caf::actor broker;
  std::shared_ptr<const session_options> opts;
  client_info client;
  connection_actor conn;       // the driver connection, once open
  bool opening = false;        // CONNECT_OPEN in flight
  bool read_only = false;      // of the driver connection
  bool closing = false;        // CONNECT_CLOSE answered or stream gone
  bool authenticated = false;  // auth none, or SASL done
  std::unique_ptr<sasl::server> sasl; // between AUTH_SASL_INIT and the end of the exchange
  bool keepalive = false;      // client asked SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
  bool close_callback = false; // CONNECT_REGISTER_CLOSE_CALLBACK
  // libvirt's keepalive: the last message from the client, and the PINGs
  // still allowed before the client counts as dead.
  std::chrono::steady_clock::time_point last_rx = std::chrono::steady_clock::now();
  int count_to_death = 0;
  bool keepalive_timer = false;
  // Calls the driver is working on, by session-local id: ids grow and every
  // call has the same timeout, so the first entry has the earliest deadline.
  // The session keeps these deadlines itself (one timer per session, not a
  // CAF request timeout per call: see docs/benchmarks.md).
  std::map<uint64_t, running_call> running;
  uint64_t next_call_id = 0;
  bool deadline_timer = false; // a wake-up is armed
  // A list allocates nothing while empty; most sessions never queue a call.
  std::list<queued_call> waiting;
  std::map<int32_t, int32_t> legacy_events; // eventID -> callback id (procs 167/168)
  static inline const char* name = "va_session";
};

using session_ptr = caf::stateful_actor<session_state>*;

/// Runs `fn` after `delay`, unless the session ends first.
template <class F>
void wake_after(session_ptr self, std::chrono::steady_clock::duration delay, F fn) {
  if (delay < std::chrono::milliseconds{1})
    delay = std::chrono::milliseconds{1};
  self->request(caf::actor{self}, delay, wake_atom::value)
    .then([](bool) {},
          [self, fn](caf::error& err) {
            if (err == caf::sec::request_timeout)
              fn(self);
          });
}

void send_frame(session_ptr self, xdr::buffer msg) {
  self->send(self->state.broker, frame_atom::value, std::move(msg));
}

/// Writes the reply to `in` and releases `in` at the broker.
void send_reply(session_ptr self, const inbound& in, xdr::buffer msg) {
  self->send(self->state.broker, frame_atom::value, std::move(msg), in.bytes);
}

/// Releases a received message that gets no reply.
void release(session_ptr self, const inbound& in) {
  self->send(self->state.broker, release_atom::value, in.bytes);
}

header reply_header(const header& call, msg_status status) {
  header h = call;
  h.type = msg_type::reply;
  h.status = status;
  return h;
}

void reply_ok(session_ptr self, const inbound& in, const xdr::buffer& payload) {
  send_reply(self, in,
             protocol::make_message_raw(reply_header(in.hdr, msg_status::ok), payload.data(),
                                        payload.size()));
}

template <class T>
void reply_value(session_ptr self, const inbound& in, const T& ret) {
  send_reply(self, in, protocol::make_message(reply_header(in.hdr, msg_status::ok), ret));
}

/// Cuts `text` to at most `max` bytes on a UTF-8 character boundary.
std::string bounded(std::string text, size_t max) {
  if (text.size() <= max)
    return text;
  constexpr std::string_view mark = " [truncated]";
  size_t keep = max > mark.size() ? max - mark.size() : 0;
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80)
    --keep;
  text.resize(keep);
  text += mark.substr(0, max - keep);
  return text;
}

protocol::remote_error to_remote_error(const virt_error& e, size_t max_length) {
  protocol::remote_error r;
  r.code = static_cast<int32_t>(e.code);
  r.domain = static_cast<int32_t>(e.domain);
  r.message = bounded(e.message, max_length);
  r.level = static_cast<int32_t>(e.level);
  r.str1 = r.message;
  return r;
}

void reply_error(session_ptr self, const inbound& in, const virt_error& e) {
  send_reply(self, in,
             protocol::make_message(reply_header(in.hdr, msg_status::error),
                                    to_remote_error(e, self->state.opts->max_error_length)));
}

/// An error as libvirtd's RPC layer words it: the message in str2 behind a
/// "%s" or "prefix: %s" format (what libvirtd sends for these).
void reply_rpc_error(session_ptr self, const inbound& in, error_code code, std::string format,
                     std::string detail, std::string message) {
  protocol::remote_error r;
  r.code = static_cast<int32_t>(code);
  r.domain = static_cast<int32_t>(error_domain::rpc);
  r.message = std::move(message);
  r.level = static_cast<int32_t>(error_level::error);
  r.str1 = std::move(format);
  r.str2 = std::move(detail);
  send_reply(self, in, protocol::make_message(reply_header(in.hdr, msg_status::error), r));
}

/// The exact error libvirtd gives for procedures it does not know; virsh's
/// fallbacks depend on it (code RPC, domain RPC, "unknown procedure: N").
void reply_unknown_proc(session_ptr self, const inbound& in) {
  auto text = "unknown procedure: " + std::to_string(in.hdr.proc);
  reply_rpc_error(self, in, error_code::rpc, "%s", text, text);
}

/// Calls before authentication (libvirtd: VIR_ERR_RPC "authentication required").
void reply_auth_required(session_ptr self, const inbound& in) {
  reply_rpc_error(self, in, error_code::rpc, "%s", "authentication required",
                  "authentication required");
}

/// Any failed authentication step, as libvirtd answers it: the reason stays
/// in the daemon's log.
void reply_auth_failed(session_ptr self, const inbound& in) {
  reply_rpc_error(self, in, error_code::auth_failed, "authentication failed: %s",
                  "authentication failed", "authentication failed: authentication failed");
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

xdr::buffer keepalive_message(protocol::keepalive_proc p) {
  header h;
  h.prog = protocol::program::keepalive;
  h.proc = static_cast<int32_t>(p);
  h.type = msg_type::message;
  h.serial = 0;
  return protocol::make_message(h, xdr::empty{});
}

void shutdown(session_ptr self) {
  auto& st = self->state;
  if (st.conn)
    self->send(st.conn, close_atom::value);
  st.conn = nullptr;
  st.sasl.reset();
  self->quit();
}

/// After the reply to CONNECT_CLOSE: let the broker flush and close.
void close_stream(session_ptr self) {
  self->state.closing = true;
  self->send(self->state.broker, close_atom::value);
  shutdown(self);
}

template <class T>
bool decode_args(session_ptr self, const inbound& in, const xdr::buffer& args, T& out) {
  if (auto err = xdr::decode(args, out); !err.empty()) {
    reply_error(self, in, rpc_error("Unable to decode message payload"));
    return false;
  }
  return true;
}

void start_next_call(session_ptr self);
void expire_calls(session_ptr self);
void keepalive_arm(session_ptr self, std::chrono::steady_clock::duration delay);

/// Arms the deadline timer for the earliest running call, unless armed.
void arm_deadline(session_ptr self) {
  auto& st = self->state;
  if (st.deadline_timer || st.running.empty())
    return;
  st.deadline_timer = true;
  auto wait = st.running.begin()->second.deadline - std::chrono::steady_clock::now();
  wake_after(self, wait, [](session_ptr s) { expire_calls(s); });
}

/// Answers every call past its deadline with a timeout (a late reply from
/// the driver is then dropped), and re-arms the timer for the rest.
void expire_calls(session_ptr self) {
  auto& st = self->state;
  st.deadline_timer = false;
  auto now = std::chrono::steady_clock::now();
  while (!st.running.empty() && st.running.begin()->second.deadline <= now) {
    auto in = st.running.begin()->second.in;
    st.running.erase(st.running.begin());
    if (!st.closing)
      reply_error(self, in,
                  from_caf_error(caf::make_error(caf::sec::request_timeout),
                                 protocol::proc_name(in.hdr.proc)));
  }
  arm_deadline(self);
  start_next_call(self);
}

/// Forwards a decoded-and-checked call to the driver connection. The request
/// itself carries no CAF timeout: the session's own deadline (opts.call_timeout)
/// answers the client if the driver never does.
void forward_call(session_ptr self, const inbound& in, xdr::buffer args) {
  auto& st = self->state;
  auto id = st.next_call_id++;
  st.running.emplace(id,
                     running_call{in, std::chrono::steady_clock::now() + st.opts->call_timeout});
  arm_deadline(self);
  self->request(st.conn, caf::infinite, call_atom::value, in.hdr.proc, std::move(args))
    .then(
      [self, in, id](const xdr::buffer& ret) {
        if (self->state.running.erase(id) == 0)
          return; // answered already: it timed out
        if (!self->state.closing)
          reply_ok(self, in, ret);
        if (in.hdr.proc == static_cast<int32_t>(proc::connect_close))
          close_stream(self);
        else
          start_next_call(self);
      },
      [self, in, id](caf::error& err) {
        if (self->state.running.erase(id) == 0)
          return;
        if (!self->state.closing)
          reply_error(self, in, from_caf_error(err, protocol::proc_name(in.hdr.proc)));
        start_next_call(self);
      });
}

void start_next_call(session_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests &&
         st.conn) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    forward_call(self, next.in, std::move(next.args));
  }
}

// --- opening a driver connection ---------------------------------------------

/// What a local driver may read for this client: custom test-driver files
/// (`test:///PATH`) only when the configuration allows them, and then only
/// as the client's own user on a unix socket. Every URI gets it; the test
/// driver parses the URI itself and consults it for any file it opens.
std::shared_ptr<const file_access> files_for(session_ptr self) {
  auto& st = self->state;
  auto access = std::make_shared<file_access>();
  access->max_size = st.opts->max_test_driver_file_size;
  access->quote_content = false;
  if (!st.opts->allow_test_driver_files) {
    access->allowed = false;
    access->refusal = "custom test driver files are not opened for clients of this daemon "
                      "(allow_test_driver_files = 0)";
  } else if (!st.client.credentials) {
    access->allowed = false;
    access->refusal = "custom test driver files are opened only for clients on the daemon's "
                      "unix sockets, as the user they run as";
  } else {
    access->uid = st.client.credentials->uid;
    access->gid = st.client.credentials->gid;
    access->groups = st.client.credentials->groups;
  }
  return access;
}

void handle_open(session_ptr self, const inbound& in, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_open_args a;
  if (!decode_args(self, in, args, a))
    return;
  if (st.conn || st.opening) {
    reply_error(self, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: connection already open"));
    return;
  }
  uint32_t flags = a.flags;
  if (st.opts->read_only_socket)
    flags |= 1u; // VIR_CONNECT_RO
  // A NULL name means "the default": the daemon's own choice.
  std::string name = a.name.value_or("test:///default");
  open_options options;
  options.files = files_for(self);
  st.opening = true;
  self->request(st.opts->registry, std::chrono::seconds{90}, open_atom::value, name, flags,
                std::move(options))
    .then(
      [self, in, flags](const connection_actor& conn) {
        auto& st = self->state;
        st.opening = false;
        st.conn = conn;
        st.read_only = (flags & 1u) != 0;
        self->monitor(conn);
        self->request(conn, std::chrono::seconds{30}, watch_atom::value, caf::actor{self})
          .then([](bool) {}, [](caf::error&) {});
        reply_value(self, in, xdr::empty{});
        start_next_call(self);
      },
      [self, in](caf::error& err) {
        self->state.opening = false;
        reply_error(self, in, from_caf_error(err, "virConnectOpen"));
      });
}

void handle_supports_feature(session_ptr self, const inbound& in, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_supports_feature_args a;
  if (!decode_args(self, in, args, a))
    return;
  int32_t answer = -1;
  switch (a.feature) {
    case feature_program_keepalive:
      // The client has an event loop and answers PINGs: start pinging it.
      if (!st.keepalive && st.opts->keepalive_interval > 0) {
        st.keepalive = true;
        st.count_to_death = st.opts->keepalive_count;
        keepalive_arm(self, std::chrono::seconds{st.opts->keepalive_interval});
      }
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
      reply_error(self, in, not_open_error());
    else
      reply_value(self, in, protocol::connect_supports_feature_ret{answer});
    return;
  }
  if (!st.conn) {
    reply_error(self, in, not_open_error());
    return;
  }
  forward_call(self, in, args);
}

// --- events --------------------------------------------------------------------

void handle_event_register(session_ptr self, const inbound& in, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_callback_register_any_args a;
  if (!decode_args(self, in, args, a))
    return;
  domain_filter filter;
  if (a.dom)
    filter.push_back(*a.dom);
  self->request(st.conn, std::chrono::seconds{30}, subscribe_atom::value, a.event_id, filter,
                caf::actor{self})
    .then(
      [self, in](int32_t id) {
        reply_value(self, in, protocol::connect_domain_event_callback_register_any_ret{id});
      },
      [self, in](caf::error& err) { reply_error(self, in, from_caf_error(err)); });
}

void handle_event_deregister(session_ptr self, const inbound& in, int32_t callback_id) {
  self->request(self->state.conn, std::chrono::seconds{30}, unsubscribe_atom::value, callback_id)
    .then([self, in](bool) { reply_value(self, in, xdr::empty{}); },
          [self, in](caf::error& err) { reply_error(self, in, from_caf_error(err)); });
}

void handle_legacy_event_register(session_ptr self, const inbound& in, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(self, in, args, a))
    return;
  if (st.legacy_events.count(a.event_id)) {
    reply_error(self, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " already registered"));
    return;
  }
  self->request(st.conn, std::chrono::seconds{30}, subscribe_atom::value, a.event_id,
                domain_filter{}, caf::actor{self})
    .then(
      [self, in, ev = a.event_id](int32_t id) {
        self->state.legacy_events[ev] = id;
        reply_value(self, in, xdr::empty{});
      },
      [self, in](caf::error& err) { reply_error(self, in, from_caf_error(err)); });
}

void handle_legacy_event_deregister(session_ptr self, const inbound& in, const xdr::buffer& args) {
  auto& st = self->state;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(self, in, args, a))
    return;
  auto i = st.legacy_events.find(a.event_id);
  if (i == st.legacy_events.end()) {
    reply_error(self, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " not registered"));
    return;
  }
  auto id = i->second;
  st.legacy_events.erase(i);
  handle_event_deregister(self, in, id);
}

// --- SASL (remoteDispatchAuthSasl*) ---------------------------------------------

/// Why an authentication failed goes to the daemon's log, as in libvirtd;
/// the client only ever hears "authentication failed".
void log_auth(session_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.opts->log)
    return;
  std::string who = st.client.peer.remote_addr;
  if (st.client.credentials)
    who = "pid " + std::to_string(st.client.credentials->pid) + ", uid " +
          std::to_string(st.client.credentials->uid);
  st.opts->log(4, "SASL authentication of client " + who + " failed: " + why);
}

void handle_sasl_init(session_ptr self, const inbound& in) {
  auto& st = self->state;
  if (st.opts->auth != auth_method::sasl || st.sasl || st.authenticated) {
    reply_auth_failed(self, in);
    return;
  }
  bool secure = st.opts->unix_socket || st.opts->tls;
  auto sec = sasl::security::for_channel(secure, st.client.peer.tls_ssf);
  if (!secure)
    sec.min_ssf = st.opts->tcp_min_ssf;
  auto s = sasl::server::make(st.client.peer, sec);
  if (!s) {
    log_auth(self, s.error().message);
    reply_auth_failed(self, in);
    return;
  }
  auto mechs = (*s)->mechanisms();
  if (!mechs) {
    log_auth(self, mechs.error().message);
    reply_auth_failed(self, in);
    return;
  }
  st.sasl = std::move(*s);
  reply_value(self, in, protocol::auth_sasl_init_ret{*mechs});
}

/// After a step: the reply, and once SASL is done, the checks libvirtd makes
/// (SSF on plain TCP, the username list) and the switch to the SSF layer,
/// which applies from the message after this reply on.
template <class Ret>
void sasl_reply(session_ptr self, const inbound& in, result<sasl::step_result> r) {
  auto& st = self->state;
  auto fail = [&](const std::string& why) {
    log_auth(self, why);
    st.sasl.reset();
    reply_auth_failed(self, in);
  };
  if (!r)
    return fail(r.error().message);
  if (r->data && r->data->size() > protocol::auth_sasl_data_max)
    return fail("SASL reply data too long");
  Ret ret;
  protocol::set_sasl_data(ret.nil, ret.data, r->data);
  if (!r->complete) {
    ret.complete = 0;
    reply_value(self, in, ret);
    return;
  }
  bool secure = st.opts->unix_socket || st.opts->tls;
  if (!secure && st.sasl->ssf() < st.opts->tcp_min_ssf)
    return fail("negotiated SSF " + std::to_string(st.sasl->ssf()) + " was not strong enough");
  auto identity = st.sasl->username();
  if (!identity)
    return fail(identity.error().message);
  if (st.opts->sasl_allowed_usernames &&
      !sasl::identity_allowed(*identity, *st.opts->sasl_allowed_usernames))
    return fail("SASL client identity '" + *identity + "' not allowed by sasl_allowed_username_list");
  ret.complete = 1;
  auto layer = st.sasl->layer();
  st.sasl.reset();
  st.authenticated = true;
  auto msg = protocol::make_message(reply_header(in.hdr, msg_status::ok), ret);
  if (layer)
    self->send(st.broker, frame_atom::value, std::move(msg), in.bytes, std::move(layer));
  else
    send_reply(self, in, std::move(msg));
}

/// AUTH_SASL_START and AUTH_SASL_STEP: decode, check that an exchange is
/// under way, feed the client's data to it, answer.
template <class Args, class Ret, class Step>
void handle_sasl_data(session_ptr self, const inbound& in, const xdr::buffer& args, Step step) {
  auto& st = self->state;
  Args a;
  if (!decode_args(self, in, args, a))
    return;
  if (st.opts->auth != auth_method::sasl || !st.sasl) {
    reply_auth_failed(self, in);
    return;
  }
  sasl_reply<Ret>(self, in, step(*st.sasl, a, protocol::from_sasl_data(a.nil, a.data)));
}

// --- dispatch ------------------------------------------------------------------

void handle_remote_call(session_ptr self, const inbound& in, xdr::buffer args) {
  auto& st = self->state;
  const auto& hdr = in.hdr;
  if (hdr.status != msg_status::ok) {
    reply_error(self, in,
                rpc_error("Unexpected message status " +
                          std::to_string(static_cast<int32_t>(hdr.status))));
    return;
  }
  auto info = protocol::find_proc_info(hdr.proc);
  if (!info && protocol::proc_name(hdr.proc).empty()) {
    reply_unknown_proc(self, in);
    return;
  }
  bool auth_call = info && (info->id == proc::auth_list || info->id == proc::auth_sasl_init ||
                            info->id == proc::auth_sasl_start ||
                            info->id == proc::auth_sasl_step || info->id == proc::auth_polkit);
  if (!st.authenticated && !auth_call) {
    reply_auth_required(self, in);
    return;
  }
  if (!info) {
    // A procedure libvirt 9.0 defines that no driver here implements:
    // libvirtd dispatches it and the driver refuses it by its API's name
    // ("this function is not supported by the connection driver:
    // virDomainMemoryStats"); so do we, once the connection is open.
    if (!st.conn)
      reply_error(self, in, not_open_error());
    else
      reply_error(self, in, protocol::unsupported_api_error(hdr.proc));
    return;
  }
  if (auto err = protocol::check_args(hdr.proc, args.data(), args.size()); !err.empty()) {
    reply_error(self, in, rpc_error("Unable to decode message payload"));
    return;
  }
  switch (info->id) {
    case proc::auth_list: {
      protocol::auth_list_ret ret;
      ret.types.push_back(st.opts->auth == auth_method::sasl && !st.authenticated
                            ? protocol::auth_type::sasl
                            : protocol::auth_type::none);
      reply_value(self, in, ret);
      return;
    }
    case proc::auth_sasl_init:
      handle_sasl_init(self, in);
      return;
    case proc::auth_sasl_start:
      handle_sasl_data<protocol::auth_sasl_start_args, protocol::auth_sasl_start_ret>(
        self, in, args, [](sasl::server& s, auto& a, auto data) { return s.start(a.mech, data); });
      return;
    case proc::auth_sasl_step:
      handle_sasl_data<protocol::auth_sasl_step_args, protocol::auth_sasl_step_ret>(
        self, in, args, [](sasl::server& s, auto&, auto data) { return s.step(data); });
      return;
    case proc::auth_polkit:
      // polkit is not offered (the daemon refuses auth "polkit" at start).
      reply_auth_failed(self, in);
      return;
    case proc::connect_supports_feature:
      handle_supports_feature(self, in, args);
      return;
    case proc::connect_open:
      handle_open(self, in, args);
      return;
    default:
      break;
  }
  if (!st.conn) {
    reply_error(self, in, not_open_error());
    return;
  }
  switch (info->id) {
    case proc::connect_close:
      // Replies go out in order: answer once earlier calls are done.
      st.waiting.push_back({in, std::move(args)});
      start_next_call(self);
      return;
    case proc::connect_is_secure:
      reply_value(self, in,
                  protocol::connect_is_secure_ret{
                    st.opts->unix_socket || st.opts->tls ||
                        (st.authenticated && st.opts->auth == auth_method::sasl)
                      ? 1
                      : 0});
      return;
    case proc::connect_register_close_callback:
      st.close_callback = true;
      reply_value(self, in, xdr::empty{});
      return;
    case proc::connect_unregister_close_callback:
      st.close_callback = false;
      reply_value(self, in, xdr::empty{});
      return;
    case proc::connect_domain_event_callback_register_any:
      handle_event_register(self, in, args);
      return;
    case proc::connect_domain_event_callback_deregister_any: {
      protocol::connect_domain_event_callback_deregister_any_args a;
      if (decode_args(self, in, args, a))
        handle_event_deregister(self, in, a.callback_id);
      return;
    }
    case proc::connect_domain_event_register_any:
      handle_legacy_event_register(self, in, args);
      return;
    case proc::connect_domain_event_deregister_any:
      handle_legacy_event_deregister(self, in, args);
      return;
    default:
      break;
  }
  if (st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests) {
    forward_call(self, in, std::move(args)); // a free slot: no queueing
    return;
  }
  st.waiting.push_back({in, std::move(args)});
  start_next_call(self);
}

void handle_frame(session_ptr self, xdr::buffer& frame) {
  auto& st = self->state;
  inbound in;
  in.bytes = static_cast<uint32_t>(frame.size() + protocol::length_size);
  if (auto err = protocol::decode_header(frame.data(), frame.size(), in.hdr); !err.empty()) {
    self->send(st.broker, drop_atom::value);
    shutdown(self);
    return;
  }
  const auto& hdr = in.hdr;
  st.last_rx = std::chrono::steady_clock::now();
  st.count_to_death = st.opts->keepalive_count;
  if (hdr.prog == protocol::program::keepalive && hdr.vers == protocol::program_version &&
      hdr.type == msg_type::message) {
    if (hdr.proc == static_cast<int32_t>(protocol::keepalive_proc::ping))
      send_reply(self, in, keepalive_message(protocol::keepalive_proc::pong));
    else
      release(self, in); // a PONG only proves the client is alive
    return;
  }
  if (hdr.type != msg_type::call) {
    // libvirtd ignores replies and events from clients; streams are not open.
    release(self, in);
    return;
  }
  if (hdr.prog != protocol::program::remote || hdr.vers != protocol::program_version) {
    reply_error(self, in,
                rpc_error("Cannot find program " + std::to_string(hdr.prog) + " version " +
                          std::to_string(hdr.vers)));
    return;
  }
  xdr::buffer args(frame.begin() + protocol::header_size, frame.end());
  handle_remote_call(self, in, std::move(args));
}

// --- keepalive (libvirt's virKeepAliveTimer) -------------------------------------

void keepalive_tick(session_ptr self);

void keepalive_arm(session_ptr self, std::chrono::steady_clock::duration delay) {
  auto& st = self->state;
  if (st.keepalive_timer)
    return;
  st.keepalive_timer = true;
  wake_after(self, delay, [](session_ptr s) {
    s->state.keepalive_timer = false;
    keepalive_tick(s);
  });
}

/// Once `keepalive_interval` passed without a message from the client: PING,
/// and after `keepalive_count` unanswered PINGs, drop it. With interval 2 and
/// count 3 a silent client gets PINGs at 2, 4 and 6 s and is dropped at 8 s,
/// as libvirtd does, whatever is still queued for it.
void keepalive_tick(session_ptr self) {
  auto& st = self->state;
  auto interval = std::chrono::seconds{st.opts->keepalive_interval};
  auto idle = std::chrono::steady_clock::now() - st.last_rx;
  if (idle < interval) {
    keepalive_arm(self, interval - idle);
    return;
  }
  if (st.count_to_death <= 0) {
    if (st.opts->log)
      st.opts->log(2, "client " + st.client.peer.remote_addr +
                        " dropped: no answer to keepalive");
    self->send(st.broker, drop_atom::value);
    shutdown(self);
    return;
  }
  --st.count_to_death;
  send_frame(self, keepalive_message(protocol::keepalive_proc::ping));
  keepalive_arm(self, interval);
}

caf::behavior session(session_ptr self, caf::actor broker,
                      std::shared_ptr<const session_options> opts, client_info info) {
  self->state.broker = std::move(broker);
  self->state.opts = std::move(opts);
  self->state.client = std::move(info);
  self->state.authenticated = self->state.opts->auth == auth_method::none;
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
  return {
    [self](frame_atom, xdr::buffer& frame, caf::actor_id) { handle_frame(self, frame); },
    [self](closed_atom, const stream_end&, caf::actor_id) { shutdown(self); },
    [](wake_atom) -> caf::result<bool> {
      // Never answered: the request's timeout is the timer (wake_after).
      return caf::delegated<bool>{};
    },
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

std::optional<peer_credentials> read_peer_credentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return std::nullopt;
  peer_credentials out;
  out.uid = cred.uid;
  out.gid = cred.gid;
  out.pid = cred.pid;
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      out.groups.assign(groups.begin(), groups.end());
      break;
    }
    if (errno != ERANGE)
      break;
    groups.resize(glen / sizeof(gid_t) + 1);
  }
#endif
  return out;
}

caf::actor spawn_session(caf::actor_system& sys, caf::actor broker,
                         std::shared_ptr<const session_options> opts, client_info info) {
  return sys.spawn(session, std::move(broker), std::move(opts), std::move(info));
}

} // namespace virtactor::daemon
