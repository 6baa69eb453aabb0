#define BOOST_TEST_MODULE test_model_storage
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
using protocol::nonnull_storage_pool;
using protocol::nonnull_storage_vol;

namespace {

constexpr const char* default_uuid = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566";
constexpr const char* p1_uuid = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4561";
constexpr uint64_t gib100 = 107374182400ull;

std::string p1_xml(const std::string& name = "p1", const char* uuid = p1_uuid,
                   const std::string& path = "/p1") {
  return "<pool type='dir'><name>" + name + "</name><uuid>" + uuid +
         "</uuid><target><path>" + path + "</path></target></pool>";
}

nonnull_storage_pool pool(model& m, const std::string& name) {
  auto r = m.call<P::storage_pool_lookup_by_name>({name});
  BOOST_REQUIRE(r.ok());
  return r->pool;
}

protocol::storage_pool_get_info_ret info(model& m, const nonnull_storage_pool& p) {
  auto r = m.call<P::storage_pool_get_info>({p});
  BOOST_REQUIRE(r.ok());
  return *r;
}

std::string vol_xml(const std::string& name, const std::string& capacity,
                    const std::string& allocation = "") {
  return "<volume><name>" + name + "</name><capacity unit='bytes'>" + capacity + "</capacity>" +
         (allocation.empty() ? "" : "<allocation unit='bytes'>" + allocation + "</allocation>") +
         "</volume>";
}

} // namespace

BOOST_AUTO_TEST_CASE(the_default_pool_runs_with_100_gib_free) {
  model m;
  auto p = pool(m, "default-pool");
  BOOST_TEST(drivers::xml::format_uuid(p.uuid) == default_uuid);
  auto i = info(m, p);
  BOOST_TEST(i.state == 2u);
  BOOST_TEST(i.capacity == gib100);
  BOOST_TEST(i.allocation == 0u);
  BOOST_TEST(i.available == gib100);
  BOOST_TEST(m.call<P::storage_pool_is_active>({p})->value == 1);
  BOOST_TEST(m.call<P::storage_pool_is_persistent>({p})->value == 1);
  BOOST_TEST(m.call<P::storage_pool_get_autostart>({p})->value == 0);
  auto xml = m.call<P::storage_pool_get_xml_desc>({p, 0});
  expect_ok(xml);
  BOOST_TEST(xml->xml == testing::data_file("pool-dumpxml-default-pool.xml"));
  BOOST_TEST(m.call<P::storage_pool_num_of_volumes>({p})->num == 0);
  BOOST_TEST(m.call<P::storage_pool_list_all_volumes>({p, 1, 0})->ret == 0u);
}

