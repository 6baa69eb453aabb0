#define BOOST_TEST_MODULE test_model_driver_state
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "drivers/xml/uuid.hpp"
#include "tests/drivers/test/model_harness.hpp"
#include "tests/drivers/test/test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::test;
namespace conf = virtactor::drivers::conf;
using testing::expect_error;
using testing::expect_ok;
using testing::model;
using P = protocol::proc;

namespace {

/// Defines `name` (inactive) with a uuid derived from `n`.
protocol::nonnull_domain define(model& m, const std::string& name, int n) {
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08d-0000-0000-0000-%012d", n, n);
  auto r = m.call<P::domain_define_xml>({"<domain type='test'><name>" + name + "</name><uuid>" +
                                         uuid +
                                         "</uuid><memory>1024</memory><os><type>hvm</type></os>"
                                         "</domain>"});
  BOOST_REQUIRE(r.ok());
  return r->dom;
}

std::vector<std::string> listed(model& m, uint32_t flags) {
  auto r = m.call<P::connect_list_all_domains>({1, flags});
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->ret == r->domains.size());
  std::vector<std::string> names;
  for (auto& d : r->domains)
    names.push_back(d.name);
  std::sort(names.begin(), names.end());
  return names;
}

using names = std::vector<std::string>;

std::string hex(uint32_t v) {
  std::ostringstream out;
  out << std::hex << v;
  return out.str();
}

/// test running (id 1), alpha running (2), bravo paused (3), charlie
/// shut off with autostart, delta transient running (4).
model populated() {
  model m;
  auto a = define(m, "alpha", 1);
  auto b = define(m, "bravo", 2);
  auto c = define(m, "charlie", 3);
  BOOST_REQUIRE(m.call<P::domain_create>({a}).ok());
  BOOST_REQUIRE(m.call<P::domain_create>({b}).ok());
  BOOST_REQUIRE(m.call<P::domain_suspend>({b}).ok());
  BOOST_REQUIRE(m.call<P::domain_set_autostart>({c, 1}).ok());
  BOOST_REQUIRE(m.call<P::domain_create_xml>({"<domain type='test'><name>delta</name>"
                                              "<memory>1024</memory><os><type>hvm</type></os>"
                                              "</domain>",
                                              0})
                  .ok());
  m.take_events();
  return m;
}

} // namespace

BOOST_AUTO_TEST_CASE(open_refuses_an_empty_path) {
  for (auto path : {"", "/"}) {
    auto st = driver_state::open(path);
    expect_error(st, error_code::invalid_arg, error_domain::test,
                 "invalid argument: testOpen: supply a path or use test:///default");
  }
}

BOOST_AUTO_TEST_CASE(initial_domains_are_handed_out_once) {
  auto st = driver_state::open("/default");
  expect_ok(st);
  auto first = (*st)->take_initial_domains();
  BOOST_TEST(first.size() == 1u);
  BOOST_TEST(first.at(0)->summary().dom.name == "test");
  BOOST_TEST((*st)->take_initial_domains().empty());
}

BOOST_AUTO_TEST_CASE(lookups_find_domains_by_name_uuid_and_active_id) {
  model m;
  auto demo = define(m, "demo", 7);
  auto by_name = m.call<P::domain_lookup_by_name>({"demo"});
  expect_ok(by_name);
  BOOST_TEST((by_name->dom == demo));
  auto by_uuid = m.call<P::domain_lookup_by_uuid>({demo.uuid});
  expect_ok(by_uuid);
  BOOST_TEST(by_uuid->dom.name == "demo");
  auto by_id = m.call<P::domain_lookup_by_id>({1});
  expect_ok(by_id);
  BOOST_TEST(by_id->dom.name == "test");
  // An inactive domain has no id to find it by.
  for (int32_t id : {-1, 0, 5})
    expect_error(m.call<P::domain_lookup_by_id>({id}), error_code::no_domain, error_domain::test,
                 "Domain not found");
  expect_error(m.call<P::domain_lookup_by_name>({"nope"}), error_code::no_domain,
               error_domain::test, "Domain not found");
}

