/// A single-threaded stand-in for the test driver's state and domain actors
/// over the shared domain core, plus typed call helpers.
#pragma once

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <any>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/message.hpp>

#include "drivers/conf/domain_dispatch.hpp"
#include "drivers/conf/domain_list.hpp"
#include "drivers/test/domain_backend.hpp"
#include "drivers/test/domain_setup.hpp"
#include "drivers/test/driver_state.hpp"
#include "drivers/test/errors.hpp"
#include "protocol/procedures.hpp"

namespace virtactor::drivers::test::testing {

/// The reply of one call: the decoded ret struct or the error.
template <class Ret>
using reply = result<Ret>;

/// What a test backend may use of its domain actor: the context of the call
/// in progress. The test backend finishes every operation at once.
class sync_host final : public conf::domain_host {
public:
  call_context ctx;
  call_context& context() override { return ctx; }
  void changed() override {}
  caf::actor handle() override { return {}; }
  caf::actor_system& system() override { std::abort(); }
  void request(const caf::actor&, caf::timespan, caf::message,
               std::function<void(std::string&)>,
               std::function<void(const caf::error&)>) override {
    std::abort(); // the test backend asks nobody
  }
};

/// One domain as its domain actor holds it: the object and its test backend.
class domain_harness {
public:
  explicit domain_harness(std::unique_ptr<domain_object> o)
    : obj(std::move(o)), backend(make_domain_backend()) {
    backend->attach(*obj, host);
  }

  /// Performs `proc` with encoded `args` as the domain actor does: per-domain
  /// procedures, and DEFINE_XML(_FLAGS) / CREATE_XML naming this domain.
  result<xdr::buffer> dispatch(int32_t proc, const xdr::buffer& args, call_context& ctx) {
    std::any decoded;
    if (!protocol::decode_args(proc, args.data(), args.size(), decoded).empty())
      return make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload");
    host.ctx = ctx;
    std::optional<result<xdr::buffer>> out;
    auto reply = [&out](result<xdr::buffer> r) { out = std::move(r); };
    using P = protocol::proc;
    auto define = [&](std::string_view text, uint32_t flags, bool create) -> result<xdr::buffer> {
      auto def = create ? parse_for_create(text, flags) : parse_for_define(text, flags);
      if (!def)
        return def.error();
      return apply(std::move(*def), create, false, ctx);
    };
    switch (static_cast<P>(proc)) {
      case P::domain_define_xml:
        return define(std::any_cast<const protocol::xml_args&>(decoded).xml, 0, false);
      case P::domain_define_xml_flags: {
        auto& a = std::any_cast<const protocol::xml_flags_args&>(decoded);
        return define(a.xml, a.flags, false);
      }
      case P::domain_create_xml: {
        auto& a = std::any_cast<const protocol::domain_create_xml_args&>(decoded);
        return define(a.xml_desc, a.flags, true);
      }
      default:
        conf::dispatch_domain_call(traits(), *obj, *backend, proc, decoded, host.ctx, reply);
        return std::move(*out);
    }
  }

  /// A definition the state parsed (once) for this domain: DEFINE_XML
  /// (`create` false) or CREATE_XML (`fresh`: a domain made for the call).
  result<xdr::buffer> apply(xml::domain_def def, bool create, bool fresh, call_context& ctx) {
    host.ctx = ctx;
    if (!create) {
      auto r = conf::redefine_domain(traits(), *obj, *backend, std::move(def), host.ctx);
      if (!r)
        return r.error();
      return xdr::encode(*r);
    }
    std::optional<result<xdr::buffer>> out;
    conf::create_domain(traits(), *obj, *backend, std::move(def), fresh,
                        [&](result<protocol::dom_only> r) {
                          out = r ? result<xdr::buffer>{xdr::encode(*r)}
                                  : result<xdr::buffer>{r.error()};
                        });
    return std::move(*out);
  }

  domain_summary summary() const { return obj->summary(); }

  std::unique_ptr<domain_object> obj;
  std::unique_ptr<conf::domain_backend> backend;
  sync_host host;
};

/// The procedures a domain's actor performs: per-domain procedures, and the
/// definitions the state actor hands to an existing domain.
inline bool routed_to_domain(int32_t proc) {
  using P = protocol::proc;
  return conf::is_domain_proc(proc) || proc == static_cast<int32_t>(P::domain_define_xml) ||
         proc == static_cast<int32_t>(P::domain_define_xml_flags) ||
         proc == static_cast<int32_t>(P::domain_create_xml);
}

/// A single-threaded stand-in for the test driver's state actor and its
/// domain actors (drivers/conf/state_actor.cpp): routes each call to the
/// domain index, to the driver state or to the domain named by the handle's
/// uuid, hands definitions of existing domains to them, adds new ones, and
/// reports summaries back to the index.
class model {
public:
  /// Opens `uri_path` ("/default" or a node file); on failure `state` is
  /// null and `opened_error` says why (use `driver_state::open` to test failures).
  explicit model(std::string_view uri_path = "/default") {
    auto st = driver_state::open(uri_path);
    if (!st) {
      opened_error = st.error();
      return;
    }
    state = std::move(*st);
    int32_t max_id = 0;
    for (auto& obj : state->take_initial_domains()) {
      max_id = std::max(max_id, obj->id);
      index.update(obj->summary());
      auto k = key(obj->uuid);
      domains.emplace(k, std::make_unique<domain_harness>(std::move(obj)));
    }
    next_id = max_id + 1;
  }

