// A program that embeds the async client as a service would and returns from
// main: `shutdown_probe MODE URI...` opens every URI from one actor, then
// - `leave-open`: the actor ends without closing anything;
// - `close`: the actor closes each connection with client::close and ends.
// It prints "opened N" and exits 0; it must neither hang nor print CAF's
// "unexpected message" (client_shutdown_test runs it with a deadline).
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "client/async.hpp"

using namespace virtactor;

int main(int argc, char** argv) {
  if (argc < 3)
    return 2;
  std::string mode = argv[1];
  std::vector<std::string> uris(argv + 2, argv + argc);
  auto opened = std::make_shared<std::atomic<int>>(0);
  auto failed = std::make_shared<std::atomic<int>>(0);
  {
    caf::actor_system_config cfg;
    cfg.load<caf::io::middleman>();
    caf::actor_system sys{cfg};
    sys.spawn([=](caf::event_based_actor* self) {
      auto conns = std::make_shared<std::vector<connection_actor>>();
      auto settle = [=] {
        if (*opened + *failed != static_cast<int>(uris.size()))
          return;
        if (mode == "close")
          for (auto& c : *conns)
            client::close(self, c);
        self->quit();
      };
      for (auto& uri : uris)
        client::open(
          self, uri, 0, open_options{},
          [=](connection_actor c) {
            conns->push_back(c);
            ++*opened;
            settle();
          },
          [=](const virt_error& e) {
            std::cerr << uri << ": " << e.message << "\n";
            ++*failed;
            settle();
          });
    });
  } // the actor system shuts down here
  std::cout << "opened " << opened->load() << std::endl;
  return *failed == 0 ? 0 : 1;
}
