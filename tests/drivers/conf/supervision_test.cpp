#define BOOST_TEST_MODULE driver_core_supervision
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"
#include "drivers/conf/actors.hpp"
#include "drivers/conf/state_backend.hpp"
#include "drivers/local_connection.hpp"
#include "drivers/test/domain_backend.hpp"
#include "drivers/test/driver_state.hpp"
#include "protocol/procedures.hpp"
#include "tests/drivers/typed_call.hpp"

// A domain actor that fails is restarted by its state actor from the object
// it kept; other domains and the connection never notice.

using namespace virtactor;
using namespace std::chrono_literals;
namespace conf = virtactor::drivers::conf;
using P = protocol::proc;

namespace {

std::atomic<int> backends_made{0};

/// The test driver's backend, except that suspending "bomb" throws, as a
/// backend with a bug would.
class faulty_backend final : public conf::domain_backend {
public:
  faulty_backend() : inner_(drivers::test::make_domain_backend()) { ++backends_made; }
  void attach(conf::domain_object& o, conf::domain_host& h) override { inner_->attach(o, h); }
  void start(conf::domain_op op, conf::done_fn d) override { inner_->start(op, std::move(d)); }
  void destroy(conf::domain_op op, conf::done_fn d) override { inner_->destroy(op, std::move(d)); }
  void shutdown(conf::domain_op op, conf::done_fn d) override {
    inner_->shutdown(op, std::move(d));
  }
  void reboot(conf::domain_op op, conf::done_fn d) override { inner_->reboot(op, std::move(d)); }
  void reset(conf::domain_op op, conf::done_fn d) override { inner_->reset(op, std::move(d)); }
  void suspend(conf::domain_op op, conf::done_fn d) override {
    if (op.obj.name == "bomb")
      throw std::runtime_error("injected backend failure");
    inner_->suspend(op, std::move(d));
  }
  void resume(conf::domain_op op, conf::done_fn d) override { inner_->resume(op, std::move(d)); }
  void set_live_memory(conf::domain_op op, uint64_t kib, conf::done_fn d) override {
    inner_->set_live_memory(op, kib, std::move(d));
  }
  void set_live_vcpus(conf::domain_op op, uint32_t n, conf::done_fn d) override {
    inner_->set_live_vcpus(op, n, std::move(d));
  }
  uint64_t cpu_time_ns(const conf::domain_object& o) override { return inner_->cpu_time_ns(o); }
  protocol::domain_get_security_label_ret
  security_label(const conf::domain_object& o) override {
    return inner_->security_label(o);
  }
  std::string os_type(const conf::domain_object& o) override { return inner_->os_type(o); }

private:
  std::unique_ptr<conf::domain_backend> inner_;
};

/// test:///default, with faulty backends.
class faulty_state final : public conf::state_backend {
public:
  faulty_state() {
    auto opened = drivers::test::driver_state::open("/default");
    inner_ = std::move(*opened);
  }
  const conf::driver_traits& traits() const override { return inner_->traits(); }
  std::vector<std::unique_ptr<conf::domain_object>> take_initial_domains() override {
    return inner_->take_initial_domains();
  }
  std::unique_ptr<conf::domain_backend> make_backend() override {
    return std::make_unique<faulty_backend>();
  }
  result<drivers::xml::domain_def> parse_for_define(std::string_view x, uint32_t f) override {
    return inner_->parse_for_define(x, f);
  }
  result<drivers::xml::domain_def> parse_for_create(std::string_view x, uint32_t f) override {
    return inner_->parse_for_create(x, f);
  }
  result<xdr::buffer> call(int32_t proc, const std::any& a, conf::call_context& c) override {
    return inner_->call(proc, a, c);
  }

private:
  std::unique_ptr<drivers::test::driver_state> inner_;
};

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  conf::state_actor state;
  connection_actor conn;

  fixture() {
    state = conf::spawn_state(sys, std::make_unique<faulty_state>());
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

  protocol::nonnull_domain define(const std::string& name, const std::string& uuid) {
    auto xml = "<domain type='test'><name>" + name + "</name><uuid>" + uuid +
               "</uuid><memory>1024</memory><os><type>hvm</type></os></domain>";
    auto d = call<P::domain_define_xml>({xml});
    BOOST_REQUIRE(d.ok());
    BOOST_REQUIRE(call<P::domain_create>({d->dom}).ok());
    return call<P::domain_lookup_by_name>({name})->dom;
  }

  int32_t state_of(const protocol::nonnull_domain& d) {
    auto s = call<P::domain_get_state>({d, 0});
    BOOST_REQUIRE(s.ok());
    return s->state;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_failing_domain_actor_is_restarted_and_nobody_else_notices, fixture) {
  auto bomb = define("bomb", "11111111-2222-3333-4444-555555555555");
  auto calm = define("calm", "11111111-2222-3333-4444-666666666666");
  int made_before = backends_made.load();
  // The injected failure ends bomb's actor mid-call: that call fails.
  BOOST_TEST(!call<P::domain_suspend>({bomb}).ok());
  // The other domain and the connection never noticed.
  BOOST_TEST(call<P::domain_suspend>({calm}).ok());
  BOOST_TEST(state_of(calm) == 3);
  auto all = call<P::connect_list_all_domains>({1, 0});
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->ret == 3u); // test, bomb, calm
  // bomb's actor comes back from the object its state kept (at once, or
  // within the moment the state takes to hear of the failure): still
  // running, and it serves calls again.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto back = call<P::domain_get_state>({bomb, 0});
  while (!back.ok() && std::chrono::steady_clock::now() < deadline)
    back = call<P::domain_get_state>({bomb, 0});
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(back->state == 1);
  BOOST_TEST(backends_made.load() == made_before + 1);
  BOOST_TEST(call<P::domain_destroy>({bomb}).ok());
  BOOST_TEST(state_of(bomb) == 5);
}
