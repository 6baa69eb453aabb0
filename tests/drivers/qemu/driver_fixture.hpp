/// The qemu driver in-process over a temp dir, against real QEMU (TCG) and
/// the ACPI test guest: a connection, its lifecycle and reboot events, and
/// helpers to define, start and watch domains. Shared by the driver tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "actors/inspect.hpp"
#include "actors/interfaces.hpp"
#include "drivers/qemu/qemu_driver.hpp"
#include "protocol/procedures.hpp"
#include "tests/drivers/stats_fields.hpp"
#include "tests/drivers/qemu/test_support.hpp"
#include "tests/drivers/typed_call.hpp"
#include "tests/interop/harness.hpp"

using namespace virtactor;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using P = protocol::proc;

namespace virtactor::testing::qemu_driver {

inline const fs::path guest_dir = VA_QEMU_GUEST_DIR;

constexpr int32_t running = 1, paused = 3, shutoff = 5;
constexpr int32_t ev_defined = 0, ev_undefined = 1, ev_started = 2, ev_suspended = 3,
                  ev_resumed = 4, ev_stopped = 5, ev_shutdown = 6;

using virtactor::qemu::testing::test_system;

/// Events a subscription received, in order.
struct event_log {
  std::mutex mtx;
  std::vector<domain_event> events;

  std::vector<domain_event> take() {
    std::lock_guard<std::mutex> g{mtx};
    return std::exchange(events, {});
  }
  bool has(int32_t event_id, int32_t event, int32_t detail) {
    std::lock_guard<std::mutex> g{mtx};
    for (auto& e : events)
      if (e.event_id == event_id && e.event == event && e.detail == detail)
        return true;
    return false;
  }
};

/// One driver over a temp dir, a connection, and its lifecycle and reboot
/// events.
struct driver_fixture {
  interop::temp_dir dir;
  drivers::qemu::driver_config cfg;
  driver_actor driver;
  connection_actor conn;
  std::shared_ptr<event_log> log = std::make_shared<event_log>();
  caf::actor sink;

  driver_fixture() {
    // QEMU runs as the default account (libvirt-qemu when it exists): it
    // must reach the disks kept here.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read |
                                  fs::perms::others_exec);
    cfg = drivers::qemu::driver_config::defaults(::geteuid() == 0);
    cfg.config_dir = dir.file("etc");
    cfg.run_dir = dir.file("run");
    cfg.lib_dir = dir.file("lib");
    cfg.log_dir = dir.file("log");
    cfg.monitor_timeout = 2s;
    cfg.stats_timeout = 1s;
    cfg.destroy_grace = 2s;
    open_driver();
  }

  ~driver_fixture() {
    // Leave no QEMU behind: destroy whatever still runs.
    auto all = call<P::connect_list_all_domains>({1, 1});
    if (all)
      for (auto& d : all->domains)
        (void) call<P::domain_destroy>({d});
    close_driver();
  }

  void open_driver() {
    driver = drivers::qemu::spawn_qemu_driver(test_system(), cfg);
    caf::scoped_actor self{test_system()};
    bool ok = false;
    self->request(driver, 60s, initialize_atom::value)
      .receive([&](bool) { ok = true; },
               [&](caf::error& e) { BOOST_FAIL("initialize: " << from_caf_error(e).message); });
    BOOST_REQUIRE(ok);
    std::string uri = cfg.privileged ? "qemu:///system" : "qemu:///session";
    self->request(driver, 30s, open_atom::value, uri, uint32_t{0}, open_options{})
      .receive([&](connection_actor& c) { conn = c; },
               [&](caf::error& e) { BOOST_FAIL("open: " << from_caf_error(e).message); });
    auto lg = log;
    sink = test_system().spawn([lg](caf::event_based_actor*) -> caf::behavior {
      return {[lg](domain_event& e) {
        std::lock_guard<std::mutex> g{lg->mtx};
        lg->events.push_back(e);
      }};
    });
    for (int32_t id : {0, 1})
      self->request(conn, 10s, subscribe_atom::value, id, domain_filter{}, sink)
        .receive([](int32_t) {}, [](caf::error&) { BOOST_FAIL("subscribe"); });
  }

