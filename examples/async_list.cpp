// Lists the domains of many hypervisors at once from one actor with the
// asynchronous API (virtactor/client/async.hpp): every open and every call is
// in flight together, each with a deadline and an error handler.
//
//   async_list [URI...]      (default: test:///default)
//
// Prints "URI: NAME" per domain; exits 1 if any connection or call failed.
// [readme-begin]
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <virtactor/client/async.hpp>

using namespace std::chrono_literals;
namespace va = virtactor;
using va::protocol::proc;

void list_domains(caf::event_based_actor* self, std::vector<std::string> uris,
                  std::shared_ptr<std::atomic<int>> failures) {
  for (const auto& uri : uris) {
    auto fail = [=](const va::virt_error& e) {
      std::cerr << uri << ": " << e.message << "\n";
      ++*failures;
    };
    va::client::open(self, uri, 0, {}, [=](va::connection_actor conn) {
      va::client::call<proc::connect_list_all_domains>(
        self, conn, {1, 0}, 5s,
        [=](const va::protocol::connect_list_all_domains_ret& r) {
          for (const auto& dom : r.domains)
            std::cout << uri << ": " << dom.name << "\n";
          va::client::close(self, conn);
        },
        [=](const va::virt_error& e) {
          fail(e);
          va::client::close(self, conn);
        });
    }, fail);
  }
}

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>(); // sockets for the remote driver
  caf::actor_system sys{cfg};
  std::vector<std::string> uris(argv + 1, argv + argc);
  if (uris.empty())
    uris.push_back("test:///default");
  auto failures = std::make_shared<std::atomic<int>>(0);
  sys.spawn(list_domains, uris, failures);
  sys.await_all_actors_done(); // connections close with their actor
  return *failures == 0 ? 0 : 1;
}
// [readme-end]
