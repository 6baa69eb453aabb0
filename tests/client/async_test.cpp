// The asynchronous actor API: many connections from one actor, typed calls
// with deadlines, and a daemon that stops answering.
#define BOOST_TEST_MODULE client_async
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/fd.hpp"
#include "client/async.hpp"
#include "client/runtime.hpp"
#include "drivers/test/test_driver_actor.hpp"
#include "protocol/header.hpp"

using namespace virtactor;
using protocol::proc;
using namespace std::chrono_literals;

namespace {

/// What the many-connections actor reports back.
struct tally {
  std::promise<std::string> done;
  std::atomic<int> opened{0};
  std::atomic<int> listed{0};
  std::atomic<int> failed{0};
};

} // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<tally>)

BOOST_AUTO_TEST_CASE(one_actor_drives_many_connections_at_once) {
  auto& sys = client::process_system();
  constexpr int n = 64;
  auto t = std::make_shared<tally>();
  auto fut = t->done.get_future();
  sys.spawn([t](caf::event_based_actor* self) {
    auto conns = std::make_shared<std::vector<connection_actor>>();
    for (int i = 0; i < n; ++i) {
      client::open(
        self, "test:///default", 0, open_options{},
        [=](connection_actor c) {
          conns->push_back(c);
          ++t->opened;
          client::call<proc::connect_list_all_domains>(
            self, c, {1, 0}, 10s,
            [=](const protocol::connect_list_all_domains_ret& r) {
              if (r.ret == 1 && r.domains.size() == 1 && r.domains[0].name == "test")
                ++t->listed;
              else
                ++t->failed;
              if (t->listed + t->failed == n) {
                for (auto& x : *conns)
                  client::close(self, x);
                t->done.set_value("ok");
              }
            },
            [=](const virt_error& e) {
              ++t->failed;
              t->done.set_value("call failed: " + e.message);
            });
        },
        [=](const virt_error& e) { t->done.set_value("open failed: " + e.message); });
    }
  });
  BOOST_REQUIRE(fut.wait_for(60s) == std::future_status::ready);
  BOOST_TEST(fut.get() == "ok");
  BOOST_TEST(t->opened.load() == n);
  BOOST_TEST(t->listed.load() == n);
}

BOOST_AUTO_TEST_CASE(a_typed_error_reaches_the_error_handler_with_libvirts_code) {
  auto& sys = client::process_system();
  std::promise<virt_error> got;
  auto fut = got.get_future();
  sys.spawn([&got](caf::event_based_actor* self) {
    client::open(
      self, "test:///default", 0, open_options{},
      [self, &got](connection_actor c) {
        client::call<proc::domain_lookup_by_name>(
          self, c, {"nope"}, 10s,
          [&got](const protocol::dom_only&) { got.set_value(virt_error{}); },
          [self, c, &got](const virt_error& e) {
            client::close(self, c);
            got.set_value(e);
          });
      },
      [&got](const virt_error& e) { got.set_value(e); });
  });
  BOOST_REQUIRE(fut.wait_for(30s) == std::future_status::ready);
  auto e = fut.get();
  BOOST_TEST(e.code == error_code::no_domain);
  BOOST_TEST(e.domain == error_domain::test);
}

