#include "drivers/qemu/monitor.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/stream_scribe.hpp"

namespace virtactor::qemu {

namespace {

namespace net = caf::io::network;

/// Broker -> monitor: bytes read from QEMU.
using data_atom = caf::atom_constant<caf::atom("qmp_data")>;
/// Broker -> monitor: the stream ended: (errno or 0 for end of file, writing?).
using end_atom = caf::atom_constant<caf::atom("qmp_end")>;
/// Monitor -> broker: bytes to write.
using write_atom = caf::atom_constant<caf::atom("qmp_write")>;
/// Monitor -> itself: the deadline of command `id` passed.
using deadline_atom = caf::atom_constant<caf::atom("qmp_tmo")>;

/// Bytes asked of the socket per read: QMP lines are short, apart from rare
/// large query results that arrive in several reads.
constexpr size_t read_chunk = 16 * 1024;

// --- The I/O end: a broker over a scribe that remembers why the stream ended.

/// How the stream ended: the first failing read or write, as the socket said
/// it (errno, 0 for an orderly end of file). Written and read on the I/O
/// thread only.
struct stream_end {
  bool recorded = false;
  int err = 0;
  bool writing = false;
};

/// `stream_impl`'s policy over plain `recv`/`send` that records the errno
/// CAF's own policy forgets: an ECONNRESET from a killed QEMU is not an EOF.
class socket_policy {
public:
  explicit socket_policy(std::shared_ptr<stream_end> end) : end_(std::move(end)) {}