  /// Ends the driver as a daemon that stops does: QEMUs keep running.
  void close_driver() {
    caf::scoped_actor self{test_system()};
    self->send_exit(conn, caf::exit_reason::user_shutdown);
    self->send_exit(driver, caf::exit_reason::user_shutdown);
    self->send_exit(sink, caf::exit_reason::user_shutdown);
    self->wait_for(driver);
  }

  template <P Proc>
  result<typename protocol::proc_traits<Proc>::ret>
  call(const typename protocol::proc_traits<Proc>::args& args = {},
       std::chrono::seconds timeout = 60s) {
    caf::scoped_actor self{test_system()};
    return testing::typed_call<Proc>(self, conn, args, timeout);
  }

  /// A domain on its own copy of the guest's disk (QEMU locks images).
  /// The test guest's domain; `serials` replaces its pty serial and console.
  std::string xml(const std::string& name,
                  const std::string& serials = "<serial type='pty'/><console type='pty'/>") {
    auto disk = dir.file(name + ".qcow2");
    if (!fs::exists(disk))
      fs::copy_file(guest_dir / "disk.qcow2", disk);
    return "<domain type='qemu'><name>" + name +
           "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
           "<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
           "<source file='" + disk + "'/><target dev='vda' bus='virtio'/></disk>" + serials +
           "</devices></domain>";
  }

  protocol::nonnull_domain define(const std::string& name, const std::string& serials = {}) {
    auto d = call<P::domain_define_xml>({serials.empty() ? xml(name) : xml(name, serials)});
    BOOST_REQUIRE_MESSAGE(d, (d ? "" : d.error().message));
    return d->dom;
  }

  protocol::domain_get_state_ret state_of(const protocol::nonnull_domain& d) {
    auto s = call<P::domain_get_state>({d, 0});
    BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
    return *s;
  }

  bool wait_state(const protocol::nonnull_domain& d, int32_t state, int32_t reason) {
    return interop::wait_until(
      [&] {
        auto s = call<P::domain_get_state>({d, 0});
        return s && s->state == state && s->reason == reason;
      },
      20s, 20ms);
  }

  /// Presses the power button until the guest has booted far enough to
  /// honour it and the domain reaches `state` (libvirt's shutdown returns
  /// at once, whether the guest listens or not).
  bool press_until(const protocol::nonnull_domain& d, P proc, const std::function<bool()>& done) {
    return interop::wait_until(
      [&] {
        if (done())
          return true;
        if (proc == P::domain_shutdown)
          (void) call<P::domain_shutdown>({d});
        else
          (void) call<P::domain_reboot>({d, 0});
        return interop::wait_until(done, 700ms, 20ms);
      },
      30s, 1ms);
  }

  /// The pid of the domain's QEMU, from its pid file.
  pid_t qemu_pid(const std::string& name) {
    std::ifstream in{cfg.run_dir + "/" + name + ".pid"};
    pid_t pid = 0;
    in >> pid;
    return pid;
  }

  /// The ids (event, detail) of the lifecycle events so far, in order;
  /// with `until`, once that event has arrived (events reach a subscriber
  /// through the state and connection actors, a reply straight from the
  /// domain actor: a call's reply may come before its events).
  std::vector<std::pair<int32_t, int32_t>> lifecycle(int32_t until_event = -1,
                                                     int32_t until_detail = 0) {
    if (until_event >= 0)
      (void) interop::wait_until([&] { return log->has(0, until_event, until_detail); }, 10s,
                                 5ms);
    std::vector<std::pair<int32_t, int32_t>> out;
    for (auto& e : log->take())
      if (e.event_id == 0)
        out.emplace_back(e.event, e.detail);
    return out;
  }
};

using events = std::vector<std::pair<int32_t, int32_t>>;

} // namespace virtactor::testing::qemu_driver
