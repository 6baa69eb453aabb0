// Lifecycle events with reconnect: an actor opens a connection with a
// reconnect policy, watches it and subscribes to lifecycle events. When the
// daemon goes away and comes back, the connection reconnects by itself and
// re-registers the subscription under the same id.
//
//   events URI [COUNT]   (prints COUNT events, then exits; default: forever)
//
// Prints "subscribed", then one line per event as `virsh event --loop` does,
// and "connection lost" / "reconnected" when the daemon goes and comes back.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <virtactor/client/async.hpp>

using namespace std::chrono_literals;
namespace va = virtactor;

namespace {

const char* lifecycle_name(int32_t event) {
  static const char* names[] = {"Defined", "Undefined", "Started",     "Suspended", "Resumed",
                                "Stopped", "Shutdown",  "PMSuspended", "Crashed"};
  return event >= 0 && event < 9 ? names[event] : "Unknown";
}

struct watcher_state {
  va::connection_actor conn;
  int seen = 0;
  static inline const char* name = "events_example";
};

caf::behavior watcher(caf::stateful_actor<watcher_state>* self, std::string uri, int count) {
  va::open_options opts;
  opts.reconnect_attempts = 100; // then give up
  opts.reconnect_backoff_ms = 100;
  auto fail = [self](const va::virt_error& e) {
    std::cerr << "error: " << e.message << std::endl;
    self->quit(caf::exit_reason::user_shutdown);
  };
  va::client::open(self, uri, 0, opts, [=](va::connection_actor conn) {
    self->state.conn = conn;
    va::client::watch(self, conn, self, 10s, fail);
    va::client::subscribe(self, conn, va::domain_event_id::lifecycle, {}, self, 10s,
                          [](int32_t) { std::cout << "subscribed" << std::endl; }, fail);
  }, fail);
  return {
    [=](const va::domain_event& ev) {
      std::cout << "event 'lifecycle' for domain '" << ev.dom.name
                << "': " << lifecycle_name(ev.event) << std::endl;
      if (count > 0 && ++self->state.seen == count) {
        va::client::close(self, self->state.conn);
        self->quit();
      }
    },
    [=](const va::connection_closed& c) {
      std::cout << "connection lost (reason " << c.reason << ")" << std::endl;
    },
    [=](const va::connection_resumed&) { std::cout << "reconnected" << std::endl; },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: events URI [COUNT]\n";
    return 2;
  }
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  int count = argc > 2 ? std::atoi(argv[2]) : 0;
  auto w = sys.spawn(watcher, std::string{argv[1]}, count);
  int rc = 0;
  {
    caf::scoped_actor self{sys};
    self->monitor(w);
    self->receive([&](const caf::down_msg& dm) { rc = dm.reason ? 1 : 0; });
  }
  return rc;
}
