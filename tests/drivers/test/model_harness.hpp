/// A single-threaded stand-in for the test driver's actors: routes each call
/// to the driver state or to the domain object named by the handle's uuid,
/// forwards redefinitions, adopts created domains and reports summaries back,
/// as drivers/test/test_driver_actor.cpp does; plus typed call helpers.
#pragma once

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "drivers/test/driver_state.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::test::testing {

/// The reply of one call: the decoded ret struct or the error.
template <class Ret>
using reply = result<Ret>;

class model {
public:
  /// Opens `uri_path` ("/default" or a node file); aborts the test run when
  /// that fails (use `driver_state::open` to test failures).
  explicit model(std::string_view uri_path = "/default") {
    auto st = driver_state::open(uri_path);
    if (!st) {
      opened_error = st.error();
      return;
    }
    state = std::move(*st);
    int32_t max_id = 0;
    for (auto& obj : state->take_initial_domains()) {
      auto s = obj->summary();
      max_id = std::max(max_id, s.dom.id);
      domains.emplace(key(s.dom.uuid), std::move(obj));
    }
    next_id = max_id + 1;
  }

  /// Performs `proc` with encoded `args`, as the actor layer would.
  result<xdr::buffer> raw(int32_t proc, const xdr::buffer& args) {
    call_context ctx;
    ctx.read_only = read_only;
    ctx.events = &events;
    ctx.next_domain_id = [this] { return next_id++; };
    if (driver_state::is_domain_proc(proc)) {
      protocol::nonnull_domain dom;
      if (!xdr::decode(args, dom).empty())
        return make_virt_error(error_code::rpc, error_domain::rpc,
                               "Unable to decode message payload");
      auto it = domains.find(key(dom.uuid));
      if (it == domains.end())
        return state->no_domain_error(proc, args, ctx);
      return on_domain(*it->second, proc, args, ctx);
    }
    auto out = state->dispatch(proc, args, ctx);
    if (!out)
      return out.error();
    if (out->forward_to) {
      auto it = domains.find(key(*out->forward_to));
      if (it == domains.end())
        return make_virt_error(error_code::internal_error, error_domain::test,
                               "forwarded to an unknown domain");
      return on_domain(*it->second, proc, args, ctx);
    }
    if (out->created) {
      auto s = out->created->summary();
      domains.emplace(key(s.dom.uuid), std::move(out->created));
    }
    return std::move(out->reply);
  }

  /// Performs procedure `P` with typed args; decodes the typed ret.
  template <protocol::proc P>
  reply<typename protocol::proc_traits<P>::ret>
  call(const typename protocol::proc_traits<P>::args& args = {}) {
    auto r = raw(static_cast<int32_t>(P), xdr::encode(args));
    if (!r)
      return r.error();
    typename protocol::proc_traits<P>::ret ret;
    auto err = xdr::decode(*r, ret);
    if (!err.empty())
      return make_virt_error(error_code::rpc, error_domain::rpc, "bad reply: " + err);
    return ret;
  }

  /// The handle of the domain named `name` (a LOOKUP_BY_NAME).
  protocol::nonnull_domain dom(const std::string& name) {
    auto r = call<protocol::proc::domain_lookup_by_name>({name});
    return r ? r->dom : protocol::nonnull_domain{name, {}, -1};
  }

  /// The events appended since the last call of `take_events`.
  std::vector<domain_event> take_events() { return std::exchange(events, {}); }

  std::unique_ptr<driver_state> state;
  std::optional<virt_error> opened_error;
  std::map<std::string, std::unique_ptr<domain_object>> domains;
  std::vector<domain_event> events;
  int32_t next_id = 1;
  bool read_only = false;

private:
  static std::string key(const xdr::uuid& u) { return std::string(u.begin(), u.end()); }

  result<xdr::buffer> on_domain(domain_object& obj, int32_t proc, const xdr::buffer& args,
                                call_context& ctx) {
    auto r = obj.dispatch(proc, args, ctx);
    auto s = obj.summary();
    state->update(s);
    if (s.removed)
      domains.erase(key(s.dom.uuid));
    return r;
  }
};

/// The absolute path of `tests/drivers/test/data/NAME`.
inline std::string data_path(const std::string& name) {
  const char* src = std::getenv("VA_SOURCE_DIR");
  std::string root = src ? src : VA_TEST_SOURCE_DIR;
  return root + "/tests/drivers/test/data/" + name;
}

/// The contents of `tests/drivers/test/data/NAME`.
inline std::string data_file(const std::string& name) {
  std::ifstream in{data_path(name)};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// A domain event, for comparisons.
inline domain_event lifecycle(const protocol::nonnull_domain& dom, int32_t event,
                              int32_t detail) {
  return domain_event{0, 0, dom, event, detail};
}

} // namespace virtactor::drivers::test::testing
