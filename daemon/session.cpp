#include "daemon/session.hpp"

#include <cerrno>
#include <chrono>
#include <list>
#include <map>
#include <set>
#include <unordered_map>

#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>

#include "actors/atoms.hpp"
#include "actors/error.hpp"
#include "actors/frame_conn.hpp"
#include "actors/request_timeout.hpp"
#include "actors/rpc_engine.hpp"
#include "actors/sasl.hpp"
#include "actors/uri.hpp"
#include "drivers/conf/domain_dispatch.hpp"
#include "drivers/conf/shared_index.hpp"
#include "drivers/local_connection.hpp"
#include "protocol/api_names.hpp"
#include "protocol/header.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::daemon {

using protocol::header;
using protocol::msg_status;
using protocol::proc;

namespace {


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

using clock = std::chrono::steady_clock;

/// The host's one timer: `(host_wake_atom)` to its own broker.
using host_wake_atom = caf::atom_constant<caf::atom("va_hwake")>;

class host_impl;
struct session;

/// A driver connection the host's sessions call through. Clients that open
/// the same URI with the same flags share one (the connection actor holds
/// nothing of a client's own but its event subscriptions, which the link
/// maps back to their sessions); a custom test-driver file, checked against
/// each client's credentials, gets a link of its own.
struct driver_link {
  connection_actor conn;
  // The connection's driver state and URI, once it told them: calls go
  // there directly.
  std::optional<drivers::conf::state_actor> state;
  std::string uri;
  // The state's domain index, once it told it: lookups and listings are
  // answered from it here, on the I/O thread.
  std::shared_ptr<const drivers::conf::shared_index> index;
  std::optional<std::pair<std::string, uint32_t>> shared_key; // (URI, flags) if shared
  std::set<session*> users;
  std::map<int32_t, session*> subs; // callback id -> subscriber
};

/// Sessions waiting for the same shared open.
struct open_waiter {
  std::weak_ptr<session> who;
  inbound in;
};

/// One client: its connection's framing and its session state, a plain
/// object inside the listener's broker (`self`).
struct session final : frame_sink, std::enable_shared_from_this<session> {
  session(host_impl* h, caf::io::broker* b, caf::io::connection_handle hdl, stream_limits limits,
          client_info info, std::shared_ptr<void> o)
      : host(h), self(b), conn(b, hdl, limits, this), client(std::move(info)), owner(std::move(o)) {}

  host_impl* host;
  caf::io::broker* self;
  frame_conn conn;
  client_info client;
  std::shared_ptr<void> owner; // TLS state, a slot in the server's count
  const session_options* opts = nullptr; // the host's
  connection_actor drv;        // the driver connection, once open (link->conn)
  std::shared_ptr<driver_link> link;
  bool opening = false;        // CONNECT_OPEN in flight
  bool read_only = false;      // of the driver connection
  bool closing = false;        // CONNECT_CLOSE answered or stream gone
  bool authenticated = false;  // auth none, or SASL done
  bool close_callback = false; // CONNECT_REGISTER_CLOSE_CALLBACK
  bool ended = false;          // the host removes it after the current event
  std::unique_ptr<sasl::server> sasl; // between AUTH_SASL_INIT and the end of the exchange
  // libvirt's keepalive, started when the client asks
  // SUPPORTS_FEATURE(PROGRAM_KEEPALIVE): the engine's timeline (PINGs after
  // `interval` of silence, dropped after `count` unanswered).
  rpc::keepalive ka;
  // Its entry in the host's timer set, if any.
  std::optional<clock::time_point> timer_at;
  // Calls the driver is working on, by session-local id: ids grow and every
  // call has the same timeout, so the first entry has the earliest deadline.
  std::map<uint64_t, running_call> running;
  uint64_t next_call_id = 0;
  // A list allocates nothing while empty; most sessions never queue a call.
  std::list<queued_call> waiting;
  std::map<int32_t, int32_t> legacy_events; // eventID -> callback id (procs 167/168)

  void on_frame(xdr::buffer& frame) override;
  void on_end(stream_end end) override;
};

/// Every session of one broker, the maps that route CAF's messages to them,
/// and the one timer they share.
class host_impl final : public session_host {
public:
  host_impl(caf::io::broker* b, std::shared_ptr<const session_options> o)
      : self(b), opts(std::move(o)), batch(b) {}

  void add(caf::io::connection_handle hdl, client_info info, bool plain_socket,
           std::shared_ptr<void> owner) override;
  void close_all() override;
  size_t size() const override { return by_hdl.size(); }

  session* find(caf::io::connection_handle hdl) {
    auto i = by_hdl.find(hdl);
    return i == by_hdl.end() ? nullptr : i->second.get();
  }
  driver_link* find_driver(const caf::actor_addr& addr) {
    auto i = by_driver.find(addr);
    return i == by_driver.end() ? nullptr : i->second.get();
  }
  /// Forgets `link` (its connection ended or is closing): no session joins it.
  void unlink(const driver_link& link) {
    if (link.shared_key) {
      auto i = shared.find(*link.shared_key);
      if (i != shared.end() && i->second.get() == &link)
        shared.erase(i);
    }
    by_driver.erase(link.conn.address());
  }
  /// Removes `s` if it ended. Called after every event that reached it.
  void reap(session& s);
  /// Puts `s`'s next wake-up (keepalive, earliest call deadline) in the set.
  void schedule(session& s);
  void on_wake();

