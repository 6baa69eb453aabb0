#define BOOST_TEST_MODULE test_model_scenario
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "tests/drivers/test/model_harness.hpp"

// Golden sessions: data/scenarios/NAME.txt lists operations on
// test:///default; NAME.expected is what libvirt's real test driver answered,
// recorded by data/scenarios/generate.py (python3-libvirt). This test runs
// the same operations on the model and compares every line: values, states,
// ids, errors (code, domain, message) and lifecycle events in order.

using namespace virtactor;
using namespace virtactor::drivers::test;
using testing::model;
using P = protocol::proc;

namespace {

class session {
public:
  /// Performs one scenario line; returns "LINE -> RESULT" and its events.
  std::vector<std::string> run(const std::string& line) {
    std::istringstream in{line};
    std::string op;
    in >> op;
    std::vector<std::string> args;
    for (std::string a; in >> a;)
      args.push_back(a);
    std::vector<std::string> out{line + " -> " + perform(op, args)};
    for (auto& ev : m_.take_events())
      out.push_back("  event " + ev.dom.name + " " + std::to_string(ev.dom.id) + " " +
                    std::to_string(ev.event) + " " + std::to_string(ev.detail));
    return out;
  }

private:
  template <class R>
  static std::string error_of(const R& r) {
    auto msg = r.error().message;
    std::replace(msg.begin(), msg.end(), '\n', '|');
    return "error " + std::to_string(static_cast<int>(r.error().code)) + " " +
           std::to_string(static_cast<int>(r.error().domain)) + " " + msg;
  }

  /// python3-libvirt's `lookupByName`, falling back to the last handle seen.
  protocol::nonnull_domain dom(const std::string& name) {
    auto r = m_.call<P::domain_lookup_by_name>({name});
    if (r)
      handles_[name] = r->dom;
    return handles_[name];
  }

  static std::string domain_xml(const std::vector<std::string>& a) {
    return "<domain type='test'><name>" + a.at(0) + "</name><uuid>" + a.at(1) +
           "</uuid><memory>" + a.at(3) + "</memory><vcpu>" + a.at(2) +
           "</vcpu><os><type>hvm</type></os></domain>";
  }

  protocol::nonnull_network net(const std::string& name) {
    auto r = m_.call<P::network_lookup_by_name>({name});
    if (r)
      nets_[name] = r->net;
    return nets_[name];
  }

  protocol::nonnull_storage_pool pool(const std::string& name) {
    auto r = m_.call<P::storage_pool_lookup_by_name>({name});
    if (r)
      pools_[name] = r->pool;
    return pools_[name];
  }

  protocol::nonnull_storage_vol vol(const std::string& p, const std::string& name) {
    auto r = m_.call<P::storage_vol_lookup_by_name>({pool(p), name});
    if (r)
      vols_[p + "/" + name] = r->vol;
    return vols_[p + "/" + name];
  }

  static std::string joined(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    std::string s;
    for (auto& n : names)
      s += (s.empty() ? "" : " ") + n;
    return s;
  }

  static std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', '|');
    return s;
  }

