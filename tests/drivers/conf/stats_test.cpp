// Bulk statistics on the shared core (CONNECT_GET_ALL_DOMAIN_STATS): libvirt's
// checks and filters, the order of the records, and the fan-out: every domain
// is asked at once, and one whose backend never answers (a hung hypervisor)
// costs the call the driver's bound, not the other domains' records.
#define BOOST_TEST_MODULE driver_core_stats
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/local_connection.hpp"
#include "protocol/procedures.hpp"
#include "tests/drivers/conf/forwarding.hpp"
#include "tests/drivers/stats_fields.hpp"
#include "tests/drivers/typed_call.hpp"

using namespace virtactor;
using namespace std::chrono_literals;
namespace conf = virtactor::drivers::conf;
using P = protocol::proc;

namespace {

constexpr uint32_t g_state = 1, g_block = 32, g_iothread = 128;
constexpr uint32_t f_active = 1, f_inactive = 2, f_running = 16, f_paused = 32,
                   f_enforce = 1u << 31, f_nowait = 1u << 29;

/// The test driver's backend with a block group: `block.count` is the
/// number of times this backend was asked; "hung" never answers.
class stats_backend final : public testing::forwarding_backend {
public:
  void stats(const conf::domain_object& obj, const conf::stats_request& req,
             conf::stats_done_fn done) override {
    ++asked_;
    if (obj.name == "hung") {
      held_ = std::move(done); // a hypervisor that never answers
      return;
    }
    conf::stats_params p;
    if (req.groups & g_block)
      p.add_uint("block.count", asked_);
    if (req.nowait)
      p.add_string("nowait", "yes");
    done(std::move(p));
  }

private:
  uint32_t asked_ = 0;
  conf::stats_done_fn held_;
};

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  conf::state_actor state;
  connection_actor conn;

  fixture() {
    state = conf::spawn_state(
      sys, std::make_unique<testing::forwarding_state>(
             [] { return std::make_unique<stats_backend>(); },
             [](conf::driver_traits& t) {
               t.stats_groups |= g_block;
               t.stats_timeout = 300ms;
             }));
    conn = drivers::spawn_local_connection(sys, state, "test:///default", 0);
  }

  ~fixture() {
    self->send_exit(conn, caf::exit_reason::user_shutdown);
    self->send_exit(state, caf::exit_reason::user_shutdown);
  }

  template <P Proc>
  result<typename protocol::proc_traits<Proc>::ret>
  call(const typename protocol::proc_traits<Proc>::args& args) {
    return testing::typed_call<Proc>(self, conn, args, 10s);
  }

  protocol::nonnull_domain define(const std::string& name, bool start) {
    auto xml = "<domain type='test'><name>" + name +
               "</name><memory>1024</memory><os><type>hvm</type></os></domain>";
    auto d = call<P::domain_define_xml>({xml});
    BOOST_REQUIRE(d.ok());
    if (start)
      BOOST_REQUIRE(call<P::domain_create>({d->dom}).ok());
    return call<P::domain_lookup_by_name>({name})->dom;
  }

  protocol::connect_get_all_domain_stats_ret stats(std::vector<protocol::nonnull_domain> doms,
                                                   uint32_t groups, uint32_t flags) {
    protocol::connect_get_all_domain_stats_args a;
    a.doms.assign(doms.begin(), doms.end());
    a.stats = groups;
    a.flags = flags;
    auto r = call<P::connect_get_all_domain_stats>(a);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r ? "" : r.error().message));
    return *r;
  }
};

std::vector<std::string> names(const protocol::connect_get_all_domain_stats_ret& r) {
  std::vector<std::string> out;
  for (auto& rec : r.ret_stats)
    out.push_back(rec.dom.name);
  return out;
}