  caf::io::broker* self;
  std::shared_ptr<const session_options> opts;
  /// Replies to plain sockets, written at the end of each round (declared
  /// before the sessions: it outlives them).
  write_batch batch;
  std::unordered_map<caf::io::connection_handle, std::shared_ptr<session>> by_hdl;
  std::map<caf::actor_addr, std::shared_ptr<driver_link>> by_driver;
  std::map<std::pair<std::string, uint32_t>, std::shared_ptr<driver_link>> shared;
  std::map<std::pair<std::string, uint32_t>, std::vector<open_waiter>> opening;

private:
  void arm();
  std::set<std::pair<clock::time_point, session*>> timers_;
  std::optional<clock::time_point> wake_at_; // of the earliest wake-up on its way
};

void send_frame(session& s, xdr::buffer msg) {
  s.conn.write(std::move(msg));
}

/// Writes the reply to `in` and releases `in` at the broker.
void send_reply(session& s, const inbound& in, xdr::buffer msg) {
  s.conn.write(std::move(msg), in.bytes);
}

/// Releases a received message that gets no reply.
void release(session& s, const inbound& in) {
  s.conn.release(in.bytes);
}

void reply_ok(session& s, const inbound& in, const xdr::buffer& payload) {
  send_reply(s, in, rpc::reply_ok(in.hdr, payload));
}

template <class T>
void reply_value(session& s, const inbound& in, const T& ret) {
  send_reply(s, in, rpc::reply_value(in.hdr, ret));
}

void reply_error(session& s, const inbound& in, const virt_error& e) {
  send_reply(s, in, rpc::reply_error(in.hdr, e, s.opts->max_error_length));
}

/// The exact error libvirtd gives for procedures it does not know; virsh's
/// fallbacks depend on it (code RPC, domain RPC, "unknown procedure: N").
void reply_unknown_proc(session& s, const inbound& in) {
  send_reply(s, in, rpc::reply_unknown_proc(in.hdr));
}

/// Calls before authentication (libvirtd: VIR_ERR_RPC "authentication required").
void reply_auth_required(session& s, const inbound& in) {
  send_reply(s, in, rpc::reply_auth_required(in.hdr));
}

/// Any failed authentication step, as libvirtd answers it: the reason stays
/// in the daemon's log.
void reply_auth_failed(session& s, const inbound& in) {
  send_reply(s, in, rpc::reply_auth_failed(in.hdr));
}

virt_error not_open_error() {
  return make_virt_error(error_code::internal_error, error_domain::rpc,
                         "internal error: hypervisor connection not open");
}

/// The session leaves its driver link: its subscriptions end, and the
/// connection closes with its last user.
void detach(session& s) {
  auto link = std::move(s.link);
  s.drv = nullptr;
  if (!link)
    return;
  for (auto i = link->subs.begin(); i != link->subs.end();) {
    if (i->second == &s) {
      caf::anon_send(link->conn, unsubscribe_atom::value, i->first);
      i = link->subs.erase(i);
    } else {
      ++i;
    }
  }
  link->users.erase(&s);
  if (link->users.empty()) {
    s.host->unlink(*link);
    caf::anon_send(link->conn, close_atom::value);
  }
}

/// Ends the session: its driver connection closes; the host removes it once
/// the event at hand is handled. The connection's framing is closed by the
/// caller (or has ended).
void shutdown(session& s) {
  if (s.ended)
    return;
  s.ended = true;
  detach(s);
  s.sasl.reset();
}

/// After the reply to CONNECT_CLOSE: let the broker flush and close.
void close_stream(session& s) {
  s.closing = true;
  s.conn.close();
  shutdown(s);
}

template <class T>
bool decode_args(session& s, const inbound& in, const xdr::buffer& args, T& out) {
  if (auto err = xdr::decode(args, out); !err.empty()) {
    reply_error(s, in, rpc::payload_error());
    return false;
  }
  return true;
}

void start_next_call(session& s);

/// Runs `fn` on the session behind `w` if it still exists (a reply from the
/// driver may come after its client left), then lets the host remove it if
/// it ended.
template <class F>
void with(const std::weak_ptr<session>& w, F fn) {
  if (auto sp = w.lock()) {
    fn(*sp);
    sp->host->reap(*sp);
  }
}

/// Asks `dest` from the host's broker on behalf of `s`: the answer (a `Ret`)
/// or the error goes to the session if it still exists, and the request's
/// timeout entry is dropped once answered (the broker lives on: see
/// actors/request_timeout.hpp).
template <class Ret, class Dest, class OnValue, class OnError, class... Ts>
void ask(session& s, const Dest& dest, OnValue on_value, OnError on_error, Ts&&... xs) {
  auto* self = s.self;
  auto req = self->request(dest, std::chrono::seconds{30}, std::forward<Ts>(xs)...);
  auto id = req.id();
  std::move(req).then(
    [w = s.weak_from_this(), self, id, on_value](Ret& value) mutable {
      forget_timeout(self, id);
      with(w, [&](session& s) { on_value(s, value); });
    },
    [w = s.weak_from_this(), self, id, on_error](caf::error& err) mutable {
      forget_timeout(self, id);
      with(w, [&](session& s) { on_error(s, err); });
    });
}

/// Answers every call past its deadline with a timeout (a late reply from
/// the driver is then dropped).
void expire_calls(session& s, clock::time_point now) {
  auto& st = s;
  while (!st.running.empty() && st.running.begin()->second.deadline <= now) {
    auto in = st.running.begin()->second.in;
    st.running.erase(st.running.begin());
    if (!st.closing)
      reply_error(s, in,
                  from_caf_error(caf::make_error(caf::sec::request_timeout),
                                 protocol::proc_name(in.hdr.proc)));
  }
  start_next_call(s);
}

template <class Dest, class... Ts>
void send_call(session& s, const inbound& in, const Dest& dest, Ts&&... xs);

/// Forwards a decoded-and-checked call to the driver connection. The request
/// itself carries no CAF timeout: the session's own deadline (opts.call_timeout)
/// answers the client if the driver never does.
void forward_call(session& s, const inbound& in, xdr::buffer args) {
  auto& st = s;
  if (in.hdr.proc == static_cast<int32_t>(proc::connect_close) && st.link) {
    if (st.link->users.size() > 1) {
      // Others still use the driver connection: only this client leaves.
      reply_value(s, in, xdr::empty{});
      close_stream(s);
      return;
    }
    // The last user: the connection closes (and its driver releases what it
    // held) before the reply; nobody joins it meanwhile.
    st.host->unlink(*st.link);
  } else if (st.link && st.link->state) {
    // The connection's own rules, applied here; the call goes to the driver
    // state directly (one actor hop less each way).
    auto step = drivers::prepare_call(st.link->uri, st.read_only, in.hdr.proc, args);
    switch (step.what) {
      case drivers::call_step::answer:
        reply_ok(s, in, step.reply);
        return;
      case drivers::call_step::refuse:
        reply_error(s, in, step.error);
        return;
      case drivers::call_step::to_state:
        break;
    }
    if (st.link->index && drivers::conf::domain_list::handles(in.hdr.proc) &&
        !drivers::conf::is_domain_proc(in.hdr.proc)) {
      // A lookup or listing: from the index, as the state actor would
      // answer it, with no actor hop (the writers update the index before
      // they reply, so this client's own changes are in it).
      auto r = st.link->index->read([&](const drivers::conf::domain_list& l) {
        return l.dispatch(step.call.proc, step.call.args);
      });
      if (r)
        reply_ok(s, in, *r);
      else
        reply_error(s, in, r.error());
      return;
    }
    if (st.link->index && in.hdr.proc == static_cast<int32_t>(proc::domain_get_info)) {
      // DOMAIN_GET_INFO reads what the domain actor last wrote to the index
      // (before it replied to any change) and the CPU time from the
      // backend's clock: no actor hop. Unknown domains and backends without
      // a clock go to the actor, which words the errors.
      auto& a = std::any_cast<const protocol::dom_only&>(step.call.args);
      auto info = st.link->index->read(
        [&](const drivers::conf::domain_list& l) -> std::optional<protocol::domain_get_info_ret> {
          auto* d = l.find_uuid(a.dom.uuid);
          if (!d || !d->cpu)
            return std::nullopt;
          protocol::domain_get_info_ret r;
          r.state = static_cast<uint32_t>(d->state);
          r.max_mem = d->max_mem_kib;
          r.memory = d->memory_kib;
          r.nr_virt_cpu = static_cast<uint32_t>(d->vcpus);
          r.cpu_time = d->cpu->cpu_time_ns();
          return r;
        });
      if (info) {
        reply_value(s, in, *info);
        return;
      }
    }
    send_call(s, in, *st.link->state, call_atom::value, std::move(step.call));
    return;
  }
  send_call(s, in, st.drv, call_atom::value, in.hdr.proc, std::move(args));
}

/// Sends one call on (to the driver connection or its state) under the
/// session's deadline: the request itself carries no CAF timeout.
template <class Dest, class... Ts>
void send_call(session& s, const inbound& in, const Dest& dest, Ts&&... xs) {
  auto& st = s;
  auto id = st.next_call_id++;
  bool first = st.running.empty();
  st.running.emplace(id, running_call{in, clock::now() + st.opts->call_timeout});
  if (first)
    st.host->schedule(st);
  st.self->request(dest, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [w = s.weak_from_this(), in, id](const xdr::buffer& ret) {
        with(w, [&](session& s) {
          if (s.running.erase(id) == 0)
            return; // answered already: it timed out
          if (!s.closing)
            reply_ok(s, in, ret);
          if (in.hdr.proc == static_cast<int32_t>(proc::connect_close))
            close_stream(s);
          else
            start_next_call(s);
        });
      },
      [w = s.weak_from_this(), in, id](caf::error& err) {
        with(w, [&](session& s) {
          if (s.running.erase(id) == 0)
            return;
          if (!s.closing)
            reply_error(s, in, from_caf_error(err, protocol::proc_name(in.hdr.proc)));
          start_next_call(s);
        });
      });
}

void start_next_call(session& s) {
  auto& st = s;
  while (!st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests &&
         st.drv) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    forward_call(s, next.in, std::move(next.args));
  }
}