  /// The networks, pools and volumes operations of generate.py.
  std::optional<std::string> perform_storage(const std::string& op,
                                             const std::vector<std::string>& a) {
    auto name_of = [](auto& x) { return x.net.name; };
    auto pool_name = [](auto& x) { return x.pool.name; };
    auto net_xml = [&] {
      return "<network><name>" + a.at(0) + "</name><uuid>" + a.at(1) + "</uuid><bridge name='" +
             a.at(2) + "'/></network>";
    };
    auto pool_xml = [&] {
      return "<pool type='dir'><name>" + a.at(0) + "</name><uuid>" + a.at(1) +
             "</uuid><target><path>" + a.at(2) + "</path></target></pool>";
    };
    if (op == "netstate") {
      auto n = net(a[0]);
      auto active = m_.call<P::network_is_active>({n});
      if (!active)
        return error_of(active);
      auto persistent = m_.call<P::network_is_persistent>({n});
      auto autostart = m_.call<P::network_get_autostart>({n});
      return std::to_string(active->value) + " " + std::to_string(persistent->value) + " " +
             std::to_string(autostart->value);
    }
    if (op == "netxml")
      return show(m_.call<P::network_get_xml_desc>({net(a[0]), 0}),
                  [](auto& x) { return one_line(x.xml); });
    if (op == "netbridge")
      return show(m_.call<P::network_get_bridge_name>({net(a[0])}),
                  [](auto& x) { return x.name; });
    if (op == "netstart")
      return done(m_.call<P::network_create>({net(a[0])}));
    if (op == "netdestroy")
      return done(m_.call<P::network_destroy>({net(a[0])}));
    if (op == "netundefine")
      return done(m_.call<P::network_undefine>({net(a[0])}));
    if (op == "netautostart")
      return done(m_.call<P::network_set_autostart>({net(a[0]), static_cast<int32_t>(u(a[1]))}));
    if (op == "netdefine")
      return show(m_.call<P::network_define_xml>({net_xml()}), name_of);
    if (op == "netcreatexml")
      return show(m_.call<P::network_create_xml>({net_xml()}), name_of);
    if (op == "netlist")
      return show(m_.call<P::connect_list_all_networks>({1, u(a[0])}), [](auto& x) {
        std::vector<std::string> names;
        for (auto& n : x.nets)
          names.push_back(n.name);
        return joined(names);
      });
    if (op == "poolinfo") {
      auto p = pool(a[0]);
      auto i = m_.call<P::storage_pool_get_info>({p});
      if (!i)
        return error_of(i);
      return std::to_string(i->state) + " " + std::to_string(i->capacity) + " " +
             std::to_string(i->allocation) + " " + std::to_string(i->available) + " " +
             std::to_string(m_.call<P::storage_pool_is_active>({p})->value) + " " +
             std::to_string(m_.call<P::storage_pool_is_persistent>({p})->value) + " " +
             std::to_string(m_.call<P::storage_pool_get_autostart>({p})->value);
    }
    if (op == "poolxml")
      return show(m_.call<P::storage_pool_get_xml_desc>({pool(a[0]), 0}),
                  [](auto& x) { return one_line(x.xml); });
    if (op == "poolstart")
      return done(m_.call<P::storage_pool_create>({pool(a[0]), 0}));
    if (op == "pooldestroy")
      return done(m_.call<P::storage_pool_destroy>({pool(a[0])}));
    if (op == "poolundefine")
      return done(m_.call<P::storage_pool_undefine>({pool(a[0])}));
    if (op == "poolbuild")
      return done(m_.call<P::storage_pool_build>({pool(a[0]), 0}));
    if (op == "pooldelete")
      return done(m_.call<P::storage_pool_delete>({pool(a[0]), 0}));
    if (op == "poolrefresh")
      return done(m_.call<P::storage_pool_refresh>({pool(a[0]), 0}));
    if (op == "poolautostart")
      return done(
        m_.call<P::storage_pool_set_autostart>({pool(a[0]), static_cast<int32_t>(u(a[1]))}));
    if (op == "pooldefine")
      return show(m_.call<P::storage_pool_define_xml>({pool_xml(), 0}), pool_name);
    if (op == "poolcreatexml")
      return show(m_.call<P::storage_pool_create_xml>({pool_xml(), 0}), pool_name);
    if (op == "poollist")
      return show(m_.call<P::connect_list_all_storage_pools>({1, u(a[0])}), [](auto& x) {
        std::vector<std::string> names;
        for (auto& p : x.pools)
          names.push_back(p.name);
        return joined(names);
      });
    if (op == "volcreate") {
      auto xml = "<volume><name>" + a.at(1) + "</name><capacity unit='bytes'>" + a.at(2) +
                 "</capacity><allocation unit='bytes'>" + a.at(3) + "</allocation></volume>";
      auto r = m_.call<P::storage_vol_create_xml>({pool(a[0]), xml, 0});
      if (r)
        vols_[a[0] + "/" + a[1]] = r->vol;
      return show(r, [](auto& x) { return x.vol.key; });
    }
    if (op == "voldelete")
      return done(m_.call<P::storage_vol_delete>({vol(a[0], a[1]), 0}));
    if (op == "volinfo")
      return show(m_.call<P::storage_vol_get_info>({vol(a[0], a[1])}), [](auto& x) {
        return std::to_string(x.type) + " " + std::to_string(x.capacity) + " " +
               std::to_string(x.allocation);
      });
    if (op == "volxml")
      return show(m_.call<P::storage_vol_get_xml_desc>({vol(a[0], a[1]), 0}),
                  [](auto& x) { return one_line(x.xml); });
    if (op == "vollist")
      return show(m_.call<P::storage_pool_list_volumes>({pool(a[0]), 16384}), [](auto& x) {
        return joined(std::vector<std::string>(x.names.begin(), x.names.end()));
      });
    return std::nullopt;
  }