  net::rw_state read_some(size_t& n, net::native_socket fd, void* buf, size_t len) {
    n = 0;
    auto r = ::recv(fd, buf, len, 0);
    if (r > 0) {
      n = static_cast<size_t>(r);
      return net::rw_state::success;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      return net::rw_state::success;
    record(r == 0 ? 0 : errno, false);
    return net::rw_state::failure;
  }

  net::rw_state write_some(size_t& n, net::native_socket fd, const void* buf, size_t len) {
    n = 0;
    auto r = ::send(fd, buf, len, MSG_NOSIGNAL);
    if (r >= 0) {
      n = static_cast<size_t>(r);
      return net::rw_state::success;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return net::rw_state::success;
    record(errno, true);
    return net::rw_state::failure;
  }

  bool must_read_more(net::native_socket, size_t) { return false; }

private:
  void record(int err, bool writing) {
    if (end_->recorded)
      return;
    end_->recorded = true;
    end_->err = err;
    end_->writing = writing;
  }

  std::shared_ptr<stream_end> end_;
};

class qmp_stream : public net::stream {
public:
  qmp_stream(net::default_multiplexer& mpx, net::native_socket fd, std::shared_ptr<stream_end> end)
      : stream(mpx, fd), policy_(std::move(end)) {
    // nop
  }

  void handle_event(net::operation op) override { handle_event_impl(op, policy_); }

private:
  socket_policy policy_;
};

using qmp_scribe = stream_scribe<qmp_stream>;

/// The broker only moves bytes: reads go to `peer` as they come, in order
/// (anonymously, so that the peer runs on the scheduler, not on the I/O
/// thread); writes come from `peer`. It ends with the stream or the peer.
caf::behavior qmp_broker(caf::io::broker* self, int fd, caf::actor peer) {
  auto end = std::make_shared<stream_end>();
  auto& mpx = static_cast<net::default_multiplexer&>(self->backend());
  auto scribe = caf::make_counted<qmp_scribe>(fd, "qmp", mpx, fd, end);
  auto hdl = scribe->hdl();
  self->add_scribe(std::move(scribe));
  self->monitor(peer);
  self->set_down_handler([self, hdl](const caf::down_msg&) {
    self->close(hdl);
    self->quit();
  });
  self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
  return {
    [peer](caf::io::new_data_msg& msg) {
      caf::anon_send(peer, data_atom::value, std::vector<char>(msg.buf.begin(), msg.buf.end()));
    },
    [self, hdl](write_atom, const std::string& bytes) {
      auto& buf = self->wr_buf(hdl);
      buf.insert(buf.end(), bytes.begin(), bytes.end());
      self->flush(hdl);
    },
    [self, hdl](close_atom) {
      self->close(hdl);
      self->quit();
    },
    [self, peer, end](const caf::io::connection_closed_msg&) {
      caf::anon_send(peer, end_atom::value, static_cast<int32_t>(end->err), end->writing);
      self->quit();
    },
  };
}

// --- The monitor proper: commands, deadlines, events, on the scheduler.

using monitor_impl = monitor_actor::extend<caf::reacts_to<data_atom, std::vector<char>>,
                                           caf::reacts_to<end_atom, int32_t, bool>,
                                           caf::reacts_to<deadline_atom, uint64_t>>;

struct command {
  std::string name;
  std::string line; // encoded, "\r\n" included
  caf::typed_response_promise<std::string> rp;
  caf::timespan deadline{};
};

enum class phase { greeting, negotiating, ready, ended };

struct monitor_state {
  monitor_options opts;
  monitor_owner owner;
  caf::actor broker;
  qmp::reader reader;
  phase now = phase::greeting;
  uint64_t next_id = 1;
  uint64_t caps_id = 0;
  std::map<uint64_t, command> sent;   // written to QEMU, reply awaited
  std::map<uint64_t, command> queued; // waiting for the negotiation, in request order
  std::string greeting;
  virt_error end_error;
  static inline const char* name = "va_qmp_monitor";
};

using monitor_ptr = monitor_impl::stateful_pointer<monitor_state>;

std::string for_vm(const monitor_options& o) {
  return o.vm_name.empty() ? std::string{} : " of domain '" + o.vm_name + "'";
}

std::string describe(caf::timespan d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms >= 1000 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

virt_error closed_error() {
  return make_virt_error(error_code::operation_failed, error_domain::qemu,
                         "operation failed: QEMU monitor was closed");
}

/// libvirt's texts for the end of a monitor stream.
std::pair<monitor_end, virt_error> end_of_stream(const monitor_options& o, int err, bool writing) {
  if (err == 0)
    return {monitor_end::eof,
            make_virt_error(error_code::internal_error, error_domain::qemu,
                            "internal error: End of file from qemu monitor (vm='" + o.vm_name
                              + "')")};
  std::string what = writing ? "Unable to write to monitor: " : "Unable to read from monitor: ";
  return {err == ECONNRESET ? monitor_end::reset : monitor_end::io_error,
          make_virt_error(error_code::system_error, error_domain::qemu,
                          what + std::strerror(err))};
}

void fail_all(monitor_ptr self, const virt_error& err) {
  auto& st = self->state;
  auto sent = std::move(st.sent);
  auto queued = std::move(st.queued);
  st.sent.clear();
  st.queued.clear();
  for (auto* cmds : {&sent, &queued})
    for (auto& [id, cmd] : *cmds)
      cmd.rp.deliver(to_caf_error(err));
}

void drop_broker(monitor_ptr self) {
  auto& st = self->state;
  if (!st.broker)
    return;
  self->demonitor(st.broker);
  caf::anon_send(st.broker, close_atom::value);
  st.broker = nullptr;
}

/// The stream is over: everything pending fails, later commands fail the
/// same way, and the owner hears of it once.
void finish(monitor_ptr self, monitor_end why, virt_error err) {
  auto& st = self->state;
  if (st.now == phase::ended)
    return;
  st.now = phase::ended;
  st.end_error = err;
  drop_broker(self);
  fail_all(self, err);
  self->send(st.owner, drivers::conf::backend_atom::value,
             caf::make_message(monitor_closed{why, err.message}));
}

void write_line(monitor_ptr self, const std::string& line) {
  caf::anon_send(self->state.broker, write_atom::value, line);
}

void on_reply(monitor_ptr self, const qmp::message& m) {
  auto& st = self->state;
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(m.id.data(), m.id.data() + m.id.size(), id);
  if (m.id.empty() || ec != std::errc{} || end != m.id.data() + m.id.size())
    return; // not one of ours: libvirt ignores stray replies too
  if (st.now == phase::negotiating && id == st.caps_id) {
    if (m.kind == qmp::message_kind::error) {
      finish(self, monitor_end::protocol_error, qmp::command_error("qmp_capabilities", m));
      return;
    }
    st.now = phase::ready;
    auto queued = std::move(st.queued);
    st.queued.clear();
    for (auto& [qid, cmd] : queued) {
      write_line(self, cmd.line);
      st.sent.emplace(qid, std::move(cmd));
    }
    return;
  }
  auto i = st.sent.find(id);
  if (i == st.sent.end())
    return; // its deadline passed: dropped by id
  auto cmd = std::move(i->second);
  st.sent.erase(i);
  if (m.kind == qmp::message_kind::error)
    cmd.rp.deliver(to_caf_error(qmp::command_error(cmd.name, m)));
  else
    cmd.rp.deliver(m.json);
}

void on_message(monitor_ptr self, qmp::message& m) {
  auto& st = self->state;
  switch (m.kind) {
    case qmp::message_kind::greeting:
      if (st.now != phase::greeting)
        return;
      st.greeting = std::move(m.json);
      st.caps_id = st.next_id++;
      if (auto line = qmp::encode_command("qmp_capabilities", "", st.caps_id)) {
        st.now = phase::negotiating;
        write_line(self, *line);
      }
      return;
    case qmp::message_kind::event:
      self->send(st.owner, drivers::conf::backend_atom::value,
                 caf::make_message(
                   qmp_event{std::move(m.event), std::move(m.json), m.seconds, m.microseconds}));
      return;
    case qmp::message_kind::reply:
    case qmp::message_kind::error:
      on_reply(self, m);
      return;
  }
}

monitor_impl::behavior_type monitor_fn(monitor_ptr self, int fd, monitor_owner owner,
                                       monitor_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.owner = std::move(owner);
  st.reader = qmp::reader{st.opts.max_line};
  st.broker = self->home_system().middleman().spawn_broker(qmp_broker, fd,
                                                           caf::actor_cast<caf::actor>(self));
  self->monitor(st.broker);
  self->monitor(st.owner);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.broker.address()) {
      st.broker = nullptr;
      finish(self, monitor_end::io_error,
             make_virt_error(error_code::internal_error, error_domain::qemu,
                             "internal error: Error while processing monitor IO (vm='"
                               + st.opts.vm_name + "')"));
    } else if (dm.source == st.owner.address()) {
      drop_broker(self);
      fail_all(self, closed_error());
      self->quit();
    }
  });
  return {
    [self](qmp_exec_atom, std::string& name, std::string& args,
           caf::timespan deadline) -> caf::typed_response_promise<std::string> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::string>();
      if (st.now == phase::ended) {
        rp.deliver(to_caf_error(st.end_error));
        return rp;
      }
      auto id = st.next_id++;
      auto line = qmp::encode_command(name, args, id);
      if (!line) {
        rp.deliver(to_caf_error(line.error()));
        return rp;
      }
      command cmd{std::move(name), std::move(*line), rp, deadline};
      if (st.now == phase::ready) {
        write_line(self, cmd.line);
        st.sent.emplace(id, std::move(cmd));
      } else {
        st.queued.emplace(id, std::move(cmd));
      }
      self->delayed_send(self, deadline, deadline_atom::value, id);
      return rp;
    },
    [self](qmp_status_atom) -> monitor_status {
      auto& st = self->state;
      monitor_status out;
      out.greeted = st.now != phase::greeting && !st.greeting.empty();
      out.ready = st.now == phase::ready;
      out.ended = st.now == phase::ended;
      out.pending = st.sent.size() + st.queued.size();
      out.greeting = st.greeting;
      return out;
    },
    [self](close_atom) {
      drop_broker(self);
      fail_all(self, closed_error());
      self->quit();
    },
    [self](data_atom, const std::vector<char>& bytes) {
      auto& st = self->state;
      if (st.now == phase::ended)
        return;
      std::vector<qmp::message> msgs;
      auto fed = st.reader.feed(std::string_view{bytes.data(), bytes.size()}, msgs);
      for (auto& m : msgs) {
        on_message(self, m);
        if (st.now == phase::ended)
          return;
      }
      if (!fed)
        finish(self, monitor_end::protocol_error, fed.error());
    },
    [self](end_atom, int32_t err, bool writing) {
      self->state.broker = nullptr; // it has quit
      auto [why, error] = end_of_stream(self->state.opts, err, writing);
      finish(self, why, std::move(error));
    },
    [self](deadline_atom, uint64_t id) {
      auto& st = self->state;
      for (auto* cmds : {&st.sent, &st.queued}) {
        auto i = cmds->find(id);
        if (i == cmds->end())
          continue;
        auto cmd = std::move(i->second);
        cmds->erase(i);
        cmd.rp.deliver(make_caf_error(error_code::operation_timeout, error_domain::qemu,
                                      "Timed out during operation: the QEMU monitor"
                                        + for_vm(st.opts) + " did not answer '" + cmd.name
                                        + "' within " + describe(cmd.deadline)));
        return;
      }
    },
  };
}

} // namespace