  /// Performs `proc` with encoded `args`, as the actor layer would.
  result<xdr::buffer> raw(int32_t proc, const xdr::buffer& args) {
    call_context ctx;
    ctx.read_only = read_only;
    ctx.events = &events;
    ctx.next_domain_id = [this] { return next_id++; };
    std::any decoded;
    if (!protocol::decode_args(proc, args.data(), args.size(), decoded).empty())
      return make_virt_error(error_code::rpc, error_domain::rpc, "Unable to decode message payload");
    using P = protocol::proc;
    if (conf::is_domain_proc(proc)) {
      protocol::nonnull_domain dom;
      (void) xdr::decode(args, dom);
      auto it = domains.find(key(dom.uuid));
      if (it == domains.end()) {
        if (auto ok = conf::check_domain_call(traits(), proc, decoded, read_only); !ok)
          return ok.error();
        return errors::no_domain_uuid(dom.uuid, dom.name);
      }
      return on_domain(*it->second, proc, args, ctx);
    }
    if (proc == static_cast<int32_t>(P::domain_define_xml) ||
        proc == static_cast<int32_t>(P::domain_define_xml_flags) ||
        proc == static_cast<int32_t>(P::domain_create_xml))
      return define_or_create(proc, decoded, ctx);
    if (conf::domain_list::handles(proc))
      return index.dispatch(proc, decoded);
    return state->call(proc, decoded, ctx);
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
  conf::domain_list index{traits()};
  std::map<std::string, std::unique_ptr<domain_harness>> domains;
  std::vector<domain_event> events;
  int32_t next_id = 1;
  bool read_only = false;

private:
  static std::string key(const xdr::uuid& u) { return std::string(u.begin(), u.end()); }

  result<xdr::buffer> define_or_create(int32_t proc, const std::any& decoded,
                                       call_context& ctx) {
    using P = protocol::proc;
    bool create = proc == static_cast<int32_t>(P::domain_create_xml);
    result<xml::domain_def> def = errors::decode_failed();
    if (create) {
      auto& a = std::any_cast<const protocol::domain_create_xml_args&>(decoded);
      def = state->parse_for_create(a.xml_desc, a.flags);
    } else if (proc == static_cast<int32_t>(P::domain_define_xml)) {
      def = state->parse_for_define(std::any_cast<const protocol::xml_args&>(decoded).xml, 0);
    } else {
      auto& a = std::any_cast<const protocol::xml_flags_args&>(decoded);
      def = state->parse_for_define(a.xml, a.flags);
    }
    if (!def)
      return def.error();
    auto where = index.existing(*def);
    if (!where)
      return where.error();
    if (*where)
      return on_definition(*domains.at(key(**where)), std::move(*def), create, false, ctx);
    auto origin = create ? domain_object::origin::transient : domain_object::origin::defined;
    auto obj = std::make_unique<domain_object>(*def, origin, -1);
    index.update(obj->summary());
    auto k = key(obj->uuid);
    auto& d = *domains.emplace(k, std::make_unique<domain_harness>(std::move(obj))).first->second;
    if (create)
      return on_definition(d, std::move(*def), true, true, ctx);
    ctx.lifecycle(d.obj->handle(), lifecycle_event::defined, conf::detail::defined_added);
    return xdr::encode(protocol::dom_only{d.obj->handle()});
  }

  result<xdr::buffer> on_domain(domain_harness& d, int32_t proc, const xdr::buffer& args,
                                call_context& ctx) {
    return reported(d, d.dispatch(proc, args, ctx));
  }

  result<xdr::buffer> on_definition(domain_harness& d, xml::domain_def def, bool create,
                                    bool fresh, call_context& ctx) {
    return reported(d, d.apply(std::move(def), create, fresh, ctx));
  }

  /// As a domain actor reports to its state after each call.
  result<xdr::buffer> reported(domain_harness& d, result<xdr::buffer> r) {
    auto s = d.summary();
    index.update(s);
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
