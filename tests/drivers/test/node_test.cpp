#define BOOST_TEST_MODULE test_model_node
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include "drivers/test/errors.hpp"
#include "drivers/test/node.hpp"
#include "tests/drivers/test/model_harness.hpp"

using namespace virtactor;
using namespace virtactor::drivers::test;
using testing::model;
using P = protocol::proc;

namespace {

void check_error(const virt_error& e, error_code code, error_domain domain,
                 const std::string& message) {
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(code));
  BOOST_TEST(static_cast<int>(e.domain) == static_cast<int>(domain));
  BOOST_TEST(e.message == message);
}

} // namespace

BOOST_AUTO_TEST_CASE(default_capabilities_match_libvirt_byte_for_byte) {
  model m;
  auto r = m.call<P::connect_get_capabilities>();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->capabilities == testing::data_file("capabilities.xml"));
}

BOOST_AUTO_TEST_CASE(default_node_info_is_libvirts_test_host) {
  model m;
  auto r = m.call<P::node_get_info>();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->model == "i686");
  BOOST_TEST(r->memory == 3145728u);
  BOOST_TEST(r->cpus == 16);
  BOOST_TEST(r->mhz == 1400);
  BOOST_TEST(r->nodes == 2);
  BOOST_TEST(r->sockets == 2);
  BOOST_TEST(r->cores == 2);
  BOOST_TEST(r->threads == 2);
}

BOOST_AUTO_TEST_CASE(cells_free_memory_lists_each_cells_memory_from_the_start_cell) {
  model m;
  auto all = m.call<P::node_get_cells_free_memory>({0, 8});
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->cells == (std::vector<uint64_t>{2097152, 4194304}), boost::test_tools::per_element());
  auto second = m.call<P::node_get_cells_free_memory>({1, 8});
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(second->cells == std::vector<uint64_t>{4194304}, boost::test_tools::per_element());
  auto one = m.call<P::node_get_cells_free_memory>({0, 1});
  BOOST_REQUIRE(one.ok());
  BOOST_TEST(one->cells.size() == 1u);
}

BOOST_AUTO_TEST_CASE(cells_free_memory_refuses_a_start_cell_out_of_range) {
  model m;
  for (int32_t start : {2, -1}) {
    auto r = m.call<P::node_get_cells_free_memory>({start, 4});
    BOOST_REQUIRE(!r.ok());
    check_error(r.error(), error_code::invalid_arg, error_domain::test,
                "invalid argument: Range exceeds available cells");
  }
}

BOOST_AUTO_TEST_CASE(cells_free_memory_refuses_bad_cell_counts) {
  model m;
  auto zero = m.call<P::node_get_cells_free_memory>({0, 0});
  BOOST_REQUIRE(!zero.ok());
  check_error(zero.error(), error_code::invalid_arg, error_domain::none,
              "maxCells in virNodeGetCellsFreeMemory must be greater than zero");
  auto huge = m.call<P::node_get_cells_free_memory>({0, 1025});
  BOOST_REQUIRE(!huge.ok());
  check_error(huge.error(), error_code::rpc, error_domain::rpc, "maxCells > REMOTE_NODE_MAX_CELLS");
}

BOOST_AUTO_TEST_CASE(free_memory_is_the_sum_of_the_cells_free_memory) {
  model m;
  auto r = m.call<P::node_get_free_memory>();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->free_mem == 3145728u);
}

BOOST_AUTO_TEST_CASE(sysinfo_is_libvirts_fixed_document_and_takes_no_flags) {
  model m;
  auto r = m.call<P::connect_get_sysinfo>({0});
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->sysinfo == testing::data_file("sysinfo.xml"));
  auto bad = m.call<P::connect_get_sysinfo>({1});
  BOOST_REQUIRE(!bad.ok());
  check_error(bad.error(), error_code::invalid_arg, error_domain::test,
              "unsupported flags (0x1) in function testConnectGetSysinfo");
}

