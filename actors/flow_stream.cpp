#include "actors/flow_stream.hpp"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <caf/io/abstract_broker.hpp>
#include <caf/io/network/acceptor.hpp>
#include <caf/io/network/event_handler.hpp>

namespace virtactor::flow {

namespace {

using steady = std::chrono::steady_clock;

int open_spare() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/// "the unix socket PATH", "tcp 127.0.0.1:16509", for log lines.
std::string describe_listener(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return "socket " + std::to_string(fd);
  char host[INET6_ADDRSTRLEN] = {};
  switch (sa.ss_family) {
    case AF_UNIX: {
      auto& un = reinterpret_cast<const sockaddr_un&>(sa);
      auto n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      std::string path(un.sun_path, ::strnlen(un.sun_path, n));
      return path.empty() ? "an unnamed unix socket" : "unix socket " + path;
    }
    case AF_INET: {
      auto& in = reinterpret_cast<const sockaddr_in&>(sa);
      ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
      return std::string{"tcp "} + host + ":" + std::to_string(ntohs(in.sin_port));
    }
    case AF_INET6: {
      auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
      ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
      return std::string{"tcp ["} + host + "]:" + std::to_string(ntohs(in6.sin6_port));
    }
    default:
      return "socket " + std::to_string(fd);
  }
}

uint64_t nofile_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<uint64_t>(rl.rlim_cur) : 0;
}

} // namespace

/// What the doorman keeps besides CAF's state: the acceptor (ours, so that a
/// failed accept is seen), the spare descriptor, the pause timer and the
/// counts behind the log lines. All of it lives on the multiplexer thread.
struct doorman::guard {
  /// CAF's acceptor with our `handle_event`: CAF's own calls `accept` and
  /// drops any error but EAGAIN on the floor.
  class acceptor : public net::acceptor {
  public:
    acceptor(net::default_multiplexer& mpx, int fd, doorman& owner)
        : net::acceptor(mpx, fd), owner_(owner) {}

    void handle_event(net::operation op) override {
      // `paused` also covers events already polled in the iteration that
      // took us out of the loop.
      if (op == net::operation::read && in_loop && !paused)
        owner_.accept_one();
    }

    void removed_from_loop(net::operation op) override {
      if (op == net::operation::read)
        in_loop = false;
      net::acceptor::removed_from_loop(op); // may drop the last reference to `owner_`
    }

    /// Watches the socket: CAF's `activate`, or, while a removal may still
    /// be queued in this iteration (CAF's `activate` would then do nothing),
    /// an `add` that cancels it (as `flow::stream::resume_reading`).
    void watch() {
      paused = false;
      if (in_loop)
        backend().add(net::operation::read, fd(), this);
      else {
        in_loop = true;
        activate(&owner_);
      }
    }

    bool in_loop = false;
    bool paused = false;

  private:
    doorman& owner_;
  };

  /// A timerfd in the loop while accepting is paused; it holds the doorman
  /// until the multiplexer has let go of it.
  class timer : public net::event_handler {
  public:
    timer(net::default_multiplexer& mpx, doorman& owner)
        : net::event_handler(mpx, ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
          owner_(owner) {}

    bool usable() const { return fd() >= 0; }

    /// Fires once after `after`.
    bool arm(std::chrono::milliseconds after) {
      if (!usable() || armed_)
        return false;
      itimerspec its{};
      its.it_value.tv_sec = static_cast<time_t>(after.count() / 1000);
      its.it_value.tv_nsec = static_cast<long>(after.count() % 1000) * 1000000L;
      if (::timerfd_settime(fd(), 0, &its, nullptr) != 0)
        return false;
      armed_ = true;
      keep_ = &owner_;
      activate();
      return true;
    }

    void disarm() {
      if (!armed_)
        return;
      armed_ = false;
      itimerspec none{};
      ::timerfd_settime(fd(), 0, &none, nullptr);
      passivate();
    }

    void handle_event(net::operation op) override {
      if (op != net::operation::read || !armed_)
        return;
      uint64_t ticks = 0;
      [[maybe_unused]] auto n = ::read(fd(), &ticks, sizeof ticks);
      disarm();
      owner_.resume();
    }

    void removed_from_loop(net::operation op) override {
      if (op == net::operation::read) {
        auto last = std::move(keep_); // may destroy the doorman, and us with it
      }
    }

    void graceful_shutdown() override { disarm(); }

  private:
    doorman& owner_;
    bool armed_ = false;
    caf::intrusive_ptr<doorman> keep_;
  };

  guard(net::default_multiplexer& mpx, int fd, doorman& owner)
      : acc(mpx, fd, owner), pause_timer(mpx, owner), spare(open_spare()),
        name(describe_listener(fd)) {}

  ~guard() {
    if (spare >= 0)
      ::close(spare);
  }