BOOST_AUTO_TEST_CASE(list_all_domains_applies_every_filter_pair) {
  auto m = populated();
  BOOST_TEST(listed(m, 0) == (names{"alpha", "bravo", "charlie", "delta", "test"}),
             boost::test_tools::per_element());
  BOOST_TEST(listed(m, 1) == (names{"alpha", "bravo", "delta", "test"}),
             boost::test_tools::per_element());
  BOOST_TEST(listed(m, 2) == names{"charlie"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 3).size() == 5u);
  BOOST_TEST(listed(m, 4) == (names{"alpha", "bravo", "charlie", "test"}),
             boost::test_tools::per_element());
  BOOST_TEST(listed(m, 8) == names{"delta"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 16) == (names{"alpha", "delta", "test"}), boost::test_tools::per_element());
  BOOST_TEST(listed(m, 32) == names{"bravo"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 64) == names{"charlie"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 128).empty());
  BOOST_TEST(listed(m, 32 | 64) == (names{"bravo", "charlie"}), boost::test_tools::per_element());
  BOOST_TEST(listed(m, 256).empty());
  BOOST_TEST(listed(m, 512).size() == 5u);
  BOOST_TEST(listed(m, 1024) == names{"charlie"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 2048).size() == 4u);
  BOOST_TEST(listed(m, 4096).empty());
  BOOST_TEST(listed(m, 8192).size() == 5u);
  BOOST_TEST(listed(m, 16384).empty());
  BOOST_TEST(listed(m, 32768).size() == 5u);
  BOOST_TEST(listed(m, 1 | 4 | 16) == (names{"alpha", "test"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(list_all_domains_without_results_only_counts) {
  auto m = populated();
  auto r = m.call<P::connect_list_all_domains>({0, 1});
  expect_ok(r);
  BOOST_TEST(r->ret == 4u);
  BOOST_TEST(r->domains.empty());
}

BOOST_AUTO_TEST_CASE(list_all_domains_refuses_unknown_flags) {
  model m;
  for (uint32_t bad : {0x10000u, 0x20000u, 0x40000u})
    expect_error(m.call<P::connect_list_all_domains>({1, bad}), error_code::invalid_arg,
                 error_domain::test,
                 "unsupported flags (0x" + hex(bad) + ") in function testConnectListAllDomains");
}

BOOST_AUTO_TEST_CASE(the_old_listing_calls_count_and_name_active_and_defined_domains) {
  auto m = populated();
  BOOST_TEST(m.call<P::connect_num_of_domains>()->num == 4);
  BOOST_TEST(m.call<P::connect_num_of_defined_domains>()->num == 1);
  auto ids = m.call<P::connect_list_domains>({100});
  expect_ok(ids);
  auto sorted = std::vector<int32_t>(ids->ids.begin(), ids->ids.end());
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST(sorted == (std::vector<int32_t>{1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(m.call<P::connect_list_domains>({2})->ids.size() == 2u);
  auto defined = m.call<P::connect_list_defined_domains>({100});
  expect_ok(defined);
  BOOST_TEST(defined->names.size() == 1u);
  BOOST_TEST(defined->names.at(0) == "charlie");
}

BOOST_AUTO_TEST_CASE(the_old_listing_calls_check_their_bounds) {
  model m;
  expect_error(m.call<P::connect_list_domains>({-1}), error_code::invalid_arg,
               error_domain::domain, "maxids in virConnectListDomains must be zero or greater");
  expect_error(m.call<P::connect_list_domains>({16385}), error_code::rpc, error_domain::rpc,
               "maxids > REMOTE_DOMAIN_LIST_MAX");
  expect_error(m.call<P::connect_list_defined_domains>({-1}), error_code::invalid_arg,
               error_domain::domain,
               "maxnames in virConnectListDefinedDomains must be zero or greater");
}

BOOST_AUTO_TEST_CASE(ids_increase_across_the_whole_state) {
  model m;
  auto a = define(m, "alpha", 1);
  auto test = m.dom("test");
  BOOST_REQUIRE(m.call<P::domain_destroy>({test}).ok());
  BOOST_REQUIRE(m.call<P::domain_create>({a}).ok());
  BOOST_REQUIRE(m.call<P::domain_create>({test}).ok());
  BOOST_TEST(m.dom("alpha").id == 2);
  BOOST_TEST(m.dom("test").id == 3);
}

BOOST_AUTO_TEST_CASE(a_new_definition_is_created_in_the_index_and_an_existing_one_forwarded) {
  // The state actor's routing (drivers/conf/state_actor.cpp), as the model does it.
  model m;
  m.next_id = 9;
  auto xml = std::string{"<domain type='test'><name>fresh</name>"
                         "<uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1024</memory>"
                         "<os><type>hvm</type></os></domain>"};
  auto fresh = m.call<P::domain_create_xml>({xml, 0});
  expect_ok(fresh);
  BOOST_TEST(m.domains.size() == 2u);
  auto summary = m.domains.at(std::string(fresh->dom.uuid.begin(), fresh->dom.uuid.end()))->summary();
  BOOST_TEST(summary.dom.id == 9);
  BOOST_TEST(!summary.persistent);
  BOOST_TEST(m.take_events().size() == 1u);
  // The index knows it already.
  auto lookup = m.call<P::domain_lookup_by_name>({"fresh"});
  expect_ok(lookup);
  // Naming it again goes to its object: no new domain.
  auto again = m.call<P::domain_define_xml>({xml});
  expect_ok(again);
  BOOST_TEST(m.domains.size() == 2u);
  BOOST_TEST((again->dom.uuid == summary.dom.uuid));
}

BOOST_AUTO_TEST_CASE(update_replaces_a_summary_and_drops_a_removed_domain) {
  auto st = driver_state::open("/default");
  expect_ok(st);
  conf::domain_list index{traits()};
  auto objs = (*st)->take_initial_domains();
  auto s = objs.at(0)->summary();
  s.autostart = true;
  index.update(s);
  auto r = index.dispatch(static_cast<int32_t>(P::connect_list_all_domains),
                          std::any{protocol::connect_list_all_domains_args{1, 1024}});
  expect_ok(r);
  protocol::connect_list_all_domains_ret listed_ret;
  BOOST_REQUIRE(xdr::decode(*r, listed_ret).empty());
  BOOST_TEST(listed_ret.ret == 1u);
  s.removed = true;
  index.update(s);
  auto gone = index.dispatch(static_cast<int32_t>(P::domain_lookup_by_name),
                             std::any{protocol::name_args{"test"}});
  expect_error(gone, error_code::no_domain, error_domain::test, "Domain not found");
}

BOOST_AUTO_TEST_CASE(domain_procedures_are_routed_to_domain_objects) {
  BOOST_TEST(conf::is_domain_proc(static_cast<int32_t>(P::domain_get_info)));
  BOOST_TEST(conf::is_domain_proc(static_cast<int32_t>(P::domain_undefine_flags)));
  BOOST_TEST(!conf::is_domain_proc(static_cast<int32_t>(P::domain_define_xml)));
  BOOST_TEST(!conf::is_domain_proc(static_cast<int32_t>(P::domain_lookup_by_name)));
  BOOST_TEST(!conf::is_domain_proc(static_cast<int32_t>(P::connect_list_all_domains)));
}

BOOST_AUTO_TEST_CASE(no_domain_error_checks_flags_before_naming_the_missing_domain) {
  model m;
  auto uuid = *drivers::xml::parse_uuid("11111111-2222-3333-4444-555555555555");
  protocol::nonnull_domain ghost{"ghost", uuid, -1};
  expect_error(m.call<P::domain_get_info>({ghost}), error_code::no_domain, error_domain::test,
               "Domain not found: no domain with matching uuid "
               "'11111111-2222-3333-4444-555555555555' (ghost)");
  m.read_only = true;
  auto secure = m.call<P::domain_get_xml_desc>({ghost, 1});
  expect_error(secure, error_code::operation_denied, error_domain::domain,
               "operation forbidden: virDomainGetXMLDesc with secure flag");
}

BOOST_AUTO_TEST_CASE(every_table_procedure_but_the_connections_own_is_implemented) {
  // The connection actor answers open, close, auth and the event and
  // close-callback registrations; the model implements everything else in
  // protocol/procedures.hpp (a call may fail, but not as unsupported).
  struct entry {
    P proc;
    xdr::buffer (*args)();
  };
  using namespace virtactor::protocol;
#define VA_ENTRY(p, A, R, api, acc) entry{P::p, [] { return xdr::encode(A{}); }},
  const entry table[] = {VA_REMOTE_PROCS(VA_ENTRY)};
#undef VA_ENTRY
  const P connection_own[] = {P::connect_open,
                              P::connect_close,
                              P::auth_list,
                              P::auth_sasl_init,
                              P::auth_sasl_start,
                              P::auth_sasl_step,
                              P::auth_polkit,
                              P::connect_domain_event_register_any,
                              P::connect_domain_event_deregister_any,
                              P::connect_domain_event_callback_register_any,
                              P::connect_domain_event_callback_deregister_any,
                              P::connect_register_close_callback,
                              P::connect_unregister_close_callback};
  model m;
  for (auto& e : table) {
    bool own = std::find(std::begin(connection_own), std::end(connection_own), e.proc) !=
               std::end(connection_own);
    auto r = m.raw(static_cast<int32_t>(e.proc), e.args());
    bool unsupported = !r.ok() && r.error().code == error_code::no_support;
    BOOST_TEST(unsupported == own, "procedure " << static_cast<int32_t>(e.proc) << " "
                                                << protocol::proc_name(static_cast<int32_t>(e.proc)));
  }
}
