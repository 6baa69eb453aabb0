// The blocking facade (virtactor/client/blocking.hpp): one object per
// connection, typed calls that return a value or libvirt's error. No CAF in
// sight; the actor runtime runs behind it.
//
//   blocking [URI]      (default: $LIBVIRT_DEFAULT_URI, else test:///default)
//
// Prints each domain's name, state, memory and vCPUs, as `virsh list` and
// `virsh dominfo` would find them; exits 1 on any error.
#include <cstdio>
#include <string>

#include <virtactor/client/blocking.hpp>

namespace va = virtactor;
using va::protocol::proc;

namespace {

const char* state_name(uint32_t state) {
  static const char* names[] = {"no state", "running",  "idle",    "paused",
                                "in shutdown", "shut off", "crashed", "pmsuspended"};
  return state < sizeof names / sizeof names[0] ? names[state] : "unknown";
}

int fail(const va::virt_error& e) {
  std::fprintf(stderr, "error: %s\n", e.message.c_str());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  auto conn = va::client::blocking_connection::open(argc > 1 ? argv[1] : "");
  if (!conn)
    return fail(conn.error());
  std::printf("connected to %s\n", (*conn)->uri().c_str());
  // virConnectListAllDomains(conn, &doms, 0)
  auto all = (*conn)->call<proc::connect_list_all_domains>({1, 0});
  if (!all)
    return fail(all.error());
  for (const auto& dom : all->domains) {
    auto info = (*conn)->call<proc::domain_get_info>({dom});
    if (!info)
      return fail(info.error());
    std::printf("%-20s %-10s %8llu KiB %2u vCPU\n", dom.name.c_str(), state_name(info->state),
                static_cast<unsigned long long>(info->memory), info->nr_virt_cpu);
  }
  if (auto closed = (*conn)->close(); !closed)
    return fail(closed.error());
  return 0;
}
