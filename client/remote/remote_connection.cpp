#include "client/remote/remote_connection.hpp"

#include <cctype>
#include <map>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/error.hpp"
#include "actors/frame_broker.hpp"
#include "actors/request_timeout.hpp"
#include "actors/rpc_engine.hpp"
#include "actors/sasl.hpp"
#include "protocol/header.hpp"
#include "protocol/procedures.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<virtactor::stream_endpoint>)

namespace virtactor::client {

using protocol::header;
using protocol::msg_status;
using protocol::msg_type;
using protocol::proc;

namespace {

/// Completion of one call: the reply body or the error.
using completion = std::function<void(result<xdr::buffer>)>;

struct subscription {
  int32_t event_id = 0;
  domain_filter filter;
  caf::actor sink;
  int32_t server_id = -1; // callback id on the daemon (feature 14), else -1
};

enum class phase { connecting, handshake, ready, reconnecting, closing };

struct rc_state {
  remote_options opts;
  phase now = phase::connecting;
  caf::actor broker;
  /// The current stream's two ends (for SASL).
  stream_peer peer;
  /// The current stream's account of why it ended (see stream_endpoint).
  std::function<std::optional<virt_error>()> explain_end;
  uint64_t generation = 0; // bumps with every new broker; stale messages are dropped
  rpc::call_table<completion> calls; // serials and the calls in flight
  caf::response_promise open_rp;
  bool server_keepalive = false;
  bool event_callbacks = false;
  bool close_callbacks = false;
  rpc::keepalive keepalive; // libvirt's timeline, once the daemon supports it
  int reconnects = 0;
  bool loss_reported = false; // watchers were told; reset once resumed
  int32_t next_local = 0;
  std::map<int32_t, subscription> subs;       // local callback id -> subscription
  std::map<int32_t, int32_t> legacy_refs;     // eventID -> local subscriptions using it
  std::vector<caf::actor> watchers;
  static inline const char* name = "va_remote_conn";
};

using rc_ptr = caf::stateful_actor<rc_state>*;

virt_error eof_error() {
  return make_virt_error(error_code::system_error, error_domain::rpc,
                         "End of file while reading data: Input/output error");
}

/// End of file, or what the transport knows about why the stream ended.
virt_error stream_end_error(rc_ptr self) {
  if (self->state.explain_end)
    if (auto why = self->state.explain_end())
      return std::move(*why);
  return eof_error();
}

virt_error not_connected_error() {
  return make_virt_error(error_code::internal_error, error_domain::rpc,
                         "internal error: client socket is closed");
}

/// Sends a call and registers its completion.
void send_call(rc_ptr self, int32_t number, const xdr::buffer& args, completion done) {
  auto& st = self->state;
  auto serial = st.calls.add(number, std::move(done));
  self->send(st.broker, frame_atom::value, rpc::call_message(number, serial, args));
  self->delayed_send(self, st.opts.call_deadline, tick_atom::value, serial, st.generation);
}

template <class Ret, class Args>
void typed_call(rc_ptr self, proc p, const Args& args, std::function<void(result<Ret>)> done) {
  send_call(self, static_cast<int32_t>(p), xdr::encode(args),
            [done = std::move(done)](result<xdr::buffer> r) {
              if (!r)
                return done(r.error());
              Ret ret{};
              if (auto err = xdr::decode(*r, ret); !err.empty())
                return done(make_virt_error(error_code::rpc, error_domain::rpc,
                                            "Unable to decode message payload"));
              done(std::move(ret));
            });
}

void fail_pending(rc_ptr self, const virt_error& err) {
  for (auto& call : self->state.calls.take_all())
    call.value(err);
}

void drop_broker(rc_ptr self) {
  auto& st = self->state;
  if (st.broker) {
    self->demonitor(st.broker);
    self->send(st.broker, close_atom::value);
  }
  st.broker = nullptr;
  ++st.generation;
}

void connect(rc_ptr self);
void handshake(rc_ptr self);

/// The stream is gone (EOF, keepalive timeout, framing error).
void connection_lost(rc_ptr self, virt_error why, close_reason reason) {
  auto& st = self->state;
  drop_broker(self);
  fail_pending(self, why);
  if (st.now == phase::connecting || st.now == phase::handshake) {
    if (st.open_rp.pending()) {
      st.open_rp.deliver(to_caf_error(why));
      self->quit();
      return;
    }
  }
  if (st.now == phase::closing) {
    self->quit();
    return;
  }
  // Watchers hear of a loss once, not of every failed reconnect attempt.
  if (!st.loss_reported) {
    st.loss_reported = true;
    for (auto& w : st.watchers)
      self->send(w, connection_closed{static_cast<int32_t>(reason)});
  }
  if (st.opts.reconnect_attempts > 0 && st.reconnects < st.opts.reconnect_attempts) {
    st.now = phase::reconnecting;
    auto delay = st.opts.reconnect_backoff * (1 << std::min(st.reconnects, 8));
    if (delay > std::chrono::seconds{30})
      delay = std::chrono::seconds{30};
    ++st.reconnects;
    self->delayed_send(self, delay, open_atom::value, st.generation);
    return;
  }
  self->quit();
}

/// Arms the keepalive timer for the engine's next deadline (one timer per
/// connection: only `start_keepalive` and the tick itself arm it).
void arm_keepalive(rc_ptr self) {
  auto& st = self->state;
  auto when = st.keepalive.next_deadline();
  if (!when)
    return;
  auto delay = *when - std::chrono::steady_clock::now();
  if (delay < std::chrono::milliseconds{1})
    delay = std::chrono::milliseconds{1};
  self->delayed_send(self, delay, tick_atom::value, st.generation);
}

/// libvirt's client starts keepalive when the daemon supports it.
void start_keepalive(rc_ptr self) {
  auto& st = self->state;
  if (!st.server_keepalive || st.keepalive.running())
    return;
  st.keepalive.start(std::chrono::steady_clock::now());
  arm_keepalive(self);
}

void keepalive_tick(rc_ptr self, uint64_t gen) {
  auto& st = self->state;
  if (gen != st.generation || !st.broker)
    return;
  switch (st.keepalive.on_timer(std::chrono::steady_clock::now())) {
    case rpc::keepalive::action::none:
      break;
    case rpc::keepalive::action::ping:
      self->send(st.broker, frame_atom::value,
                 rpc::keepalive_message(protocol::keepalive_proc::ping));
      break;
    case rpc::keepalive::action::dead:
      connection_lost(self,
                      make_virt_error(error_code::internal_error, error_domain::rpc,
                                      "internal error: connection closed due to keepalive timeout"),
                      close_reason::keepalive);
      return;
  }
  arm_keepalive(self);
}

/// Re-registers every event subscription after a reconnect, then tells the
/// watchers that the connection is back.
void resubscribe(rc_ptr self) {
  auto& st = self->state;
  st.legacy_refs.clear();
  auto remaining = std::make_shared<size_t>(st.subs.size());
  auto finish = [self] {
    auto& st = self->state;
    st.now = phase::ready;
    for (auto& w : st.watchers)
      self->send(w, connection_resumed{st.reconnects});
    st.reconnects = 0;
    st.loss_reported = false;
  };
  if (st.subs.empty()) {
    finish();
    return;
  }
  for (auto& [local, sub] : st.subs) {
    auto id = local;
    auto step = [self, remaining, finish, id](result<int32_t> server_id) {
      auto i = self->state.subs.find(id);
      if (i != self->state.subs.end())
        i->second.server_id = server_id ? *server_id : -1;
      if (--*remaining == 0)
        finish();
    };
    if (st.event_callbacks) {
      protocol::connect_domain_event_callback_register_any_args a;
      a.event_id = sub.event_id;
      if (!sub.filter.empty())
        a.dom = sub.filter.front();
      typed_call<protocol::connect_domain_event_callback_register_any_ret>(
        self, proc::connect_domain_event_callback_register_any, a,
        [step](result<protocol::connect_domain_event_callback_register_any_ret> r) {
          step(r ? result<int32_t>{r->callback_id} : result<int32_t>{r.error()});
        });
    } else if (st.legacy_refs[sub.event_id]++ == 0) {
      typed_call<xdr::empty>(self, proc::connect_domain_event_register_any,
                             protocol::connect_domain_event_register_any_args{sub.event_id},
                             [step](result<xdr::empty>) { step(int32_t{-1}); });
    } else {
      step(int32_t{-1});
    }
  }
}

void handshake_done(rc_ptr self) {
  auto& st = self->state;
  start_keepalive(self);
  if (st.open_rp.pending()) {
    st.now = phase::ready;
    st.open_rp.deliver(caf::actor_cast<connection_actor>(self));
    return;
  }
  resubscribe(self);
}

void handshake_fail(rc_ptr self, const virt_error& err) {
  auto& st = self->state;
  if (st.open_rp.pending()) {
    drop_broker(self);
    fail_pending(self, err);
    st.open_rp.deliver(to_caf_error(err));
    self->quit();
    return;
  }
  connection_lost(self, err, close_reason::error);
}

void probe_feature(rc_ptr self, int32_t feature, std::function<void(bool)> next) {
  typed_call<protocol::connect_supports_feature_ret>(
    self, proc::connect_supports_feature, protocol::connect_supports_feature_args{feature},
    [next = std::move(next)](result<protocol::connect_supports_feature_ret> r) {
      // An error counts as "not supported": the daemon is older or stricter.
      next(r && r->supported == 1);
    });
}

/// Runs `work` (which may block: a person may be typing a password) on a
/// one-shot worker thread, then `done` with its result on this actor.
template <class T>
void off_thread(rc_ptr self, std::function<result<T>()> work, std::function<void(result<T>)> done) {
  auto out = std::make_shared<std::optional<result<T>>>();
  auto worker = self->spawn<caf::detached>([work, out](caf::event_based_actor* w) -> caf::behavior {
    return {
      [w, work, out](open_atom) {
        w->quit();
        *out = work();
        return true;
      },
    };
  });
  auto request = self->request(worker, std::chrono::minutes{10}, open_atom::value);
  auto id = request.id();
  std::move(request).then(
    [self, id, out, done](bool) {
      forget_timeout(self, id);
      done(std::move(**out));
    },
    [self, id, done](caf::error& err) {
      forget_timeout(self, id);
      done(from_caf_error(err, "authentication"));
    });
}

virt_error auth_failed(std::string message) {
  return make_virt_error(error_code::auth_failed, error_domain::remote,
                         "authentication failed: " + std::move(message));
}

void after_auth(rc_ptr self);

/// One round of libvirt's remoteAuthSASL loop: the client steps on the
/// server's data; done when both sides say so (the client always steps at
/// least once after the server's START, to check the server).
void sasl_step(rc_ptr self, std::shared_ptr<sasl::client> cli, bool server_complete,
               std::optional<std::string> server_data);

void sasl_finish(rc_ptr self, const std::shared_ptr<sasl::client>& cli) {
  auto& st = self->state;
  if (!st.peer.secure) {
    auto ssf = cli->ssf();
    if (ssf < 56) {
      handshake_fail(self, auth_failed("negotiation SSF " + std::to_string(ssf) +
                                       " was not strong enough"));
      return;
    }
  }
  // From the next message on, both directions go through the SSF layer.
  if (auto layer = cli->layer())
    self->send(st.broker, codec_atom::value, std::move(layer));
  after_auth(self);
}

void sasl_step(rc_ptr self, std::shared_ptr<sasl::client> cli, bool server_complete,
               std::optional<std::string> server_data) {
  off_thread<sasl::step_result>(
    self, [cli, server_data] { return cli->step(server_data); },
    [self, cli, server_complete](result<sasl::step_result> mine) {
      if (!mine) {
        handshake_fail(self, mine.error());
        return;
      }
      if (server_complete && mine->complete) {
        sasl_finish(self, cli);
        return;
      }
      protocol::auth_sasl_step_args a;
      protocol::set_sasl_data(a.nil, a.data, mine->data);
      bool client_complete = mine->complete;
      typed_call<protocol::auth_sasl_step_ret>(
        self, proc::auth_sasl_step, a,
        [self, cli, client_complete](result<protocol::auth_sasl_step_ret> r) {
          if (!r) {
            handshake_fail(self, r.error());
            return;
          }
          if (r->complete && client_complete) {
            sasl_finish(self, cli);
            return;
          }
          sasl_step(self, cli, r->complete != 0, protocol::from_sasl_data(r->nil, r->data));
        });
    });
}

/// libvirt's remoteAuthSASL: mechanisms from the daemon, a mechanism chosen
/// (or the one `auth=sasl.MECH` names), then START and STEPs until both
/// ends are done; on plain TCP the SSF must be at least 56.
void sasl_auth(rc_ptr self, std::string wanted_mech) {
  auto& st = self->state;
  auto made = sasl::client::make(st.opts.hostname, st.peer,
                                 sasl::security::for_channel(st.peer.secure, st.peer.tls_ssf),
                                 st.opts.auth);
  if (!made) {
    handshake_fail(self, made.error());
    return;
  }
  std::shared_ptr<sasl::client> cli = std::move(*made);
  typed_call<protocol::auth_sasl_init_ret>(
    self, proc::auth_sasl_init, xdr::empty{},
    [self, cli, wanted_mech](result<protocol::auth_sasl_init_ret> r) {
      if (!r) {
        handshake_fail(self, r.error());
        return;
      }
      auto mechlist = r->mechlist;
      if (!wanted_mech.empty()) {
        if (mechlist.find(wanted_mech) == std::string::npos) {
          handshake_fail(self, auth_failed("SASL mechanism " + wanted_mech +
                                           " not supported by server"));
          return;
        }
        mechlist = wanted_mech;
      }
      struct started {
        std::string mech;
        sasl::step_result out;
      };
      off_thread<started>(
        self,
        [cli, mechlist]() -> result<started> {
          started s;
          auto r = cli->start(mechlist, s.mech);
          if (!r)
            return r.error();
          s.out = std::move(*r);
          return s;
        },
        [self, cli](result<started> s) {
          if (!s) {
            handshake_fail(self, s.error());
            return;
          }
          protocol::auth_sasl_start_args a;
          a.mech = s->mech;
          protocol::set_sasl_data(a.nil, a.data, s->out.data);
          typed_call<protocol::auth_sasl_start_ret>(
            self, proc::auth_sasl_start, a,
            [self, cli](result<protocol::auth_sasl_start_ret> r) {
              if (!r) {
                handshake_fail(self, r.error());
                return;
              }
              sasl_step(self, cli, r->complete != 0, protocol::from_sasl_data(r->nil, r->data));
            });
        });
    });
}

/// libvirt's remoteAuthenticate: the daemon's list of authentication types
/// (the URI's `auth=` picks one, else the daemon's first), then that type.
void authenticate(rc_ptr self, const result<protocol::auth_list_ret>& r) {
  auto& st = self->state;
  if (!r || r->types.empty()) {
    after_auth(self); // an old daemon, or no authentication
    return;
  }
  auto type = r->types.front();
  std::string mech;
  if (!st.opts.auth_type.empty()) {
    auto want = st.opts.auth_type;
    std::string lower;
    for (char c : want)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    protocol::auth_type wanted;
    if (lower == "sasl" || lower.rfind("sasl.", 0) == 0) {
      wanted = protocol::auth_type::sasl;
      if (lower.size() > 5)
        mech = want.substr(5);
    } else if (lower == "polkit") {
      wanted = protocol::auth_type::polkit;
    } else {
      handshake_fail(self, auth_failed("unknown authentication type " + want));
      return;
    }
    bool offered = false;
    for (auto t : r->types)
      offered = offered || t == wanted;
    if (!offered) {
      handshake_fail(self, auth_failed("requested authentication type " + want + " rejected"));
      return;
    }
    type = wanted;
  }
  switch (type) {
    case protocol::auth_type::none:
      after_auth(self);
      return;
    case protocol::auth_type::sasl:
      sasl_auth(self, mech);
      return;
    case protocol::auth_type::polkit:
      // The daemon asks polkit about us; nothing to send but the call.
      typed_call<protocol::auth_polkit_ret>(self, proc::auth_polkit, xdr::empty{},
                                            [self](result<protocol::auth_polkit_ret> p) {
                                              if (!p)
                                                handshake_fail(self, p.error());
                                              else
                                                after_auth(self);
                                            });
      return;
  }
  handshake_fail(self, auth_failed("unsupported authentication type " +
                                   std::to_string(static_cast<int32_t>(type))));
}

/// The rest of the handshake, once authenticated: keepalive probe, open,
/// event and close-callback probes, close-callback registration.
void after_auth(rc_ptr self) {
  probe_feature(self, rpc::feature::program_keepalive, [self](bool keepalive) {
    self->state.server_keepalive = keepalive;
    auto& st = self->state;
    protocol::connect_open_args a{st.opts.open_name, st.opts.flags};
    typed_call<xdr::empty>(self, proc::connect_open, a, [self](result<xdr::empty> r) {
      if (!r) {
        handshake_fail(self, r.error());
        return;
      }
      probe_feature(self, rpc::feature::remote_event_callback, [self](bool events) {
        self->state.event_callbacks = events;
        probe_feature(self, rpc::feature::remote_close_callback, [self](bool close_cb) {
          self->state.close_callbacks = close_cb;
          if (!close_cb) {
            handshake_done(self);
            return;
          }
          typed_call<xdr::empty>(self, proc::connect_register_close_callback, xdr::empty{},
                                 [self](result<xdr::empty>) { handshake_done(self); });
        });
      });
    });
  });
}

void handshake(rc_ptr self) {
  auto& st = self->state;
  st.now = phase::handshake;
  st.calls.restart_serials();
  // An error here is what old daemons do; carry on as libvirt does.
  typed_call<protocol::auth_list_ret>(self, proc::auth_list, xdr::empty{},
                                      [self](result<protocol::auth_list_ret> r) {
                                        authenticate(self, r);
                                      });
}

void connect(rc_ptr self) {
  auto& st = self->state;
  st.now = st.open_rp.pending() ? phase::connecting : phase::reconnecting;
  // Connecting may block (name resolution, a silent peer): a detached worker
  // does it so no scheduler or I/O thread ever waits.
  auto connector = st.opts.connect;
  auto worker = self->spawn<caf::detached>([connector](caf::event_based_actor* w) -> caf::behavior {
    return {
      [w, connector](open_atom) -> caf::result<std::shared_ptr<stream_endpoint>> {
        w->quit();
        auto stream = connector();
        if (!stream)
          return to_caf_error(stream.error());
        return std::make_shared<stream_endpoint>(std::move(*stream));
      },
    };
  });
  self->request(worker, caf::infinite, open_atom::value)
    .then(
      [self](std::shared_ptr<stream_endpoint>& stream) {
        auto& st = self->state;
        ++st.generation;
        st.keepalive = rpc::keepalive{std::chrono::seconds{st.opts.keepalive_interval},
                                      st.opts.keepalive_count};
        st.explain_end = std::move(stream->explain_end);
        st.peer = stream->peer;
        caf::actor me = caf::actor_cast<caf::actor>(self);
        st.broker = spawn_frame_broker(self->system(), std::move(*stream),
                                       [me](caf::actor) { return me; });
        self->monitor(st.broker);
        handshake(self);
      },
      [self](caf::error& err) {
        auto e = from_caf_error(err, "connect");
        connection_lost(self, e, close_reason::error);
      });
}

void handle_reply(rc_ptr self, const header& hdr, std::span<const char> body) {
  auto call = self->state.calls.take_reply(hdr);
  if (!call)
    return; // a reply nobody waits for (timed out) or a confused daemon
  auto r = rpc::decode_reply(hdr, body);
  if (r)
    call->value(xdr::buffer(r->begin(), r->end()));
  else
    call->value(std::move(r.error()));
}

void deliver_event(rc_ptr self, domain_event ev, std::optional<int32_t> server_id) {
  for (auto& [local, sub] : self->state.subs) {
    if (sub.event_id != ev.event_id)
      continue;
    if (server_id ? sub.server_id != *server_id
                  : (!sub.filter.empty() && sub.filter.front().uuid != ev.dom.uuid))
      continue;
    auto copy = ev;
    copy.callback_id = local;
    self->send(sub.sink, std::move(copy));
  }
}

void handle_event(rc_ptr self, const header& hdr, std::span<const char> body) {
  auto ev = rpc::decode_event(hdr.proc, body);
  if (!ev)
    return; // events we do not subscribe to, or that do not decode
  if (auto* d = std::get_if<domain_event>(&ev->value)) {
    auto server_id = ev->legacy ? std::nullopt : std::optional<int32_t>{d->callback_id};
    deliver_event(self, std::move(*d), server_id);
    return;
  }
  auto closed = std::get<connection_closed>(ev->value);
  for (auto& w : self->state.watchers)
    self->send(w, closed);
}

void handle_frame(rc_ptr self, const xdr::buffer& frame) {
  auto& st = self->state;
  auto in = rpc::classify(rpc::role::client, std::span<const char>(frame.data(), frame.size()));
  if (in.what == rpc::kind::malformed) {
    connection_lost(self, make_virt_error(error_code::rpc, error_domain::rpc,
                                          "Unable to decode message header"),
                    close_reason::error);
    return;
  }
  st.keepalive.on_receive(std::chrono::steady_clock::now());
  switch (in.what) {
    case rpc::kind::ping:
      self->send(st.broker, frame_atom::value, std::move(in.answer));
      break;
    case rpc::kind::reply:
      handle_reply(self, in.hdr, in.body);
      break;
    case rpc::kind::event:
      handle_event(self, in.hdr, in.body);
      break;
    default:
      break; // PONGs, and what libvirt's client ignores
  }
}

/// Sends CONNECT_CLOSE (after unregistering the close callback), then ends
/// the stream and the actor; `done` runs once the daemon answered.
void close_connection(rc_ptr self, std::function<void()> done) {
  auto& st = self->state;
  st.now = phase::closing;
  auto finish = [self, done](result<xdr::buffer>) {
    drop_broker(self);
    fail_pending(self, not_connected_error());
    done();
    self->quit();
  };
  if (!st.broker) {
    finish(xdr::buffer{});
    return;
  }
  if (st.close_callbacks)
    send_call(self, static_cast<int32_t>(proc::connect_unregister_close_callback), {},
              [](result<xdr::buffer>) {});
  send_call(self, static_cast<int32_t>(proc::connect_close), {}, std::move(finish));
}

caf::behavior remote_connection(rc_ptr self, remote_options opts) {
  self->state.opts = std::move(opts);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (self->state.broker && dm.source == self->state.broker.address())
      connection_lost(self, stream_end_error(self), close_reason::eof);
  });
  return {
    [self](open_atom) -> caf::result<connection_actor> {
      auto& st = self->state;
      auto rp = self->make_response_promise();
      st.open_rp = rp;
      connect(self);
      return caf::delegated<connection_actor>{};
    },
    [self](open_atom, uint64_t gen) {
      // A reconnect attempt after backoff.
      if (gen == self->state.generation && self->state.now == phase::reconnecting)
        connect(self);
    },
    [self](frame_atom, const xdr::buffer& frame, caf::actor_id from) {
      if (self->state.broker && from == self->state.broker.id())
        handle_frame(self, frame);
    },
    [self](closed_atom, const stream_end& end, caf::actor_id from) {
      if (!self->state.broker || from != self->state.broker.id())
        return;
      connection_lost(self,
                      end.eof ? stream_end_error(self)
                              : make_virt_error(error_code::rpc, error_domain::rpc, end.reason),
                      end.eof ? close_reason::eof : close_reason::error);
    },
    [self](tick_atom, uint32_t serial, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.generation)
        return;
      auto call = st.calls.take(serial);
      if (!call)
        return;
      call->value(make_virt_error(error_code::operation_timeout, error_domain::rpc,
                                  "Timed out during operation: no reply to " +
                                    std::string{protocol::proc_name(call->proc)}));
    },
    [self](tick_atom, uint64_t gen) { keepalive_tick(self, gen); },
    [self](call_atom, int32_t number, xdr::buffer& args) -> caf::result<xdr::buffer> {
      auto& st = self->state;
      if (number == static_cast<int32_t>(proc::connect_close)) {
        auto rp = self->make_response_promise();
        close_connection(self, [rp]() mutable { rp.deliver(xdr::buffer{}); });
        return caf::delegated<xdr::buffer>{};
      }
      if (number == static_cast<int32_t>(proc::connect_get_uri) && !st.opts.uri.empty())
        return xdr::encode(protocol::connect_get_uri_ret{st.opts.uri});
      if (st.now != phase::ready)
        return to_caf_error(not_connected_error());
      auto rp = self->make_response_promise();
      send_call(self, number, args, [rp](result<xdr::buffer> r) mutable {
        if (r)
          rp.deliver(std::move(*r));
        else
          rp.deliver(to_caf_error(r.error()));
      });
      return caf::delegated<xdr::buffer>{};
    },
    [self](subscribe_atom, int32_t event_id, domain_filter& filter,
           caf::actor& sink) -> caf::result<int32_t> {
      auto& st = self->state;
      if (st.now != phase::ready)
        return to_caf_error(not_connected_error());
      auto rp = self->make_response_promise();
      auto local = st.next_local++;
      auto register_local = [self, rp, local, event_id, filter, sink](int32_t server_id) mutable {
        self->state.subs[local] = subscription{event_id, filter, sink, server_id};
        rp.deliver(local);
      };
      if (st.event_callbacks) {
        protocol::connect_domain_event_callback_register_any_args a;
        a.event_id = event_id;
        if (!filter.empty())
          a.dom = filter.front();
        typed_call<protocol::connect_domain_event_callback_register_any_ret>(
          self, proc::connect_domain_event_callback_register_any, a,
          [rp, register_local](
            result<protocol::connect_domain_event_callback_register_any_ret> r) mutable {
            if (!r)
              rp.deliver(to_caf_error(r.error()));
            else
              register_local(r->callback_id);
          });
      } else if (st.legacy_refs[event_id] == 0) {
        typed_call<xdr::empty>(self, proc::connect_domain_event_register_any,
                               protocol::connect_domain_event_register_any_args{event_id},
                               [self, rp, register_local, event_id](result<xdr::empty> r) mutable {
                                 if (!r) {
                                   rp.deliver(to_caf_error(r.error()));
                                   return;
                                 }
                                 ++self->state.legacy_refs[event_id];
                                 register_local(-1);
                               });
      } else {
        ++st.legacy_refs[event_id];
        register_local(-1);
      }
      return caf::delegated<int32_t>{};
    },
    [self](unsubscribe_atom, int32_t local) -> caf::result<bool> {
      auto& st = self->state;
      auto i = st.subs.find(local);
      if (i == st.subs.end())
        return make_caf_error(error_code::invalid_arg, error_domain::none,
                              "invalid argument: callback ID " + std::to_string(local) +
                                " not registered");
      auto sub = i->second;
      st.subs.erase(i);
      if (st.now != phase::ready)
        return true;
      auto rp = self->make_response_promise();
      auto done = [rp](result<xdr::buffer> r) mutable {
        if (r)
          rp.deliver(true);
        else
          rp.deliver(to_caf_error(r.error()));
      };
      if (st.event_callbacks) {
        send_call(self, static_cast<int32_t>(proc::connect_domain_event_callback_deregister_any),
                  xdr::encode(protocol::connect_domain_event_callback_deregister_any_args{
                    sub.server_id}),
                  done);
      } else if (--st.legacy_refs[sub.event_id] == 0) {
        send_call(self, static_cast<int32_t>(proc::connect_domain_event_deregister_any),
                  xdr::encode(protocol::connect_domain_event_register_any_args{sub.event_id}),
                  done);
      } else {
        rp.deliver(true);
      }
      return caf::delegated<bool>{};
    },
    [self](watch_atom, caf::actor& sink) {
      self->state.watchers.push_back(std::move(sink));
      return true;
    },
    [self](uri_atom) { return self->state.opts.uri; },
    [self](close_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise();
      close_connection(self, [rp]() mutable { rp.deliver(true); });
      return caf::delegated<bool>{};
    },
  };
}

} // namespace

caf::actor spawn_remote_connection(caf::actor_system& sys, remote_options opts) {
  return sys.spawn(remote_connection, std::move(opts));
}

} // namespace virtactor::client