std::map<std::string, std::string> params(const protocol::domain_stats_record& rec) {
  return testing::stats_fields(rec.params);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(every_domain_gets_a_record_with_its_state_first, fixture) {
  define("idle", false);
  auto r = stats({}, 0, 0);
  BOOST_TEST((names(r) == std::vector<std::string>{"test", "idle"}));
  auto test = params(r.ret_stats[0]);
  BOOST_TEST(r.ret_stats[0].params[0].field == "state.state");
  BOOST_TEST(r.ret_stats[0].params[1].field == "state.reason");
  BOOST_TEST(test["state.state"] == "1");
  BOOST_TEST(test["block.count"] == "1"); // the driver's group, asked once
  BOOST_TEST(params(r.ret_stats[1])["state.state"] == "5");
  BOOST_TEST(r.ret_stats[1].dom.id == -1);
}

BOOST_FIXTURE_TEST_CASE(named_domains_come_in_the_order_given_and_a_vanished_one_is_skipped,
                        fixture) {
  auto idle = define("idle", false);
  auto test = call<P::domain_lookup_by_name>({"test"})->dom;
  auto gone = define("gone", false);
  BOOST_REQUIRE(call<P::domain_undefine>({gone}).ok());
  auto r = stats({idle, gone, test, idle}, g_state, 0);
  BOOST_TEST((names(r) == std::vector<std::string>{"idle", "test", "idle"}));
  BOOST_TEST(r.ret_stats[0].params.size() == 2u); // state only: block not asked for
}

BOOST_FIXTURE_TEST_CASE(the_filters_select_domains_as_list_all_domains_does, fixture) {
  define("idle", false);
  auto paused = define("napping", true);
  BOOST_REQUIRE(call<P::domain_suspend>({paused}).ok());
  BOOST_TEST((names(stats({}, g_state, f_inactive)) == std::vector<std::string>{"idle"}));
  BOOST_TEST((names(stats({}, g_state, f_active)) == std::vector<std::string>{"test", "napping"}));
  BOOST_TEST((names(stats({}, g_state, f_running)) == std::vector<std::string>{"test"}));
  BOOST_TEST((names(stats({}, g_state, f_paused)) == std::vector<std::string>{"napping"}));
  auto p = params(stats({paused}, g_state, 0).ret_stats[0]);
  BOOST_TEST(p["state.state"] == "3");
  BOOST_TEST(p["state.reason"] == "1"); // paused by the user
  // A filter applies to named domains too.
  BOOST_TEST(stats({paused}, g_state, f_inactive).ret_stats.empty());
}

BOOST_FIXTURE_TEST_CASE(groups_the_driver_lacks_are_dropped_or_refused_when_enforced, fixture) {
  auto r = stats({}, g_state | 2 | 4, 0); // cpu-total and balloon: not this driver's
  BOOST_TEST(r.ret_stats[0].params.size() == 2u);
  BOOST_TEST(stats({}, g_iothread, f_enforce).ret_stats[0].params.empty());
  protocol::connect_get_all_domain_stats_args a;
  a.stats = 0xfff;
  a.flags = f_enforce;
  auto refused = call<P::connect_get_all_domain_stats>(a);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message ==
             "argument unsupported: Stats types bits 0xf5e are not supported by this daemon");
  BOOST_TEST(static_cast<int>(refused.error().code) == 74);
  a.stats = 0;
  a.flags = 256; // a VIR_CONNECT_LIST_DOMAINS_* flag outside the stats filters
  auto bad = call<P::connect_get_all_domain_stats>(a);
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message ==
             "unsupported flags (0x100) in function testConnectGetAllDomainStats");
}

BOOST_FIXTURE_TEST_CASE(nowait_reaches_every_backend, fixture) {
  auto r = stats({}, g_state, f_nowait);
  BOOST_TEST(params(r.ret_stats[0])["nowait"] == "yes");
}

BOOST_FIXTURE_TEST_CASE(a_domain_that_never_answers_costs_the_bound_not_the_others, fixture) {
  define("before", true);
  define("hung", true);
  define("after", true);
  // The call comes back (the connection's deadline is 10 s, the driver's
  // bound 300 ms) with every record; the others were asked in parallel and
  // gave theirs, the hung one has what the index knows: its state.
  auto r = stats({}, g_state | g_block, 0);
  BOOST_TEST((names(r) == std::vector<std::string>{"test", "before", "hung", "after"}));
  for (auto& rec : r.ret_stats) {
    auto p = params(rec);
    BOOST_TEST(p["state.state"] == "1", rec.dom.name);
    BOOST_TEST(p.count("block.count") == (rec.dom.name == "hung" ? 0u : 1u), rec.dom.name);
  }
  // And again: nothing of the first call is left waiting in the way.
  auto again = stats({}, g_state | g_block, 0);
  BOOST_TEST(params(again.ret_stats[1])["block.count"] == "2");
}
