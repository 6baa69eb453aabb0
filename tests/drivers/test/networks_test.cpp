#define BOOST_TEST_MODULE test_model_networks
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "drivers/xml/uuid.hpp"
#include "tests/drivers/test/model_harness.hpp"
#include "tests/drivers/test/test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::test;
using testing::expect_error;
using testing::expect_ok;
using testing::model;
using P = protocol::proc;
using protocol::nonnull_network;

namespace {

constexpr const char* default_uuid = "dd8fe884-6c02-601e-7551-cca97df1c5df";
constexpr const char* n1_uuid = "dd8fe884-6c02-601e-7551-cca97df1c5d1";

std::string n1_xml(const std::string& bridge = "vbr1") {
  return std::string{"<network><name>n1</name><uuid>"} + n1_uuid + "</uuid><bridge name='" +
         bridge + "'/></network>";
}

nonnull_network net(model& m, const std::string& name) {
  auto r = m.call<P::network_lookup_by_name>({name});
  BOOST_REQUIRE(r.ok());
  return r->net;
}

std::vector<std::string> listed(model& m, uint32_t flags) {
  auto r = m.call<P::connect_list_all_networks>({1, flags});
  BOOST_REQUIRE(r.ok());
  std::vector<std::string> out;
  for (auto& n : r->nets)
    out.push_back(n.name);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_default_network_is_active_persistent_and_formats_as_libvirt) {
  model m;
  auto n = net(m, "default");
  BOOST_TEST(drivers::xml::format_uuid(n.uuid) == default_uuid);
  BOOST_TEST(m.call<P::network_is_active>({n})->value == 1);
  BOOST_TEST(m.call<P::network_is_persistent>({n})->value == 1);
  BOOST_TEST(m.call<P::network_get_autostart>({n})->value == 0);
  BOOST_TEST(m.call<P::network_get_bridge_name>({n})->name == "virbr0");
  auto xml = m.call<P::network_get_xml_desc>({n, 0});
  expect_ok(xml);
  BOOST_TEST(xml->xml == testing::data_file("net-dumpxml-default.xml"));
  BOOST_TEST(m.call<P::network_lookup_by_uuid>({n.uuid})->net.name == "default");
}

BOOST_AUTO_TEST_CASE(network_lookups_fail_with_the_name_or_uuid_asked_for) {
  model m;
  expect_error(m.call<P::network_lookup_by_name>({"x"}), error_code::no_network,
               error_domain::test, "Network not found: no network with matching name 'x'");
  auto other = *drivers::xml::parse_uuid(n1_uuid);
  expect_error(m.call<P::network_lookup_by_uuid>({other}), error_code::no_network,
               error_domain::test,
               std::string{"Network not found: no network with matching uuid '"} + n1_uuid + "'");
}

BOOST_AUTO_TEST_CASE(network_xml_takes_no_flags) {
  model m;
  auto n = net(m, "default");
  for (uint32_t f : {1u, 2u})
    expect_error(m.call<P::network_get_xml_desc>({n, f}), error_code::invalid_arg,
                 error_domain::test,
                 "unsupported flags (0x" + std::to_string(f) + ") in function testNetworkGetXMLDesc");
}

BOOST_AUTO_TEST_CASE(start_stop_and_undefine_follow_the_test_drivers_rules) {
  model m;
  auto n = net(m, "default");
  expect_error(m.call<P::network_create>({n}), error_code::operation_invalid, error_domain::test,
               "Requested operation is not valid: Network 'default' is already running");
  expect_error(m.call<P::network_undefine>({n}), error_code::operation_invalid, error_domain::test,
               "Requested operation is not valid: Network 'default' is still running");
  BOOST_TEST(m.call<P::connect_num_of_networks>()->num == 1);
  BOOST_TEST(m.call<P::connect_num_of_defined_networks>()->num == 0);
  expect_ok(m.call<P::network_destroy>({n}));
  // Destroying an inactive network is no error in the test driver.
  expect_ok(m.call<P::network_destroy>({n}));
  BOOST_TEST(m.call<P::network_is_active>({n})->value == 0);
  BOOST_TEST(m.call<P::connect_num_of_defined_networks>()->num == 1);
  BOOST_TEST(m.call<P::connect_list_defined_networks>({10})->names.at(0) == "default");
  BOOST_TEST(m.call<P::connect_list_networks>({10})->names.empty());
  expect_ok(m.call<P::network_create>({n}));
  expect_ok(m.call<P::network_destroy>({n}));
  expect_ok(m.call<P::network_undefine>({n}));
  expect_error(m.call<P::network_lookup_by_name>({"default"}), error_code::no_network,
               error_domain::test, "Network not found: no network with matching name 'default'");
  // A stale handle: by-name calls name the name, by-uuid calls the uuid.
  expect_error(m.call<P::network_get_xml_desc>({n, 0}), error_code::no_network,
               error_domain::test, "Network not found: no network with matching name 'default'");
  expect_error(m.call<P::network_is_active>({n}), error_code::no_network, error_domain::test,
               std::string{"Network not found: no network with matching uuid '"} + default_uuid +
                 "'");
}

BOOST_AUTO_TEST_CASE(autostart_is_kept_per_network) {
  model m;
  auto n = net(m, "default");
  expect_ok(m.call<P::network_set_autostart>({n, 1}));
  BOOST_TEST(m.call<P::network_get_autostart>({n})->value == 1);
  BOOST_TEST(listed(m, 16) == std::vector<std::string>{"default"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 32).empty());
}

BOOST_AUTO_TEST_CASE(a_created_network_is_transient_until_defined) {
  model m;
  auto r = m.call<P::network_create_xml>({n1_xml()});
  expect_ok(r);
  BOOST_TEST(m.call<P::network_is_persistent>({r->net})->value == 0);
  BOOST_TEST(m.call<P::network_is_active>({r->net})->value == 1);
  expect_error(m.call<P::network_create_xml>({n1_xml()}), error_code::operation_invalid,
               error_domain::network,
               "Requested operation is not valid: network is already active as 'n1'");
  expect_ok(m.call<P::network_define_xml>({n1_xml()}));
  BOOST_TEST(m.call<P::network_is_persistent>({r->net})->value == 1);
  expect_ok(m.call<P::network_destroy>({r->net}));
  BOOST_TEST(listed(m, 1) == std::vector<std::string>{"n1"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 2) == std::vector<std::string>{"default"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_destroyed_transient_network_is_gone) {
  model m;
  auto r = m.call<P::network_create_xml>({n1_xml()});
  expect_ok(r);
  expect_ok(m.call<P::network_destroy>({r->net}));
  expect_error(m.call<P::network_lookup_by_name>({"n1"}), error_code::no_network,
               error_domain::test, "Network not found: no network with matching name 'n1'");
}

BOOST_AUTO_TEST_CASE(network_definitions_that_clash_are_refused) {
  model m;
  expect_ok(m.call<P::network_define_xml>({n1_xml()}));
  expect_error(m.call<P::network_define_xml>({"<network><name>n1</name></network>"}),
               error_code::operation_failed, error_domain::network,
               std::string{"operation failed: network 'n1' already exists with uuid "} + n1_uuid);
  expect_error(m.call<P::network_define_xml>({std::string{"<network><name>n2</name><uuid>"} +
                                              n1_uuid + "</uuid></network>"}),
               error_code::operation_failed, error_domain::network,
               std::string{"operation failed: network 'n1' is already defined with uuid "} +
                 n1_uuid);
}

BOOST_AUTO_TEST_CASE(a_network_without_a_bridge_has_no_bridge_name) {
  model m;
  auto r = m.call<P::network_define_xml>({"<network><name>n2</name></network>"});
  expect_ok(r);
  expect_error(m.call<P::network_get_bridge_name>({r->net}), error_code::internal_error,
               error_domain::test, "internal error: network 'n2' does not have a bridge name.");
}

BOOST_AUTO_TEST_CASE(list_all_networks_filters_and_checks_flags) {
  model m;
  expect_ok(m.call<P::network_create_xml>({n1_xml()}));
  BOOST_TEST(listed(m, 0).size() == 2u);
  BOOST_TEST(listed(m, 4) == std::vector<std::string>{"default"}, boost::test_tools::per_element());
  BOOST_TEST(listed(m, 8) == std::vector<std::string>{"n1"}, boost::test_tools::per_element());
  auto count = m.call<P::connect_list_all_networks>({0, 3});
  expect_ok(count);
  BOOST_TEST(count->ret == 2u);
  BOOST_TEST(count->nets.empty());
  expect_error(m.call<P::connect_list_all_networks>({1, 0x40}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x40) in function testConnectListAllNetworks");
  expect_error(m.call<P::connect_list_networks>({-1}), error_code::invalid_arg,
               error_domain::network, "maxnames in virConnectListNetworks must be zero or greater");
  expect_error(m.call<P::connect_list_networks>({16385}), error_code::rpc, error_domain::rpc,
               "maxnames > REMOTE_NETWORK_LIST_MAX");
}
