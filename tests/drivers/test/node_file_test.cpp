#define BOOST_TEST_MODULE test_model_node_file
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "drivers/test/node_file.hpp"
#include "tests/drivers/test/model_harness.hpp"
#include "tests/drivers/test/test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::test;
using testing::expect_error;
using testing::expect_ok;
using testing::model;
using P = protocol::proc;

namespace {

std::string node(const std::string& name) {
  return testing::data_path("node/" + name);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_node_file_sets_the_hosts_cpu_and_memory) {
  model m{node("node.xml")};
  BOOST_REQUIRE(m.state);
  auto i = m.call<P::node_get_info>();
  expect_ok(i);
  BOOST_TEST(i->model == "x86_64");
  BOOST_TEST(i->memory == 4194304u);
  // 2 nodes * 2 sockets * 3 cores * 2 threads = 24, capped by <active>20.
  BOOST_TEST(i->cpus == 20);
  BOOST_TEST(i->mhz == 2500);
  BOOST_TEST(i->nodes == 2);
  BOOST_TEST(i->sockets == 2);
  BOOST_TEST(i->cores == 3);
  BOOST_TEST(i->threads == 2);
}

BOOST_AUTO_TEST_CASE(a_node_file_host_has_no_numa_cells) {
  model m{node("node.xml")};
  BOOST_REQUIRE(m.state);
  BOOST_TEST(m.call<P::node_get_free_memory>()->free_mem == 0u);
  expect_error(m.call<P::node_get_cells_free_memory>({0, 4}), error_code::invalid_arg,
               error_domain::test, "invalid argument: Range exceeds available cells");
  auto caps = m.call<P::connect_get_capabilities>();
  expect_ok(caps);
  BOOST_TEST(caps->capabilities == testing::data_file("node/expected-capabilities.xml"));
}

BOOST_AUTO_TEST_CASE(node_file_domains_start_in_document_order) {
  model m{node("node.xml")};
  BOOST_REQUIRE(m.state);
  auto alpha = m.dom("alpha");
  auto beta = m.dom("beta");
  BOOST_TEST(alpha.id == 1);
  BOOST_TEST(beta.id == 2);
  BOOST_TEST(m.next_id == 3);
  BOOST_TEST(m.call<P::domain_get_xml_desc>({alpha, 0})->xml ==
             testing::data_file("node/expected-dumpxml-alpha.xml"));
  BOOST_TEST(m.call<P::domain_get_xml_desc>({beta, 0})->xml ==
             testing::data_file("node/expected-dumpxml-beta.xml"));
  auto s = m.call<P::domain_get_state>({alpha, 0});
  BOOST_TEST(s->state == 1);
  BOOST_TEST(s->reason == 0);
}

BOOST_AUTO_TEST_CASE(node_file_networks_and_pools_are_active_and_persistent) {
  model m{node("node.xml")};
  BOOST_REQUIRE(m.state);
  auto lan = m.call<P::network_lookup_by_name>({"lan"});
  expect_ok(lan);
  BOOST_TEST(m.call<P::network_get_xml_desc>({lan->net, 0})->xml ==
             testing::data_file("node/expected-net-lan.xml"));
  BOOST_TEST(m.call<P::network_is_active>({lan->net})->value == 1);
  BOOST_TEST(m.call<P::network_is_persistent>({lan->net})->value == 1);
  auto store = m.call<P::storage_pool_lookup_by_name>({"store"});
  expect_ok(store);
  auto p = store->pool;
  BOOST_TEST(m.call<P::storage_pool_get_xml_desc>({p, 0})->xml ==
             testing::data_file("node/expected-pool-store.xml"));
  auto info = m.call<P::storage_pool_get_info>({p});
  BOOST_TEST(info->capacity == 107374182400u);
  BOOST_TEST(info->allocation == 40000u);
  BOOST_TEST(info->available == 107374142400u);
  auto disk1 = m.call<P::storage_vol_lookup_by_name>({p, "disk1.img"});
  expect_ok(disk1);
  BOOST_TEST(disk1->vol.key == "/srv/store/disk1.img");
  BOOST_TEST(m.call<P::storage_vol_get_xml_desc>({disk1->vol, 0})->xml ==
             testing::data_file("node/expected-vol-disk1.xml"));
  // A volume from its own file keeps the path the file gives.
  auto disk2 = m.call<P::storage_vol_lookup_by_name>({p, "disk2.img"});
  expect_ok(disk2);
  BOOST_TEST(disk2->vol.key == "/elsewhere/disk2.img");
  BOOST_TEST(m.call<P::storage_vol_get_xml_desc>({disk2->vol, 0})->xml ==
             testing::data_file("node/expected-vol-disk2.xml"));
}

BOOST_AUTO_TEST_CASE(test_namespace_elements_set_state_persistence_and_managed_save) {
  model m{node("poolfile.xml")};
  BOOST_REQUIRE(m.state);
  auto napper = m.dom("napper");
  BOOST_TEST(napper.id == 1);
  auto s = m.call<P::domain_get_state>({napper, 0});
  BOOST_TEST(s->state == 3);
  BOOST_TEST(s->reason == 0);
  auto ghost = m.dom("ghost");
  BOOST_TEST(ghost.id == 2);
  BOOST_TEST(m.call<P::domain_is_persistent>({ghost})->value == 0);
  auto sleeper = m.dom("sleeper");
  BOOST_TEST(sleeper.id == -1);
  BOOST_TEST(m.call<P::domain_get_state>({sleeper, 0})->state == 5);
  auto saved = m.dom("saved");
  BOOST_TEST(m.call<P::domain_has_managed_save_image>({saved, 0})->value == 1);
  auto listed = m.call<P::connect_list_all_domains>({1, 256});
  BOOST_TEST(listed->ret == 1u);
  expect_error(m.call<P::domain_undefine>({saved}), error_code::operation_invalid,
               error_domain::test,
               "Requested operation is not valid: Refusing to undefine while domain managed save "
               "image exists");
  // The namespace elements are not part of the definition.
  BOOST_TEST(m.call<P::domain_get_xml_desc>({saved, 0})->xml.find("runstate") ==
             std::string::npos);
  // Starting drops the managed save image.
  expect_ok(m.call<P::domain_create>({saved}));
  BOOST_TEST(m.call<P::domain_has_managed_save_image>({saved, 0})->value == 0);
  BOOST_TEST(m.dom("saved").id == 3);
}

BOOST_AUTO_TEST_CASE(a_pool_from_a_file_takes_the_volumes_of_that_file) {
  model m{node("poolfile.xml")};
  BOOST_REQUIRE(m.state);
  auto p = m.call<P::storage_pool_lookup_by_name>({"filepool"});
  expect_ok(p);
  auto names = m.call<P::storage_pool_list_volumes>({p->pool, 10});
  expect_ok(names);
  BOOST_TEST(names->names.size() == 1u);
  BOOST_TEST(names->names.at(0) == "inner.img");
}

BOOST_AUTO_TEST_CASE(broken_node_files_give_libvirts_errors) {
  auto missing = driver_state::open(node("missing.xml"));
  expect_error(missing, error_code::xml_error, error_domain::test,
               "XML error: failed to parse xml document '" + node("missing.xml") + "'");
  auto badcpu = driver_state::open(node("badcpu.xml"));
  expect_error(badcpu, error_code::xml_error, error_domain::test,
               "XML error: invalid node cpu nodes value");
  auto badroot = driver_state::open(node("badroot.xml"));
  expect_error(badroot, error_code::xml_error, error_domain::xml,
               "XML error: expecting root element of 'node', not 'nodes'");
  auto missingdom = driver_state::open(node("missingdom.xml"));
  expect_error(missingdom, error_code::xml_error, error_domain::test,
               "XML error: failed to parse xml document '" + node("nope.xml") + "'");
  auto dupnet = driver_state::open(node("dupnet.xml"));
  BOOST_REQUIRE(!dupnet.ok());
  BOOST_TEST(static_cast<int>(dupnet.error().code) == static_cast<int>(error_code::operation_failed));
  BOOST_TEST(dupnet.error().message.rfind("operation failed: network 'q' already exists with uuid ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_node_file_or_a_directory_is_an_empty_document) {
  expect_error(driver_state::open(node("empty.xml")), error_code::xml_detail, error_domain::test,
               node("empty.xml") + ":1: Document is empty\n(null)\n^");
  auto dir = testing::data_path("node");
  expect_error(driver_state::open(dir), error_code::xml_detail, error_domain::test,
               dir + ":1: Document is empty\n(null)\n^");
}

BOOST_AUTO_TEST_CASE(a_node_file_with_bad_syntax_reports_where) {
  // libvirt words this with libxml2's message ("Premature end of data in tag
  // cpu line 1"); the parser here has its own wording, so only the code,
  // domain and the position prefix can match.
  auto broken = driver_state::open(node("broken.xml"));
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST(static_cast<int>(broken.error().code) == static_cast<int>(error_code::xml_detail));
  BOOST_TEST(static_cast<int>(broken.error().domain) == static_cast<int>(error_domain::test));
  BOOST_TEST(broken.error().message.rfind(node("broken.xml") + ":1: ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(a_configured_volume_keeps_its_own_key_and_path) {
  model m{node("keyvol.xml")};
  BOOST_REQUIRE(m.state);
  auto p = m.call<P::storage_pool_lookup_by_name>({"pp"});
  expect_ok(p);
  auto v = m.call<P::storage_vol_lookup_by_name>({p->pool, "k"});
  expect_ok(v);
  BOOST_TEST(v->vol.key == "custom-key");
  BOOST_TEST(m.call<P::storage_vol_get_path>({v->vol})->name == "/x/y");
  BOOST_TEST(m.call<P::storage_vol_lookup_by_key>({"custom-key"})->vol.name == "k");
}