namespace {

/// A daemon that makes the handshake and then answers nothing but
/// CONNECT_GET_TYPE: calls to it hang unless they have a deadline.
class silent_daemon {
public:
  silent_daemon() {
    char tmpl[] = "/tmp/va-silent-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/sock";
    auto fd = listen_unix(path_, 0700);
    BOOST_REQUIRE(fd.ok());
    listener_ = std::move(*fd);
    thread_ = std::thread([this] { serve(); });
  }
  ~silent_daemon() {
    stop_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string uri() const { return "test+unix:///default?socket=" + path_; }

private:
  static bool read_all(int fd, char* p, size_t n) {
    while (n > 0) {
      auto r = ::read(fd, p, n);
      if (r <= 0)
        return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }

  void serve() {
    while (!stop_) {
      unique_fd c{::accept(listener_.get(), nullptr, nullptr)};
      if (!c)
        return;
      for (;;) {
        char len[4];
        if (!read_all(c.get(), len, 4))
          break;
        auto n = protocol::parse_length(len);
        if (!n)
          break;
        xdr::buffer body(*n - 4);
        if (!read_all(c.get(), body.data(), body.size()))
          break;
        protocol::header h;
        if (!protocol::decode_header(body.data(), body.size(), h).empty())
          break;
        if (h.prog != protocol::program::remote || h.type != protocol::msg_type::call)
          continue;
        h.type = protocol::msg_type::reply;
        xdr::buffer out;
        switch (static_cast<proc>(h.proc)) {
          case proc::auth_list: {
            protocol::auth_list_ret r;
            r.types.push_back(protocol::auth_type::none);
            out = protocol::make_message(h, r);
            break;
          }
          case proc::connect_supports_feature:
            out = protocol::make_message(h, protocol::connect_supports_feature_ret{0});
            break;
          case proc::connect_open:
          case proc::connect_close:
            out = protocol::make_message(h, xdr::empty{});
            break;
          case proc::connect_get_type:
            out = protocol::make_message(h, protocol::connect_get_type_ret{"SILENT"});
            break;
          default:
            continue; // never answered
        }
        if (::write(c.get(), out.data(), out.size()) < 0)
          break;
      }
    }
  }

  std::string dir_;
  std::string path_;
  unique_fd listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

} // namespace

BOOST_AUTO_TEST_CASE(a_call_the_daemon_never_answers_ends_at_its_deadline) {
  silent_daemon daemon;
  auto& sys = client::process_system();
  caf::scoped_actor self{sys};
  connection_actor conn;
  self->request(client::driver_registry(sys), 30s, open_atom::value, daemon.uri(), uint32_t{0},
                open_options{})
    .receive([&](const connection_actor& c) { conn = c; },
             [&](caf::error& e) { BOOST_FAIL("open: " << caf::to_string(e)); });
  std::promise<virt_error> hung;
  auto fut = hung.get_future();
  sys.spawn([conn, &hung](caf::event_based_actor* a) {
    client::call<proc::connect_get_hostname>(
      a, conn, {}, 300ms, [&hung](const protocol::connect_get_hostname_ret&) {
        hung.set_value(virt_error{error_code::ok, error_domain::none, "answered", {}});
      },
      [&hung](const virt_error& e) { hung.set_value(e); });
  });
  BOOST_REQUIRE(fut.wait_for(20s) == std::future_status::ready);
  auto e = fut.get();
  BOOST_TEST(e.code == error_code::operation_timeout);
  // The connection survives a timed-out call: the next call is answered.
  std::string type;
  self->request(conn, 10s, call_atom::value, static_cast<int32_t>(proc::connect_get_type),
                xdr::buffer{})
    .receive(
      [&](const xdr::buffer& b) {
        protocol::connect_get_type_ret r;
        if (xdr::decode(b, r).empty())
          type = r.type;
      },
      [](caf::error&) {});
  BOOST_TEST(type == "SILENT");
  self->request(conn, 10s, close_atom::value).receive([](bool) {}, [](caf::error&) {});
}

BOOST_AUTO_TEST_CASE(a_registry_whose_drivers_all_decline_gives_libvirts_no_connect_error) {
  // The daemon's registry holds local drivers only: this is what a client of
  // virtactord sees for a URI no driver serves.
  auto& sys = client::process_system();
  auto reg = client::spawn_registry(sys, {drivers::test::spawn_test_driver(sys)});
  caf::scoped_actor self{sys};
  std::optional<virt_error> err;
  self->request(reg, 10s, open_atom::value, std::string{"bogus:///x"}, uint32_t{0}, open_options{})
    .receive([](const connection_actor&) {}, [&](caf::error& e) { err = from_caf_error(e); });
  BOOST_REQUIRE(err.has_value());
  BOOST_TEST(err->code == error_code::no_connect);
  BOOST_TEST(err->domain == error_domain::none);
  BOOST_TEST(err->message == "no connection driver available for bogus:///x");
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}