// --- opening a driver connection ---------------------------------------------

/// What a local driver may read for this client: custom test-driver files
/// (`test:///PATH`) only when the configuration allows them, and then only
/// as the client's own user on a unix socket. Every URI gets it; the test
/// driver parses the URI itself and consults it for any file it opens.
std::shared_ptr<const file_access> files_for(session& s) {
  auto& st = s;
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

/// Joins `s` to `link` and answers its CONNECT_OPEN.
void attach(session& s, const std::shared_ptr<driver_link>& link, uint32_t flags,
            const inbound& in) {
  s.opening = false;
  s.link = link;
  s.drv = link->conn;
  s.read_only = (flags & 1u) != 0;
  link->users.insert(&s);
  reply_value(s, in, xdr::empty{});
  start_next_call(s);
}

/// Whether clients may share a driver connection to `uri`: all but custom
/// test-driver files, which are opened with each client's credentials.
bool shareable(const std::string& uri) {
  auto u = parse_uri(uri);
  return u && !(u->driver == "test" && u->path != "/default");
}

/// A new driver connection: the host watches it (its driver state may die)
/// and routes its events.
std::shared_ptr<driver_link> make_link(host_impl& host, const connection_actor& conn,
                                       std::optional<std::pair<std::string, uint32_t>> key) {
  auto link = std::make_shared<driver_link>();
  link->conn = conn;
  link->shared_key = std::move(key);
  host.by_driver.emplace(conn.address(), link);
  if (link->shared_key)
    host.shared.emplace(*link->shared_key, link);
  auto* self = host.self;
  self->monitor(conn);
  auto req = self->request(conn, std::chrono::seconds{30}, watch_atom::value, caf::actor{self});
  auto id = req.id();
  std::move(req).then([self, id](bool) { forget_timeout(self, id); },
                      [self, id](caf::error&) { forget_timeout(self, id); });
  // A local connection tells its driver state (others do not answer: calls
  // then go through the connection).
  auto sreq = self->request(caf::actor_cast<caf::actor>(conn), std::chrono::seconds{30},
                            drivers::driver_state_atom::value);
  auto sid = sreq.id();
  std::weak_ptr<driver_link> wl = link;
  std::move(sreq).then(
    [self, sid, wl](drivers::conf::state_actor& state, std::string& uri) {
      forget_timeout(self, sid);
      auto l = wl.lock();
      if (!l)
        return;
      l->state = state;
      l->uri = std::move(uri);
      auto ireq = self->request(state, std::chrono::seconds{30}, drivers::conf::index_atom::value);
      auto iid = ireq.id();
      std::move(ireq).then(
        [self, iid, wl](std::shared_ptr<drivers::conf::shared_index>& index) {
          forget_timeout(self, iid);
          if (auto l = wl.lock())
            l->index = std::move(index);
        },
        [self, iid](caf::error&) { forget_timeout(self, iid); });
    },
    [self, sid](caf::error&) { forget_timeout(self, sid); });
  return link;
}

void handle_open(session& s, const inbound& in, const xdr::buffer& args) {
  auto& st = s;
  protocol::connect_open_args a;
  if (!decode_args(s, in, args, a))
    return;
  if (st.drv || st.opening) {
    reply_error(s, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: connection already open"));
    return;
  }
  uint32_t flags = a.flags;
  if (st.opts->read_only_socket)
    flags |= 1u; // VIR_CONNECT_RO
  // A NULL name means "the default": the daemon's own choice.
  std::string name = a.name.value_or("test:///default");
  auto& host = *st.host;
  std::optional<std::pair<std::string, uint32_t>> key;
  if (shareable(name)) {
    key.emplace(name, flags);
    if (auto i = host.shared.find(*key); i != host.shared.end()) {
      attach(s, i->second, flags, in);
      return;
    }
    if (auto i = host.opening.find(*key); i != host.opening.end()) {
      st.opening = true;
      i->second.push_back({s.weak_from_this(), in});
      return;
    }
    host.opening[*key].push_back({s.weak_from_this(), in});
  }
  open_options options;
  options.files = files_for(s);
  st.opening = true;
  auto* self = st.self;
  auto* hp = &host;
  auto req = self->request(st.opts->registry, std::chrono::seconds{90}, open_atom::value, name,
                           flags, std::move(options));
  auto req_id = req.id();
  // Everyone who waits for this open: the opener, and with a shared key
  // whoever asked for the same meanwhile.
  auto waiters = [hp, key, w = s.weak_from_this(), in]() {
    std::vector<open_waiter> all;
    if (key) {
      if (auto i = hp->opening.find(*key); i != hp->opening.end()) {
        all = std::move(i->second);
        hp->opening.erase(i);
      }
    } else {
      all.push_back({w, in});
    }
    return all;
  };
  std::move(req).then(
      [hp, self, req_id, key, flags, waiters](const connection_actor& conn) {
        forget_timeout(self, req_id);
        auto all = waiters();
        std::shared_ptr<driver_link> link;
        for (auto& x : all) {
          with(x.who, [&](session& s) {
            if (s.ended)
              return;
            if (!link)
              link = make_link(*hp, conn, key);
            attach(s, link, flags, x.in);
          });
        }
        if (!link)
          caf::anon_send(conn, close_atom::value); // its clients left meanwhile
      },
      [self, req_id, waiters](caf::error& err) {
        forget_timeout(self, req_id);
        for (auto& x : waiters()) {
          with(x.who, [&](session& s) {
            s.opening = false;
            reply_error(s, x.in, from_caf_error(err, "virConnectOpen"));
          });
        }
      });
}

void handle_supports_feature(session& s, const inbound& in, const xdr::buffer& args) {
  auto& st = s;
  protocol::connect_supports_feature_args a;
  if (!decode_args(s, in, args, a))
    return;
  bool keepalive = a.feature == rpc::feature::program_keepalive;
  if (keepalive && !st.ka.running()) {
    // The client has an event loop and answers PINGs: start pinging it.
    st.ka.start(clock::now());
    st.host->schedule(st);
  }
  if (auto answer = rpc::daemon_feature_answer(a.feature, st.opts->unix_socket)) {
    if (!st.drv && !keepalive)
      reply_error(s, in, not_open_error());
    else
      reply_value(s, in, protocol::connect_supports_feature_ret{*answer});
    return;
  }
  if (!st.drv) {
    reply_error(s, in, not_open_error());
    return;
  }
  forward_call(s, in, args);
}

// --- events --------------------------------------------------------------------

void handle_event_register(session& s, const inbound& in, const xdr::buffer& args) {
  auto& st = s;
  protocol::connect_domain_event_callback_register_any_args a;
  if (!decode_args(s, in, args, a))
    return;
  domain_filter filter;
  if (a.dom)
    filter.push_back(*a.dom);
  ask<int32_t>(
    s, st.drv,
    [in](session& s, int32_t id) {
      if (s.link)
        s.link->subs[id] = &s;
      reply_value(s, in, protocol::connect_domain_event_callback_register_any_ret{id});
    },
    [in](session& s, caf::error& err) { reply_error(s, in, from_caf_error(err)); },
    subscribe_atom::value, a.event_id, filter, caf::actor{st.self});
}

void handle_event_deregister(session& s, const inbound& in, int32_t callback_id) {
  // Only this client's own subscriptions (the connection may be shared).
  auto i = s.link->subs.find(callback_id);
  if (i == s.link->subs.end() || i->second != &s) {
    reply_error(s, in,
                make_virt_error(error_code::invalid_arg, error_domain::none,
                                "invalid argument: callback ID " + std::to_string(callback_id) +
                                  " not registered"));
    return;
  }
  s.link->subs.erase(i);
  ask<bool>(
    s, s.drv, [in](session& s, bool) { reply_value(s, in, xdr::empty{}); },
    [in](session& s, caf::error& err) { reply_error(s, in, from_caf_error(err)); },
    unsubscribe_atom::value, callback_id);
}

void handle_legacy_event_register(session& s, const inbound& in, const xdr::buffer& args) {
  auto& st = s;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(s, in, args, a))
    return;
  if (st.legacy_events.count(a.event_id)) {
    reply_error(s, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " already registered"));
    return;
  }
  ask<int32_t>(
    s, st.drv,
    [in, ev = a.event_id](session& s, int32_t id) {
      if (s.link)
        s.link->subs[id] = &s;
      s.legacy_events[ev] = id;
      reply_value(s, in, xdr::empty{});
    },
    [in](session& s, caf::error& err) { reply_error(s, in, from_caf_error(err)); },
    subscribe_atom::value, a.event_id, domain_filter{}, caf::actor{st.self});
}