BOOST_AUTO_TEST_CASE(type_versions_and_max_vcpus_are_the_test_drivers) {
  model m;
  BOOST_TEST(m.call<P::connect_get_type>()->type == "TEST");
  BOOST_TEST(m.call<P::connect_get_version>()->hv_ver == 2u);
  BOOST_TEST(m.call<P::connect_get_lib_version>()->lib_ver == 9000000u);
  BOOST_TEST(m.call<P::connect_get_max_vcpus>({})->max_vcpus == 32);
  BOOST_TEST(m.call<P::connect_get_max_vcpus>({std::string{"kvm"}})->max_vcpus == 32);
  BOOST_TEST(m.call<P::connect_is_secure>()->secure == 1);
  BOOST_TEST(m.call<P::connect_get_uri>()->uri == "test:///default");
}

BOOST_AUTO_TEST_CASE(security_model_is_test_security_with_an_empty_doi) {
  model m;
  auto r = m.call<P::node_get_security_model>();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->model == "testSecurity");
  BOOST_TEST(r->doi == "");
  // On the wire: the NUL-terminated text, 4 bytes per char, NUL counted.
  auto wire = xdr::encode(*r);
  BOOST_TEST(wire.size() == 4u + 13u * 4u + 4u + 1u * 4u);
}

BOOST_AUTO_TEST_CASE(hostname_is_the_real_hosts_name) {
  // libvirt reports the machine it runs on, so the value differs from host
  // to host and cannot be compared with a recorded one: it must be this
  // host's name, possibly completed to its canonical form.
  model m;
  auto r = m.call<P::connect_get_hostname>();
  BOOST_REQUIRE(r.ok());
  char buf[256] = {};
  BOOST_REQUIRE(gethostname(buf, sizeof buf - 1) == 0);
  BOOST_TEST(r->hostname.rfind(buf, 0) == 0u);
  BOOST_TEST(r->hostname == host_name());
}

BOOST_AUTO_TEST_CASE(supports_feature_answers_as_the_test_driver) {
  model m;
  BOOST_TEST(m.call<P::connect_supports_feature>({9})->supported == 1);
  BOOST_TEST(m.call<P::connect_supports_feature>({16})->supported == 1);
  for (int32_t f : {0, 1, 2, 6, 8, 10, 14, 15, 17})
    BOOST_TEST(m.call<P::connect_supports_feature>({f})->supported == 0);
}

BOOST_AUTO_TEST_CASE(procedures_the_test_driver_lacks_get_libvirts_no_support_error) {
  auto secrets = driver_state::unsupported_error(139); // CONNECT_NUM_OF_SECRETS
  check_error(secrets, error_code::no_support, error_domain::secret,
              "this function is not supported by the connection driver: virConnectNumOfSecrets");
  auto filters = driver_state::unsupported_error(178); // CONNECT_NUM_OF_NWFILTERS
  check_error(filters, error_code::no_support, error_domain::nwfilter,
              "this function is not supported by the connection driver: virConnectNumOfNWFilters");
  auto caps = driver_state::unsupported_error(342); // CONNECT_GET_DOMAIN_CAPABILITIES
  check_error(caps, error_code::no_support, error_domain::domain,
              "this function is not supported by the connection driver: "
              "virConnectGetDomainCapabilities");
}

BOOST_AUTO_TEST_CASE(an_unsupported_call_through_dispatch_gets_the_no_support_error) {
  model m;
  auto r = m.raw(139, {});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(error_code::no_support));
  BOOST_TEST(r.error().message ==
             "this function is not supported by the connection driver: virConnectNumOfSecrets");
}

BOOST_AUTO_TEST_CASE(undecodable_arguments_get_the_rpc_decode_error) {
  model m;
  auto r = m.raw(static_cast<int32_t>(P::connect_get_sysinfo), xdr::buffer{1, 2});
  BOOST_REQUIRE(!r.ok());
  check_error(r.error(), error_code::rpc, error_domain::rpc, "Unable to decode message payload");
}