monitor_actor spawn_monitor(caf::actor_system& sys, unique_fd connected, monitor_owner owner,
                            monitor_options options) {
  auto impl = sys.spawn(monitor_fn, connected.release(), std::move(owner), std::move(options));
  return caf::actor_cast<monitor_actor>(impl);
}

namespace {

/// The address of the monitor socket at `path`.
result<sockaddr_un> monitor_address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_virt_error(error_code::internal_error, error_domain::qemu,
                           "internal error: Monitor path " + path + " too big for destination");
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

virt_error socket_error(const std::string& what, int err) {
  return make_system_error(error_domain::qemu, what, err);
}

} // namespace

result<unique_fd> listen_monitor(const std::string& path) {
  auto sa = monitor_address(path);
  if (!sa)
    return sa.error();
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    return socket_error("Failed to create socket", errno);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return socket_error("Unable to unlink " + path, errno);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) != 0)
    return socket_error("Failed to bind socket to '" + path + "'", errno);
  if (::listen(fd.get(), 1) != 0)
    return socket_error("Failed to listen on socket '" + path + "'", errno);
  return fd;
}

result<unique_fd> connect_monitor(const std::string& path) {
  auto sa = monitor_address(path);
  if (!sa)
    return sa.error();
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (!fd)
    return socket_error("Failed to create socket", errno);
  int rc;
  do
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa);
  while (rc != 0 && errno == EINTR);
  if (rc != 0)
    return socket_error("failed to connect to monitor socket", errno);
  return fd;
}

} // namespace virtactor::qemu