  template <class R, class F>
  static std::string show(const R& r, F f) {
    return r ? f(*r) : error_of(r);
  }

  template <class R>
  static std::string done(const R& r) {
    return r ? std::string{"ok"} : error_of(r);
  }

  static uint32_t u(const std::string& s) { return static_cast<uint32_t>(std::stoul(s)); }

  std::string list(uint32_t flags) {
    auto r = m_.call<P::connect_list_all_domains>({1, flags});
    return show(r, [](auto& x) {
      std::vector<std::string> names;
      for (auto& d : x.domains)
        names.push_back(d.name);
      std::sort(names.begin(), names.end());
      std::string s;
      for (auto& n : names)
        s += (s.empty() ? "" : " ") + n;
      return s;
    });
  }

  std::string perform(const std::string& op, const std::vector<std::string>& a) {
    auto handle_and_id = [&](auto& x) { return x.dom.name + " " + std::to_string(x.dom.id); };
    auto num = [](auto& x) { return std::to_string(x.value); };
    if (op == "state")
      return show(m_.call<P::domain_get_state>({dom(a[0]), 0}), [](auto& x) {
        return std::to_string(x.state) + " " + std::to_string(x.reason);
      });
    if (op == "info")
      return show(m_.call<P::domain_get_info>({dom(a[0])}), [](auto& x) {
        return std::to_string(x.state) + " " + std::to_string(x.max_mem) + " " +
               std::to_string(x.memory) + " " + std::to_string(x.nr_virt_cpu);
      });
    if (op == "lookup") {
      auto r = m_.call<P::domain_lookup_by_name>({a[0]});
      if (r)
        handles_[a[0]] = r->dom;
      return show(r, handle_and_id);
    }
    if (op == "suspend")
      return done(m_.call<P::domain_suspend>({dom(a[0])}));
    if (op == "resume")
      return done(m_.call<P::domain_resume>({dom(a[0])}));
    if (op == "create")
      return done(m_.call<P::domain_create>({dom(a[0])}));
    if (op == "destroy")
      return done(m_.call<P::domain_destroy>({dom(a[0])}));
    if (op == "shutdown")
      return done(m_.call<P::domain_shutdown>({dom(a[0])}));
    if (op == "undefine")
      return done(m_.call<P::domain_undefine>({dom(a[0])}));
    if (op == "reboot")
      return done(m_.call<P::domain_reboot>({dom(a[0]), 0}));
    if (op == "createflags")
      return done(m_.call<P::domain_create_with_flags>({dom(a[0]), u(a[1])}));
    if (op == "undefineflags")
      return done(m_.call<P::domain_undefine_flags>({dom(a[0]), u(a[1])}));
    if (op == "setmem")
      return done(m_.call<P::domain_set_memory>({dom(a[0]), u(a[1])}));
    if (op == "setmaxmem")
      return done(m_.call<P::domain_set_max_memory>({dom(a[0]), u(a[1])}));
    if (op == "setmemflags")
      return done(m_.call<P::domain_set_memory_flags>({dom(a[0]), u(a[1]), u(a[2])}));
    if (op == "setvcpus")
      return done(m_.call<P::domain_set_vcpus>({dom(a[0]), u(a[1])}));
    if (op == "setvcpusflags")
      return done(m_.call<P::domain_set_vcpus_flags>({dom(a[0]), u(a[1]), u(a[2])}));
    if (op == "vcpusflags")
      return show(m_.call<P::domain_get_vcpus_flags>({dom(a[0]), u(a[1])}), num);
    if (op == "maxvcpus")
      return show(m_.call<P::domain_get_max_vcpus>({dom(a[0])}), num);
    if (op == "maxmem")
      return show(m_.call<P::domain_get_max_memory>({dom(a[0])}),
                  [](auto& x) { return std::to_string(x.memory); });
    if (op == "seclabel")
      return show(m_.call<P::domain_get_security_label>({dom(a[0])}), [](auto& x) {
        return "'" + std::string{x.label} + "' " + std::to_string(x.enforcing);
      });
    if (op == "getautostart")
      return show(m_.call<P::domain_get_autostart>({dom(a[0])}), num);
    if (op == "autostart")
      return done(m_.call<P::domain_set_autostart>({dom(a[0]), static_cast<int32_t>(u(a[1]))}));
    if (op == "persistent")
      return show(m_.call<P::domain_is_persistent>({dom(a[0])}), num);
    if (op == "active")
      return show(m_.call<P::domain_is_active>({dom(a[0])}), num);
    if (op == "xml")
      return show(m_.call<P::domain_get_xml_desc>({dom(a[0]), u(a[1])}), [](auto& x) {
        auto s = x.xml;
        std::replace(s.begin(), s.end(), '\n', '|');
        return s;
      });
    if (op == "list")
      return list(u(a[0]));
    if (op == "listids")
      return show(m_.call<P::connect_list_domains>({16384}), [](auto& x) {
        std::vector<int32_t> ids(x.ids.begin(), x.ids.end());
        std::sort(ids.begin(), ids.end());
        std::string s;
        for (auto id : ids)
          s += (s.empty() ? "" : " ") + std::to_string(id);
        return s;
      });
    if (op == "listdefined")
      return show(m_.call<P::connect_list_defined_domains>({16384}), [](auto& x) {
        std::vector<std::string> names(x.names.begin(), x.names.end());
        std::sort(names.begin(), names.end());
        std::string s;
        for (auto& n : names)
          s += (s.empty() ? "" : " ") + n;
        return s;
      });
    if (op == "numdomains")
      return show(m_.call<P::connect_num_of_domains>(),
                  [](auto& x) { return std::to_string(x.num); });
    if (op == "numdefined")
      return show(m_.call<P::connect_num_of_defined_domains>(),
                  [](auto& x) { return std::to_string(x.num); });
    if (op == "define")
      return show(m_.call<P::domain_define_xml>({domain_xml(a)}), handle_and_id);
    if (op == "createxml")
      return show(m_.call<P::domain_create_xml>({domain_xml(a), 0}), handle_and_id);
    if (auto r = perform_storage(op, a))
      return *r;
    return "unknown operation " + op;
  }

  model m_;
  std::map<std::string, protocol::nonnull_domain> handles_;
  std::map<std::string, protocol::nonnull_network> nets_;
  std::map<std::string, protocol::nonnull_storage_pool> pools_;
  std::map<std::string, protocol::nonnull_storage_vol> vols_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

void run_scenario(const std::string& name) {
  session s;
  std::vector<std::string> got;
  for (auto& line : lines_of(testing::data_file("scenarios/" + name + ".txt"))) {
    if (line.empty() || line[0] == '#')
      continue;
    for (auto& out : s.run(line))
      got.push_back(out);
  }
  auto want = lines_of(testing::data_file("scenarios/" + name + ".expected"));
  BOOST_REQUIRE(!want.empty());
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    auto g = i < got.size() ? got[i] : "<missing>";
    auto w = i < want.size() ? want[i] : "<missing>";
    BOOST_TEST(g == w, "line " << i + 1 << ": got [" << g << "] want [" << w << "]");
    if (g != w)
      break; // later lines depend on this one
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_lifecycle_session_answers_as_libvirts_test_driver) {
  run_scenario("lifecycle");
}

BOOST_AUTO_TEST_CASE(a_network_and_storage_session_answers_as_libvirts_test_driver) {
  run_scenario("storage");
}