void handle_legacy_event_deregister(session& s, const inbound& in, const xdr::buffer& args) {
  auto& st = s;
  protocol::connect_domain_event_register_any_args a;
  if (!decode_args(s, in, args, a))
    return;
  auto i = st.legacy_events.find(a.event_id);
  if (i == st.legacy_events.end()) {
    reply_error(s, in,
                make_virt_error(error_code::internal_error, error_domain::rpc,
                                "internal error: domain event " + std::to_string(a.event_id) +
                                  " not registered"));
    return;
  }
  auto id = i->second;
  st.legacy_events.erase(i);
  handle_event_deregister(s, in, id);
}

// --- SASL (remoteDispatchAuthSasl*) ---------------------------------------------

/// Why an authentication failed goes to the daemon's log, as in libvirtd;
/// the client only ever hears "authentication failed".
void log_auth(session& s, const std::string& why) {
  auto& st = s;
  if (!st.opts->log)
    return;
  std::string who = st.client.peer.remote_addr;
  if (st.client.credentials)
    who = "pid " + std::to_string(st.client.credentials->pid) + ", uid " +
          std::to_string(st.client.credentials->uid);
  st.opts->log(4, "SASL authentication of client " + who + " failed: " + why);
}

void handle_sasl_init(session& s, const inbound& in) {
  auto& st = s;
  if (st.opts->auth != auth_method::sasl || st.sasl || st.authenticated) {
    reply_auth_failed(s, in);
    return;
  }
  bool secure = st.opts->unix_socket || st.opts->tls;
  auto sec = sasl::security::for_channel(secure, st.client.peer.tls_ssf);
  if (!secure)
    sec.min_ssf = st.opts->tcp_min_ssf;
  auto made = sasl::server::make(st.client.peer, sec);
  if (!made) {
    log_auth(s, made.error().message);
    reply_auth_failed(s, in);
    return;
  }
  auto mechs = (*made)->mechanisms();
  if (!mechs) {
    log_auth(s, mechs.error().message);
    reply_auth_failed(s, in);
    return;
  }
  st.sasl = std::move(*made);
  reply_value(s, in, protocol::auth_sasl_init_ret{*mechs});
}

