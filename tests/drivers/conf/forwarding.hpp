#pragma once
// Test support: test:///default on the shared core with a backend a test can
// bend. `forwarding_backend` passes every call to the test driver's own
// backend; a test derives from it and overrides the one call it breaks.
// `forwarding_state` is test:///default whose domains get the test's backend
// and whose traits the test may adjust.

#include <functional>
#include <memory>

#include "drivers/conf/state_backend.hpp"
#include "drivers/test/domain_backend.hpp"
#include "drivers/test/driver_state.hpp"

namespace virtactor::testing {

namespace conf = virtactor::drivers::conf;

class forwarding_backend : public conf::domain_backend {
public:
  forwarding_backend() : inner_(drivers::test::make_domain_backend()) {}
  void attach(conf::domain_object& o, conf::domain_host& h) override { inner_->attach(o, h); }
  void start(conf::domain_op op, conf::done_fn d) override { inner_->start(op, std::move(d)); }
  void destroy(conf::domain_op op, conf::done_fn d) override { inner_->destroy(op, std::move(d)); }
  void shutdown(conf::domain_op op, conf::done_fn d) override {
    inner_->shutdown(op, std::move(d));
  }
  void reboot(conf::domain_op op, conf::done_fn d) override { inner_->reboot(op, std::move(d)); }
  void reset(conf::domain_op op, conf::done_fn d) override { inner_->reset(op, std::move(d)); }
  void suspend(conf::domain_op op, conf::done_fn d) override { inner_->suspend(op, std::move(d)); }
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
  void stats(const conf::domain_object& o, const conf::stats_request& r,
             conf::stats_done_fn d) override {
    inner_->stats(o, r, std::move(d));
  }

private:
  std::unique_ptr<conf::domain_backend> inner_;
};

class forwarding_state final : public conf::state_backend {
public:
  using factory = std::function<std::unique_ptr<conf::domain_backend>()>;

  /// test:///default whose domains get `make`'s backends; `adjust` may
  /// change the traits (limits, stats groups).
  explicit forwarding_state(factory make,
                            std::function<void(conf::driver_traits&)> adjust = nullptr)
    : make_(std::move(make)) {
    auto opened = drivers::test::driver_state::open("/default");
    inner_ = std::move(*opened);
    traits_ = inner_->traits();
    if (adjust)
      adjust(traits_);
  }
  const conf::driver_traits& traits() const override { return traits_; }
  std::vector<std::unique_ptr<conf::domain_object>> take_initial_domains() override {
    return inner_->take_initial_domains();
  }
  std::unique_ptr<conf::domain_backend> make_backend() override { return make_(); }
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
  factory make_;
  conf::driver_traits traits_;
  std::unique_ptr<drivers::test::driver_state> inner_;
};

} // namespace virtactor::testing