  acceptor acc;
  timer pause_timer;
  int spare;
  std::string name;
  /// Refusing (or pausing) since the last accepted connection.
  bool refusing = false;
  /// A refusal was logged and its end not yet.
  bool announced = false;
  uint64_t refused_total = 0;
  uint64_t refused_since_log = 0;
  steady::time_point last_log{};
};

doorman::doorman(net::default_multiplexer& mpx, int fd, log_function log)
    : caf::io::doorman(net::accept_hdl_from_socket(fd)),
      guard_(std::make_unique<guard>(mpx, fd, *this)), log_(std::move(log)) {}

doorman::~doorman() {
  if (accepted_ >= 0)
    ::close(accepted_);
}

net::default_multiplexer& doorman::backend() {
  return guard_->acc.backend();
}

bool doorman::new_connection() {
  if (detached())
    return false;
  auto& mpx = backend();
  int fd = take_accepted();
  auto sptr = caf::make_counted<stream_scribe<socket_stream>>(fd, std::string{}, mpx, fd);
  auto hdl = sptr->hdl();
  parent()->add_scribe(std::move(sptr));
  return caf::io::doorman::new_connection(&mpx, hdl);
}

void doorman::graceful_shutdown() {
  guard_->pause_timer.disarm();
  guard_->acc.graceful_shutdown();
  detach(&backend(), false);
}

void doorman::launch() {
  guard_->acc.watch();
}

std::string doorman::addr() const {
  return guard_->name;
}

uint16_t doorman::port() const {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(guard_->acc.fd(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return 0;
  if (sa.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(sa).sin_port);
  if (sa.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(sa).sin6_port);
  return 0;
}

void doorman::add_to_loop() {
  guard_->acc.watch();
}

void doorman::remove_from_loop() {
  guard_->pause_timer.disarm();
  guard_->acc.paused = true;
  guard_->acc.passivate();
}

void doorman::accept_one() {
  auto& g = *guard_;
  int fd = ::accept4(g.acc.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    switch (err) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        return; // nothing pending, or this one gone: the next event says
      case EMFILE:
      case ENFILE:
        refuse(err);
        return;
      default: // ENOBUFS, ENOMEM and the unexpected: let the system breathe
        note_refusal(err);
        pause();
        return;
    }
  }
  if (g.refusing) {
    g.refusing = false;
    if (g.announced && log_)
      log_(2, "accepting connections on " + g.name + " again (" +
                std::to_string(g.refused_total) + " refused for want of descriptors so far)");
    g.announced = false;
  }
  accepted_ = fd;
  new_connection();
  if (accepted_ >= 0) // not taken (the broker is gone)
    ::close(take_accepted());
}

void doorman::refuse(int err) {
  auto& g = *guard_;
  note_refusal(err);
  if (g.spare < 0)
    g.spare = open_spare();
  if (g.spare < 0) {
    pause();
    return;
  }
  ::close(g.spare);
  int fd = ::accept4(g.acc.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  int accept_err = errno;
  if (fd >= 0)
    ::close(fd); // refused: the client sees its connection end
  g.spare = open_spare();
  if (fd < 0 && accept_err != EAGAIN && accept_err != EWOULDBLOCK && accept_err != ECONNABORTED)
    pause(); // the freed slot went elsewhere at once
}

void doorman::note_refusal(int err) {
  auto& g = *guard_;
  ++g.refused_total;
  ++g.refused_since_log;
  g.refusing = true;
  // At most one line per `log_interval`, however often descriptors run out
  // and come back.
  auto now = steady::now();
  bool logged_before = g.last_log != steady::time_point{};
  if (!log_ || (logged_before && now - g.last_log < log_interval))
    return;
  std::string why;
  if (err == EMFILE)
    why = "out of file descriptors (limit " + std::to_string(nofile_limit()) + ")";
  else if (err == ENFILE)
    why = "the system is out of file descriptors (ENFILE)";
  else
    why = std::strerror(err);
  auto line = "cannot accept a connection on " + g.name + ": " + why +
              "; refusing connections until some close";
  if (logged_before && g.refused_since_log > 1)
    line += " (" + std::to_string(g.refused_since_log - 1) + " more refused in the last " +
            std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(now - g.last_log).count()) +
            " s)";
  log_(3, line);
  g.last_log = now;
  g.refused_since_log = 0;
  g.announced = true;
}

void doorman::pause() {
  auto& g = *guard_;
  if (g.acc.paused || !g.pause_timer.usable())
    return; // without a timer, the next event tries again
  g.acc.paused = true;
  g.acc.passivate();
  g.pause_timer.arm(pause_time);
}

void doorman::resume() {
  auto& g = *guard_;
  if (detached() || !g.acc.paused)
    return;
  g.acc.watch();
}

caf::io::scribe_ptr make_socket_scribe(caf::io::abstract_broker* broker, int fd) {
  auto& mpx = static_cast<net::default_multiplexer&>(broker->backend());
  return caf::make_counted<stream_scribe<socket_stream>>(fd, std::string{}, mpx, fd);
}

caf::io::accept_handle add_listener(caf::io::abstract_broker* broker, int fd, log_function log) {
  auto& mpx = static_cast<net::default_multiplexer&>(broker->backend());
  auto ptr = caf::make_counted<doorman>(mpx, fd, std::move(log));
  auto hdl = ptr->hdl();
  broker->add_doorman(std::move(ptr));
  return hdl;
}

} // namespace virtactor::flow