/// After a step: the reply, and once SASL is done, the checks libvirtd makes
/// (SSF on plain TCP, the username list) and the switch to the SSF layer,
/// which applies from the message after this reply on.
template <class Ret>
void sasl_reply(session& s, const inbound& in, result<sasl::step_result> r) {
  auto& st = s;
  auto fail = [&](const std::string& why) {
    log_auth(s, why);
    st.sasl.reset();
    reply_auth_failed(s, in);
  };
  if (!r)
    return fail(r.error().message);
  if (r->data && r->data->size() > protocol::auth_sasl_data_max)
    return fail("SASL reply data too long");
  Ret ret;
  protocol::set_sasl_data(ret.nil, ret.data, r->data);
  if (!r->complete) {
    ret.complete = 0;
    reply_value(s, in, ret);
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
  auto msg = rpc::reply_value(in.hdr, ret);
  st.conn.write(std::move(msg), in.bytes);
  if (layer)
    st.conn.install(std::move(layer)); // from the next message on
}

/// AUTH_SASL_START and AUTH_SASL_STEP: decode, check that an exchange is
/// under way, feed the client's data to it, answer.
template <class Args, class Ret, class Step>
void handle_sasl_data(session& s, const inbound& in, const xdr::buffer& args, Step step) {
  auto& st = s;
  Args a;
  if (!decode_args(s, in, args, a))
    return;
  if (st.opts->auth != auth_method::sasl || !st.sasl) {
    reply_auth_failed(s, in);
    return;
  }
  sasl_reply<Ret>(s, in, step(*st.sasl, a, protocol::from_sasl_data(a.nil, a.data)));
}

// --- dispatch ------------------------------------------------------------------

void handle_remote_call(session& s, const inbound& in, xdr::buffer args) {
  auto& st = s;
  const auto& hdr = in.hdr;
  if (hdr.status != msg_status::ok) {
    reply_error(s, in, rpc::unexpected_status_error(hdr.status));
    return;
  }
  auto info = protocol::find_proc_info(hdr.proc);
  if (!info && protocol::proc_name(hdr.proc).empty()) {
    reply_unknown_proc(s, in);
    return;
  }
  bool auth_call = info && (info->id == proc::auth_list || info->id == proc::auth_sasl_init ||
                            info->id == proc::auth_sasl_start ||
                            info->id == proc::auth_sasl_step || info->id == proc::auth_polkit);
  if (!st.authenticated && !auth_call) {
    reply_auth_required(s, in);
    return;
  }
  if (!info) {
    // A procedure libvirt 9.0 defines that no driver here implements:
    // libvirtd dispatches it and the driver refuses it by its API's name
    // ("this function is not supported by the connection driver:
    // virDomainMemoryStats"); so do we, once the connection is open.
    if (!st.drv)
      reply_error(s, in, not_open_error());
    else
      reply_error(s, in, protocol::unsupported_api_error(hdr.proc));
    return;
  }
  if (auto err = protocol::check_args(hdr.proc, args.data(), args.size()); !err.empty()) {
    reply_error(s, in, rpc::payload_error());
    return;
  }
  switch (info->id) {
    case proc::auth_list: {
      protocol::auth_list_ret ret;
      ret.types.push_back(st.opts->auth == auth_method::sasl && !st.authenticated
                            ? protocol::auth_type::sasl
                            : protocol::auth_type::none);
      reply_value(s, in, ret);
      return;
    }
    case proc::auth_sasl_init:
      handle_sasl_init(s, in);
      return;
    case proc::auth_sasl_start:
      handle_sasl_data<protocol::auth_sasl_start_args, protocol::auth_sasl_start_ret>(
        s, in, args, [](sasl::server& srv, auto& a, auto data) { return srv.start(a.mech, data); });
      return;
    case proc::auth_sasl_step:
      handle_sasl_data<protocol::auth_sasl_step_args, protocol::auth_sasl_step_ret>(
        s, in, args, [](sasl::server& srv, auto&, auto data) { return srv.step(data); });
      return;
    case proc::auth_polkit:
      // polkit is not offered (the daemon refuses auth "polkit" at start).
      reply_auth_failed(s, in);
      return;
    case proc::connect_supports_feature:
      handle_supports_feature(s, in, args);
      return;
    case proc::connect_open:
      handle_open(s, in, args);
      return;
    default:
      break;
  }
  if (!st.drv) {
    reply_error(s, in, not_open_error());
    return;
  }
  switch (info->id) {
    case proc::connect_close:
      // Replies go out in order: answer once earlier calls are done.
      st.waiting.push_back({in, std::move(args)});
      start_next_call(s);
      return;
    case proc::connect_is_secure:
      reply_value(s, in,
                  protocol::connect_is_secure_ret{
                    st.opts->unix_socket || st.opts->tls ||
                        (st.authenticated && st.opts->auth == auth_method::sasl)
                      ? 1
                      : 0});
      return;
    case proc::connect_register_close_callback:
      st.close_callback = true;
      reply_value(s, in, xdr::empty{});
      return;
    case proc::connect_unregister_close_callback:
      st.close_callback = false;
      reply_value(s, in, xdr::empty{});
      return;
    case proc::connect_domain_event_callback_register_any:
      handle_event_register(s, in, args);
      return;
    case proc::connect_domain_event_callback_deregister_any: {
      protocol::connect_domain_event_callback_deregister_any_args a;
      if (decode_args(s, in, args, a))
        handle_event_deregister(s, in, a.callback_id);
      return;
    }
    case proc::connect_domain_event_register_any:
      handle_legacy_event_register(s, in, args);
      return;
    case proc::connect_domain_event_deregister_any:
      handle_legacy_event_deregister(s, in, args);
      return;
    default:
      break;
  }
  if (st.waiting.empty() && static_cast<int>(st.running.size()) < st.opts->max_client_requests) {
    forward_call(s, in, std::move(args)); // a free slot: no queueing
    return;
  }
  st.waiting.push_back({in, std::move(args)});
  start_next_call(s);
}

void handle_frame(session& s, xdr::buffer& frame) {
  auto& st = s;
  auto msg = rpc::classify(rpc::role::server, frame, st.opts->max_error_length);
  inbound in{msg.hdr, static_cast<uint32_t>(frame.size() + protocol::length_size)};
  switch (msg.what) {
    case rpc::kind::malformed:
      st.conn.drop();
      shutdown(s);
      return;
    case rpc::kind::ping:
    case rpc::kind::wrong_program:
      st.ka.on_receive(clock::now());
      send_reply(s, in, std::move(msg.answer));
      return;
    case rpc::kind::call:
      st.ka.on_receive(clock::now());
      break;
    default:
      // A PONG only proves the client alive; libvirtd ignores replies and
      // events from clients (streams are not open).
      st.ka.on_receive(clock::now());
      release(s, in);
      return;
  }
  // The arguments stay in the buffer CAF filled: the header is cut off in
  // place, nothing is allocated.
  frame.erase(frame.begin(), frame.begin() + static_cast<ptrdiff_t>(msg.body_offset));
  handle_remote_call(s, in, std::move(frame));
}

// --- keepalive (libvirt's virKeepAliveTimer) -------------------------------------

/// With interval 2 and count 3 a silent client gets PINGs at 2, 4 and 6 s and
/// is dropped at 8 s, as libvirtd does, whatever is still queued for it.
void keepalive_tick(session& s, clock::time_point now) {
  auto& st = s;
  switch (st.ka.on_timer(now)) {
    case rpc::keepalive::action::none:
      return;
    case rpc::keepalive::action::ping:
      send_frame(s, rpc::keepalive_message(protocol::keepalive_proc::ping));
      return;
    case rpc::keepalive::action::dead:
      if (st.opts->log)
        st.opts->log(2, "client " + st.client.peer.remote_addr +
                          " dropped: no answer to keepalive");
      st.conn.drop();
      shutdown(s);
      return;
  }
}

/// The session's wake-up: keepalive and call deadlines.
void on_timer(session& s, clock::time_point now) {
  if (s.ka.running())
    keepalive_tick(s, now);
  if (!s.ended)
    expire_calls(s, now);
}

// --- events from the driver connection -------------------------------------------

void send_domain_event(session& s, const domain_event& ev) {
  bool legacy = false;
  for (auto& [event_id, id] : s.legacy_events)
    if (id == ev.callback_id)
      legacy = true;
  if (auto msg = rpc::encode_event(ev, legacy))
    send_frame(s, std::move(*msg));
}

/// The close callback's event (CONNECT_EVENT_CONNECTION_CLOSED), if asked for.
void send_connection_closed(session& s, int32_t reason) {
  if (s.close_callback)
    send_frame(s, rpc::encode_event(connection_closed{reason}));
}

void session::on_frame(xdr::buffer& frame) {
  if (!ended)
    handle_frame(*this, frame);
}

void session::on_end(stream_end) {
  shutdown(*this);
}

// --- the host ----------------------------------------------------------------------

void host_impl::add(caf::io::connection_handle hdl, client_info info, bool plain_socket,
                    std::shared_ptr<void> owner) {
  auto s = std::make_shared<session>(this, self, hdl, opts->limits, std::move(info),
                                     std::move(owner));
  s->opts = opts.get();
  s->authenticated = opts->auth == auth_method::none;
  s->ka = rpc::keepalive(std::chrono::seconds{opts->keepalive_interval}, opts->keepalive_count);
  auto& ref = *s;
  by_hdl.emplace(hdl, std::move(s));
  ref.conn.write_directly(plain_socket ? &batch : nullptr);
  ref.conn.start();
}

void host_impl::reap(session& s) {
  if (!s.ended && !s.conn.done())
    return;
  if (!s.ended)
    shutdown(s);
  if (!s.conn.done())
    s.conn.close();
  if (s.timer_at) {
    timers_.erase({*s.timer_at, &s});
    s.timer_at.reset();
  }
  auto i = by_hdl.find(s.conn.handle());
  if (i == by_hdl.end() || i->second.get() != &s)
    return;
  auto keep = std::move(i->second); // `s` lives until this returns
  by_hdl.erase(i);
  if (opts->on_exit)
    opts->on_exit();
}

void host_impl::close_all() {
  std::vector<std::shared_ptr<session>> all;
  all.reserve(by_hdl.size());
  for (auto& [hdl, s] : by_hdl)
    all.push_back(s);
  for (auto& s : all) {
    s->conn.close();
    shutdown(*s);
    reap(*s);
  }
}

void host_impl::schedule(session& s) {
  if (s.timer_at) {
    timers_.erase({*s.timer_at, &s});
    s.timer_at.reset();
  }
  if (s.ended)
    return;
  std::optional<clock::time_point> next;
  if (auto due = s.ka.next_deadline())
    next = *due;
  if (!s.running.empty()) {
    auto d = s.running.begin()->second.deadline;
    if (!next || d < *next)
      next = d;
  }
  if (!next)
    return;
  s.timer_at = next;
  timers_.emplace(*next, &s);
  arm();
}

/// One delayed message to the broker for the earliest wake-up of all.
void host_impl::arm() {
  if (timers_.empty())
    return;
  auto first = timers_.begin()->first;
  if (wake_at_ && *wake_at_ <= first)
    return; // an earlier wake-up is on its way
  wake_at_ = first;
  auto delay = std::max<clock::duration>(first - clock::now(), std::chrono::milliseconds{1});
  self->delayed_send(self, delay, host_wake_atom::value);
}

void host_impl::on_wake() {
  wake_at_.reset();
  auto now = clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto* s = timers_.begin()->second;
    timers_.erase(timers_.begin());
    s->timer_at.reset();
    auto keep = s->shared_from_this();
    on_timer(*s, now);
    schedule(*s);
    reap(*s);
  }
  arm();
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

std::pair<std::shared_ptr<session_host>, caf::message_handler>
make_session_host(caf::io::broker* self, std::shared_ptr<const session_options> opts) {
  auto host = std::make_shared<host_impl>(self, std::move(opts));
  // Runs `fn` on the session of connection `hdl`, then reaps it.
  auto on_conn = [host](caf::io::connection_handle hdl, auto fn) {
    if (auto* s = host->find(hdl)) {
      auto keep = s->shared_from_this();
      fn(*s);
      host->reap(*s);
    }
  };
  // The link of the driver connection that sent the current message.
  auto from_driver = [host, self]() -> driver_link* {
    auto& sender = self->current_sender();
    return sender ? host->find_driver(sender->address()) : nullptr;
  };
  // The driver connection ended (or its driver state died): every session
  // on it loses it and hears of it through its close callback.
  auto lost = [host](driver_link& link, int32_t reason) {
    auto keep = host->by_driver[link.conn.address()];
    host->unlink(link);
    std::vector<std::shared_ptr<session>> users;
    for (auto* s : link.users)
      users.push_back(s->shared_from_this());
    link.users.clear();
    link.subs.clear();
    for (auto& s : users) {
      s->link = nullptr;
      s->drv = nullptr;
      send_connection_closed(*s, reason);
      host->reap(*s);
    }
  };
  self->set_down_handler([host, lost](const caf::down_msg& dm) {
    if (auto* link = host->find_driver(dm.source))
      lost(*link, static_cast<int32_t>(close_reason::error));
  });
  caf::message_handler handlers{
    [on_conn](caf::io::new_data_msg& msg) {
      on_conn(msg.handle, [&](session& s) { s.conn.on_data(msg.buf); });
    },
    [on_conn](const caf::io::data_transferred_msg& msg) {
      on_conn(msg.handle, [&](session& s) { s.conn.on_transferred(msg.remaining); });
    },
    [on_conn](const caf::io::connection_closed_msg& msg) {
      on_conn(msg.handle, [&](session& s) { s.conn.on_closed(); });
    },
    [host](host_wake_atom) { host->on_wake(); },
    [host](write_batch_atom) {
      host->batch.flush();
      // A socket that refused its reply ends through CAF; nothing to reap here.
    },
    [host, from_driver](const domain_event& ev) {
      auto* link = from_driver();
      if (!link)
        return;
      auto i = link->subs.find(ev.callback_id);
      if (i == link->subs.end())
        return;
      auto keep = i->second->shared_from_this();
      send_domain_event(*keep, ev);
      host->reap(*keep);
    },
    [from_driver, lost](const connection_closed& cc) {
      if (auto* link = from_driver())
        lost(*link, cc.reason);
    },
    [](const connection_resumed&) {
      // nop: only remote connections reconnect
    },
  };
  return {host, std::move(handlers)};
}

} // namespace virtactor::daemon
