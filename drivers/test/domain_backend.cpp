#include "drivers/test/domain_backend.hpp"

#include <string>

#include "drivers/test/errors.hpp"
#include "drivers/test/node.hpp"

namespace virtactor::drivers::test {

using conf::domain_object;
using conf::domain_op;
using conf::domain_state;
using conf::done_fn;
namespace reason = conf::reason;
namespace detail = conf::detail;

const conf::driver_traits& traits() {
  static const conf::driver_traits t = [] {
    conf::driver_traits x;
    x.prefix = "test";
    x.domain = error_domain::test;
    x.flags.create = 0;
    x.flags.destroy = 1;                     // GRACEFUL
    x.flags.shutdown = 0;
    x.flags.reboot = 1 | 2 | 4 | 8 | 16;    // every VIR_DOMAIN_REBOOT_* mode
    x.max_vcpus = max_vcpus;
    // testDomainGetStatsWorkers: state, and iothread, which is always empty
    // (the test driver keeps no IOThread statistics).
    x.stats_groups = conf::stats_group::state | conf::stats_group::iothread;
    return x;
  }();
  return t;
}

namespace {

class test_domain final : public conf::domain_backend {
public:
  explicit test_domain(wall_clock now) : now_(std::move(now)) {}

  void attach(domain_object&, conf::domain_host& host) override { host_ = &host; }

  /// `testDomainCreateWithFlags`: `testDomainStartState`.
  void start(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (obj.state != domain_state::shutoff)
      return done(errors::internal("Domain '" + op.handle.name + "' is already running"));
    auto& ctx = host_->context();
    obj.mark_started(ctx.next_domain_id(), reason::running_booted);
    ctx.lifecycle(obj.handle(), lifecycle_event::started, detail::started_booted);
    done(result<void>{});
  }

  void destroy(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (!obj.active())
      return done(errors::domain_not_running());
    obj.mark_stopped(reason::shutoff_destroyed);
    host_->context().lifecycle(obj.handle(), lifecycle_event::stopped, detail::stopped_destroyed);
    done(result<void>{});
  }

  void shutdown(domain_op op, done_fn done) override {
    if (op.obj.state == domain_state::shutoff)
      return done(errors::internal("domain '" + op.handle.name + "' not running"));
    power_action(op.obj, op.obj.current().on_poweroff);
    done(result<void>{});
  }

  void reboot(domain_op op, done_fn done) override {
    if (!op.obj.active())
      return done(errors::domain_not_running());
    power_action(op.obj, op.obj.current().on_reboot);
    done(result<void>{});
  }

  /// `testDomainReset`: nothing happens to a simulated machine.
  void reset(domain_op op, done_fn done) override {
    if (!op.obj.active())
      return done(errors::domain_not_running());
    done(result<void>{});
  }

  void suspend(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (obj.state == domain_state::shutoff || obj.state == domain_state::paused)
      return done(errors::internal("domain '" + op.handle.name + "' not running"));
    obj.set_state(domain_state::paused, reason::paused_user);
    host_->context().lifecycle(obj.handle(), lifecycle_event::suspended, detail::suspended_paused);
    done(result<void>{});
  }

  void resume(domain_op op, done_fn done) override {
    auto& obj = op.obj;
    if (obj.state != domain_state::paused)
      return done(errors::internal("domain '" + op.handle.name + "' not paused"));
    obj.set_state(domain_state::running, reason::running_unpaused);
    host_->context().lifecycle(obj.handle(), lifecycle_event::resumed, detail::resumed_unpaused);
    done(result<void>{});
  }

  // Nothing runs: the definition is the whole guest.
  void set_live_memory(domain_op op, uint64_t kib, done_fn done) override {
    op.obj.current().set_current_memory(kib);
    done(result<void>{});
  }
  void set_live_vcpus(domain_op, uint32_t, done_fn done) override { done(result<void>{}); }

  /// The test driver reports wall-clock time in nanoseconds as CPU time.
  struct wall_cpu final : conf::cpu_clock {
    explicit wall_cpu(wall_clock c) : now(std::move(c)) {}
    wall_clock now;
    uint64_t cpu_time_ns() const override {
      auto t = now ? now() : std::chrono::system_clock::now();
      auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
      return static_cast<uint64_t>(us) * 1000;
    }
  };

  uint64_t cpu_time_ns(const domain_object&) override { return clock_->cpu_time_ns(); }

  std::shared_ptr<const conf::cpu_clock> cpu_clock_of(const domain_object&) override {
    return clock_;
  }

  protocol::domain_get_security_label_ret security_label(const domain_object& obj) override {
    protocol::domain_get_security_label_ret r;
    if (obj.active()) {
      r.label = test::security_label;
      r.enforcing = 1;
    }
    return r;
  }

  std::string os_type(const domain_object&) override { return test::os_type; }

private:
  /// `testDomainActionSetState` for an `on_poweroff` / `on_reboot` action.
  void power_action(domain_object& obj, const std::string& action) {
    if (action == "restart" || action == "rename-restart") {
      obj.set_state(domain_state::running, reason::running_booted);
      return;
    }
    obj.set_state(domain_state::shutoff, reason::shutoff_shutdown);
    obj.mark_stopped(reason::shutoff_shutdown);
    host_->context().lifecycle(obj.handle(), lifecycle_event::stopped, detail::stopped_shutdown);
  }

  wall_clock now_;
  std::shared_ptr<const wall_cpu> clock_ = std::make_shared<const wall_cpu>(now_);
  conf::domain_host* host_ = nullptr;
};

} // namespace

std::unique_ptr<conf::domain_backend> make_domain_backend(wall_clock now) {
  return std::make_unique<test_domain>(std::move(now));
}

} // namespace virtactor::drivers::test
