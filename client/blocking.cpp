#include "client/blocking.hpp"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "client/registry.hpp"
#include "client/runtime.hpp"

namespace virtactor::client {

// -- process-wide actor system ------------------------------------------------------

namespace {

/// The process-wide system. It is never destroyed: CAF 0.17.6 corrupts its
/// heap when an `actor_system` is destroyed during static destruction, so at
/// exit the registry is stopped, actors get a moment to end, and the OS
/// reclaims the rest.
struct runtime {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  runtime() {
    cfg.load<caf::io::middleman>();
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

runtime* the_runtime = nullptr;

void quiesce_at_exit() {
  auto& sys = *the_runtime->sys;
  stop_driver_registry(sys, std::chrono::seconds{1});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{1};
  while (sys.registry().running() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
}

} // namespace

caf::actor_system& process_system() {
  static runtime* rt = [] {
    the_runtime = new runtime;
    std::atexit(quiesce_at_exit);
    return the_runtime;
  }();
  return *rt->sys;
}

// -- events -------------------------------------------------------------------------

namespace {

/// Events received by a blocking connection, waiting for `next_event`.
struct event_queue {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<domain_event> events;
  bool closed = false;
  int32_t close_reason = -1;
};

caf::behavior event_sink(caf::event_based_actor*, std::shared_ptr<event_queue> q) {
  return {
    [q](const domain_event& ev) {
      std::lock_guard<std::mutex> guard{q->mtx};
      q->events.push_back(ev);
      q->cv.notify_all();
    },
    [q](const connection_closed& c) {
      std::lock_guard<std::mutex> guard{q->mtx};
      q->closed = true;
      q->close_reason = c.reason;
      q->cv.notify_all();
    },
    [](const connection_resumed&) {
      // nop: the blocking facade does not reconnect
    },
  };
}

} // namespace

struct blocking_connection::impl {
  caf::actor_system& sys;
  connection_actor conn;
  std::string uri;
  bool read_only = false;
  std::shared_ptr<event_queue> queue = std::make_shared<event_queue>();
  caf::actor sink;
  bool closed = false;

  impl(caf::actor_system& s) : sys(s) {}
};

blocking_connection::blocking_connection(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

blocking_connection::~blocking_connection() {
  if (impl_ && !impl_->closed)
    (void) close();
}

result<std::unique_ptr<blocking_connection>>
blocking_connection::open(const std::string& uri, uint32_t flags, const open_options& opts) {
  auto& sys = process_system();
  std::string name = uri;
  if (name.empty()) {
    auto env = std::getenv("LIBVIRT_DEFAULT_URI");
    name = env && *env ? env : "test:///default";
  }
  caf::scoped_actor self{sys};
  std::optional<virt_error> failure;
  connection_actor conn;
  self->request(driver_registry(sys), open_timeout, open_atom::value, name, flags, opts)
    .receive([&](const connection_actor& c) { conn = c; },
             [&](caf::error& err) { failure = from_caf_error(err, "connection open"); });
  if (failure)
    return *failure;
  auto p = std::make_unique<impl>(sys);
  p->conn = conn;
  p->read_only = (flags & connect_ro) != 0;
  // The URI the driver reports (virConnectGetURI); local and cheap.
  self->request(conn, std::chrono::seconds{30}, uri_atom::value)
    .receive([&](const std::string& u) { p->uri = u; }, [&](caf::error&) { p->uri = name; });
  p->sink = sys.spawn(event_sink, p->queue);
  self->request(conn, std::chrono::seconds{30}, watch_atom::value, p->sink)
    .receive([](bool) {}, [](caf::error&) {});
  return std::unique_ptr<blocking_connection>(new blocking_connection(std::move(p)));
}

const std::string& blocking_connection::uri() const {
  return impl_->uri;
}

bool blocking_connection::read_only() const {
  return impl_->read_only;
}

result<xdr::buffer> blocking_connection::call_raw(int32_t proc, xdr::buffer args,
                                                  std::chrono::milliseconds timeout) {
  if (impl_->closed)
    return make_virt_error(error_code::invalid_conn, error_domain::none,
                           "invalid connection pointer in the call");
  caf::scoped_actor self{impl_->sys};
  std::optional<virt_error> failure;
  xdr::buffer reply;
  auto name = protocol::proc_name(proc);
  self->request(impl_->conn, timeout, call_atom::value, proc, std::move(args))
    .receive([&](xdr::buffer& r) { reply = std::move(r); },
             [&](caf::error& err) { failure = from_caf_error(err, name); });
  if (failure)
    return *failure;
  return reply;
}

result<int32_t> blocking_connection::register_domain_event(
  int32_t event_id, std::optional<protocol::nonnull_domain> dom) {
  caf::scoped_actor self{impl_->sys};
  domain_filter filter;
  if (dom)
    filter.push_back(*dom);
  std::optional<virt_error> failure;
  int32_t id = -1;
  self->request(impl_->conn, default_call_timeout, subscribe_atom::value, event_id, filter,
                impl_->sink)
    .receive([&](int32_t cb) { id = cb; },
             [&](caf::error& err) { failure = from_caf_error(err, "event registration"); });
  if (failure)
    return *failure;
  return id;
}

result<void> blocking_connection::deregister_domain_event(int32_t callback_id) {
  caf::scoped_actor self{impl_->sys};
  std::optional<virt_error> failure;
  self->request(impl_->conn, default_call_timeout, unsubscribe_atom::value, callback_id)
    .receive([](bool) {},
             [&](caf::error& err) { failure = from_caf_error(err, "event deregistration"); });
  if (failure)
    return *failure;
  return {};
}

std::optional<domain_event> blocking_connection::next_event(std::chrono::milliseconds timeout) {
  auto& q = *impl_->queue;
  std::unique_lock<std::mutex> guard{q.mtx};
  q.cv.wait_for(guard, timeout, [&] { return !q.events.empty() || q.closed; });
  if (q.events.empty())
    return std::nullopt;
  auto ev = q.events.front();
  q.events.pop_front();
  return ev;
}

bool blocking_connection::closed() const {
  if (impl_->closed)
    return true;
  std::lock_guard<std::mutex> guard{impl_->queue->mtx};
  return impl_->queue->closed;
}

std::optional<int32_t> blocking_connection::lost_reason() const {
  if (impl_->closed)
    return std::nullopt;
  std::lock_guard<std::mutex> guard{impl_->queue->mtx};
  if (!impl_->queue->closed)
    return std::nullopt;
  return impl_->queue->close_reason;
}

result<void> blocking_connection::close() {
  if (impl_->closed)
    return {};
  impl_->closed = true;
  caf::scoped_actor self{impl_->sys};
  std::optional<virt_error> failure;
  self->request(impl_->conn, std::chrono::seconds{30}, close_atom::value)
    .receive([](bool) {}, [&](caf::error& err) { failure = from_caf_error(err, "close"); });
  caf::anon_send_exit(impl_->sink, caf::exit_reason::user_shutdown);
  if (failure)
    return *failure;
  return {};
}

} // namespace virtactor::client