BOOST_AUTO_TEST_CASE(pool_lookups_and_flags_fail_as_libvirt) {
  model m;
  auto p = pool(m, "default-pool");
  expect_error(m.call<P::storage_pool_lookup_by_name>({"x"}), error_code::no_storage_pool,
               error_domain::test,
               "Storage pool not found: no storage pool with matching name 'x'");
  expect_error(m.call<P::storage_pool_lookup_by_uuid>({*drivers::xml::parse_uuid(p1_uuid)}),
               error_code::no_storage_pool, error_domain::test,
               std::string{"Storage pool not found: no storage pool with matching uuid '"} +
                 p1_uuid + "'");
  expect_error(m.call<P::storage_pool_get_xml_desc>({p, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testStoragePoolGetXMLDesc");
  expect_error(m.call<P::storage_pool_refresh>({p, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testStoragePoolRefresh");
  expect_error(m.call<P::storage_pool_list_all_volumes>({p, 1, 1}), error_code::invalid_arg,
               error_domain::test,
               "unsupported flags (0x1) in function testStoragePoolListAllVolumes");
  expect_error(m.call<P::connect_list_all_storage_pools>({1, 1u << 20}), error_code::invalid_arg,
               error_domain::test,
               "unsupported flags (0x100000) in function testConnectListAllStoragePools");
}

BOOST_AUTO_TEST_CASE(an_active_pool_refuses_inactive_only_operations) {
  model m;
  auto p = pool(m, "default-pool");
  auto active = "Requested operation is not valid: storage pool 'default-pool' is active";
  expect_error(m.call<P::storage_pool_create>({p, 0}), error_code::operation_invalid,
               error_domain::test, active);
  expect_error(m.call<P::storage_pool_build>({p, 0}), error_code::operation_invalid,
               error_domain::test, active);
  expect_error(m.call<P::storage_pool_delete>({p, 0}), error_code::operation_invalid,
               error_domain::test, active);
  expect_error(m.call<P::storage_pool_undefine>({p}), error_code::operation_invalid,
               error_domain::test, active);
  expect_ok(m.call<P::storage_pool_refresh>({p, 0}));
}

BOOST_AUTO_TEST_CASE(volumes_take_space_and_give_it_back) {
  model m;
  auto p = pool(m, "default-pool");
  auto v1 = m.call<P::storage_vol_create_xml>({p, vol_xml("v1", "10485760"), 0});
  expect_ok(v1);
  BOOST_TEST(v1->vol.pool == "default-pool");
  BOOST_TEST(v1->vol.name == "v1");
  BOOST_TEST(v1->vol.key == "/default-pool/v1");
  expect_error(m.call<P::storage_vol_create_xml>({p, vol_xml("v1", "1"), 0}),
               error_code::operation_failed, error_domain::test,
               "operation failed: storage vol already exists");
  expect_error(m.call<P::storage_vol_create_xml>({p, vol_xml("big", "214748364800"), 0}),
               error_code::internal_error, error_domain::test,
               "internal error: Not enough free space in pool for volume 'big'");
  expect_ok(m.call<P::storage_vol_create_xml>({p, vol_xml("big2", "214748364800", "0"), 0}));
  expect_error(m.call<P::storage_vol_create_xml>({p, vol_xml("v2", "1"), 1}),
               error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x1) in function testStorageVolCreateXML");
  auto i = info(m, p);
  BOOST_TEST(i.allocation == 10485760u);
  BOOST_TEST(i.available == gib100 - 10485760u);
  auto vi = m.call<P::storage_vol_get_info>({v1->vol});
  expect_ok(vi);
  BOOST_TEST(vi->type == 0);
  BOOST_TEST(vi->capacity == 10485760u);
  BOOST_TEST(vi->allocation == 10485760u);
  BOOST_TEST(m.call<P::storage_vol_get_path>({v1->vol})->name == "/default-pool/v1");
  auto xml = m.call<P::storage_vol_get_xml_desc>({v1->vol, 0});
  expect_ok(xml);
  BOOST_TEST(xml->xml == "<volume type='file'>\n  <name>v1</name>\n  <key>/default-pool/v1</key>\n"
                         "  <capacity unit='bytes'>10485760</capacity>\n"
                         "  <allocation unit='bytes'>10485760</allocation>\n  <target>\n"
                         "    <path>/default-pool/v1</path>\n    <format type='raw'/>\n"
                         "  </target>\n</volume>\n");
  BOOST_TEST(m.call<P::storage_pool_num_of_volumes>({p})->num == 2);
  auto names = m.call<P::storage_pool_list_volumes>({p, 10});
  BOOST_TEST(names->names.size() == 2u);
  expect_error(m.call<P::storage_vol_delete>({v1->vol, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testStorageVolDelete");
  expect_ok(m.call<P::storage_vol_delete>({v1->vol, 0}));
  auto gone = "Storage volume not found: no storage vol with matching name 'v1'";
  expect_error(m.call<P::storage_vol_delete>({v1->vol, 0}), error_code::no_storage_vol,
               error_domain::test, gone);
  expect_error(m.call<P::storage_vol_get_info>({v1->vol}), error_code::no_storage_vol,
               error_domain::test, gone);
  BOOST_TEST(info(m, p).allocation == 0u);
}

BOOST_AUTO_TEST_CASE(volumes_are_found_by_name_key_and_path_in_active_pools) {
  model m;
  auto p = pool(m, "default-pool");
  expect_ok(m.call<P::storage_vol_create_xml>({p, vol_xml("v1", "1000"), 0}));
  BOOST_TEST(m.call<P::storage_vol_lookup_by_name>({p, "v1"})->vol.key == "/default-pool/v1");
  BOOST_TEST(m.call<P::storage_vol_lookup_by_key>({"/default-pool/v1"})->vol.name == "v1");
  BOOST_TEST(m.call<P::storage_vol_lookup_by_path>({"/default-pool/v1"})->vol.name == "v1");
  auto v = m.call<P::storage_vol_lookup_by_name>({p, "v1"})->vol;
  BOOST_TEST(m.call<P::storage_pool_lookup_by_volume>({v})->pool.name == "default-pool");
  expect_error(m.call<P::storage_vol_lookup_by_name>({p, "x"}), error_code::no_storage_vol,
               error_domain::test,
               "Storage volume not found: no storage vol with matching name 'x'");
  expect_error(m.call<P::storage_vol_lookup_by_key>({"/x"}), error_code::no_storage_vol,
               error_domain::test, "Storage volume not found: no storage vol with matching key '/x'");
  expect_error(m.call<P::storage_vol_lookup_by_path>({"/x"}), error_code::no_storage_vol,
               error_domain::test,
               "Storage volume not found: no storage vol with matching path '/x'");
  // An inactive pool hides its volumes but keeps them.
  expect_ok(m.call<P::storage_pool_destroy>({p}));
  auto inactive = "Requested operation is not valid: storage pool 'default-pool' is not active";
  expect_error(m.call<P::storage_vol_lookup_by_name>({p, "v1"}), error_code::operation_invalid,
               error_domain::test, inactive);
  expect_error(m.call<P::storage_vol_lookup_by_key>({"/default-pool/v1"}),
               error_code::no_storage_vol, error_domain::test,
               "Storage volume not found: no storage vol with matching key '/default-pool/v1'");
  expect_error(m.call<P::storage_pool_num_of_volumes>({p}), error_code::operation_invalid,
               error_domain::test, inactive);
  expect_error(m.call<P::storage_pool_list_all_volumes>({p, 1, 0}), error_code::operation_invalid,
               error_domain::test, "Requested operation is not valid: storage pool is not active");
  expect_ok(m.call<P::storage_pool_create>({p, 0}));
  BOOST_TEST(m.call<P::storage_vol_lookup_by_name>({p, "v1"}).ok());
}

BOOST_AUTO_TEST_CASE(a_stopped_pool_can_be_built_deleted_and_undefined) {
  model m;
  auto p = pool(m, "default-pool");
  expect_ok(m.call<P::storage_pool_destroy>({p}));
  expect_error(m.call<P::storage_pool_destroy>({p}), error_code::operation_invalid,
               error_domain::test,
               "Requested operation is not valid: storage pool 'default-pool' is not active");
  auto i = info(m, p);
  BOOST_TEST(i.state == 0u);
  BOOST_TEST(m.call<P::connect_num_of_defined_storage_pools>()->num == 1);
  BOOST_TEST(m.call<P::connect_list_defined_storage_pools>({5})->names.at(0) == "default-pool");
  expect_ok(m.call<P::storage_pool_build>({p, 0}));
  expect_error(m.call<P::storage_pool_build>({p, 1}), error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x1) in function testStoragePoolBuild");
  expect_ok(m.call<P::storage_pool_delete>({p, 0}));
  expect_error(m.call<P::storage_pool_create>({p, 1}), error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x1) in function testStoragePoolCreate");
  expect_ok(m.call<P::storage_pool_undefine>({p}));
  expect_error(m.call<P::storage_pool_get_info>({p}), error_code::no_storage_pool,
               error_domain::test,
               "Storage pool not found: no storage pool with matching name 'default-pool'");
  expect_error(m.call<P::storage_pool_is_active>({p}), error_code::no_storage_pool,
               error_domain::test,
               std::string{"Storage pool not found: no storage pool with matching uuid '"} +
                 default_uuid + "'");
}

BOOST_AUTO_TEST_CASE(a_created_pool_is_transient_and_has_no_autostart) {
  model m;
  auto r = m.call<P::storage_pool_create_xml>({p1_xml(), 0});
  expect_ok(r);
  BOOST_TEST(m.call<P::storage_pool_is_persistent>({r->pool})->value == 0);
  BOOST_TEST(m.call<P::storage_pool_get_autostart>({r->pool})->value == 0);
  expect_error(m.call<P::storage_pool_set_autostart>({r->pool, 1}), error_code::invalid_arg,
               error_domain::test, "invalid argument: pool has no config file");
  expect_error(m.call<P::storage_pool_create_xml>({p1_xml(), 0}), error_code::operation_invalid,
               error_domain::storage, "Requested operation is not valid: pool is already active as 'p1'");
  expect_error(m.call<P::storage_pool_create_xml>({p1_xml(), 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testStoragePoolCreateXML");
  expect_ok(m.call<P::storage_pool_define_xml>({p1_xml(), 0}));
  BOOST_TEST(m.call<P::storage_pool_is_persistent>({r->pool})->value == 1);
  expect_ok(m.call<P::storage_pool_set_autostart>({r->pool, 1}));
  BOOST_TEST(m.call<P::storage_pool_get_autostart>({r->pool})->value == 1);
}

BOOST_AUTO_TEST_CASE(a_destroyed_transient_pool_is_gone) {
  model m;
  auto r = m.call<P::storage_pool_create_xml>({p1_xml(), 0});
  expect_ok(r);
  expect_ok(m.call<P::storage_pool_destroy>({r->pool}));
  expect_error(m.call<P::storage_pool_lookup_by_name>({"p1"}), error_code::no_storage_pool,
               error_domain::test, "Storage pool not found: no storage pool with matching name 'p1'");
}

BOOST_AUTO_TEST_CASE(pool_definitions_that_clash_are_refused) {
  model m;
  expect_ok(m.call<P::storage_pool_define_xml>({p1_xml(), 0}));
  expect_error(m.call<P::storage_pool_define_xml>(
                 {p1_xml("p1", "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4562", "/p1"), 0}),
               error_code::operation_failed, error_domain::storage,
               std::string{"operation failed: pool 'p1' already exists with uuid "} + p1_uuid);
  expect_error(m.call<P::storage_pool_define_xml>({p1_xml("p2", p1_uuid, "/p1"), 0}),
               error_code::operation_failed, error_domain::storage,
               "operation failed: Storage source conflict with pool: 'p1'");
  expect_error(m.call<P::storage_pool_define_xml>({p1_xml("p2", p1_uuid, "/p2"), 0}),
               error_code::operation_failed, error_domain::storage,
               std::string{"operation failed: pool 'p1' is already defined with uuid "} + p1_uuid);
  expect_error(m.call<P::storage_pool_define_xml>({p1_xml(), 2}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x2) in function testStoragePoolDefineXML");
}

BOOST_AUTO_TEST_CASE(list_all_pools_filters_by_state_persistence_autostart_and_type) {
  model m;
  expect_ok(m.call<P::storage_pool_create_xml>({p1_xml(), 0}));
  auto names = [&](uint32_t flags) {
    auto r = m.call<P::connect_list_all_storage_pools>({1, flags});
    BOOST_REQUIRE(r.ok());
    std::vector<std::string> out;
    for (auto& p : r->pools)
      out.push_back(p.name);
    std::sort(out.begin(), out.end());
    return out;
  };
  using v = std::vector<std::string>;
  BOOST_TEST(names(0) == (v{"default-pool", "p1"}), boost::test_tools::per_element());
  BOOST_TEST(names(4) == v{"default-pool"}, boost::test_tools::per_element());
  BOOST_TEST(names(8) == v{"p1"}, boost::test_tools::per_element());
  BOOST_TEST(names(1).empty());
  BOOST_TEST(names(64).size() == 2u);
  BOOST_TEST(names(128).empty());
  BOOST_TEST(m.call<P::connect_num_of_storage_pools>()->num == 2);
  BOOST_TEST(m.call<P::connect_list_storage_pools>({1})->names.size() == 1u);
  expect_error(m.call<P::connect_list_storage_pools>({-1}), error_code::invalid_arg,
               error_domain::storage,
               "maxnames in virConnectListStoragePools must be zero or greater");
}
