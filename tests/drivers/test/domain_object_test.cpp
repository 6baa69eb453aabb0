#define BOOST_TEST_MODULE test_model_domain_object
#include <boost/test/unit_test.hpp>

#include "drivers/xml/uuid.hpp"
#include "tests/drivers/test/model_harness.hpp"
#include "tests/drivers/test/test_support.hpp"

using namespace virtactor;
using namespace virtactor::drivers::test;
using testing::expect_error;
using testing::expect_ok;
using testing::lifecycle;
using testing::model;
using P = protocol::proc;
using protocol::nonnull_domain;

namespace {

constexpr const char* test_uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
constexpr const char* demo_uuid = "6695eb01-f6a4-8304-79aa-97f2502e1940";

xdr::uuid uuid_of(const char* text) {
  return *drivers::xml::parse_uuid(text);
}

/// A small domain document.
std::string domain_xml(const std::string& name, const char* uuid, int vcpus = 2) {
  return "<domain type='test'><name>" + name + "</name><uuid>" + uuid +
         "</uuid><memory>1048576</memory><vcpu>" + std::to_string(vcpus) +
         "</vcpu><os><type>hvm</type></os></domain>";
}

protocol::domain_get_state_ret state_of(model& m, const nonnull_domain& d) {
  auto r = m.call<P::domain_get_state>({d, 0});
  BOOST_REQUIRE(r.ok());
  return *r;
}

void expect_state(model& m, const nonnull_domain& d, int32_t state, int32_t reason) {
  auto s = state_of(m, d);
  BOOST_TEST(s.state == state);
  BOOST_TEST(s.reason == reason);
}

nonnull_domain with_id(nonnull_domain d, int32_t id) {
  d.id = id;
  return d;
}

constexpr int32_t running = 1, paused = 3, shutoff = 5;

} // namespace

// -- the default domain ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_default_domain_runs_with_id_1_and_reason_unknown) {
  model m;
  auto d = m.dom("test");
  BOOST_TEST(d.id == 1);
  BOOST_TEST(drivers::xml::format_uuid(d.uuid) == test_uuid);
  expect_state(m, d, running, 0);
  BOOST_TEST(m.call<P::domain_is_active>({d})->value == 1);
  BOOST_TEST(m.call<P::domain_is_persistent>({d})->value == 1);
  BOOST_TEST(m.call<P::domain_is_updated>({d})->value == 0);
  BOOST_TEST(m.call<P::domain_get_autostart>({d})->value == 0);
  BOOST_TEST(m.call<P::domain_has_managed_save_image>({d, 0})->value == 0);
  BOOST_TEST(m.call<P::domain_snapshot_num>({d, 0})->num == 0);
  BOOST_TEST(m.call<P::domain_get_os_type>({d})->type == "linux");
  BOOST_TEST(m.call<P::domain_get_messages>({d, 0})->msgs.empty());
}

BOOST_AUTO_TEST_CASE(the_default_domains_info_matches_libvirt) {
  model m;
  auto d = m.dom("test");
  auto info = m.call<P::domain_get_info>({d});
  expect_ok(info);
  BOOST_TEST(info->state == 1u);
  BOOST_TEST(info->max_mem == 8388608u);
  BOOST_TEST(info->memory == 2097152u);
  BOOST_TEST(info->nr_virt_cpu == 2u);
  // CPU time is the wall clock in nanoseconds, as libvirt's test driver
  // reports it: it cannot equal a recorded value, only be a plausible now.
  BOOST_TEST(info->cpu_time > 1700000000ull * 1000000000ull);
  BOOST_TEST(m.call<P::domain_get_max_memory>({d})->memory == 8388608u);
  BOOST_TEST(m.call<P::domain_get_max_vcpus>({d})->value == 2);
}

BOOST_AUTO_TEST_CASE(dumpxml_of_the_default_domain_matches_libvirt_live_and_inactive) {
  model m;
  auto d = m.dom("test");
  auto live = m.call<P::domain_get_xml_desc>({d, 0});
  expect_ok(live);
  BOOST_TEST(live->xml == testing::data_file("dumpxml-test.xml"));
  auto inactive = m.call<P::domain_get_xml_desc>({d, 2});
  expect_ok(inactive);
  BOOST_TEST(inactive->xml == testing::data_file("dumpxml-inactive-test.xml"));
  auto migratable = m.call<P::domain_get_xml_desc>({d, 8});
  expect_ok(migratable);
}

BOOST_AUTO_TEST_CASE(the_security_label_is_enforcing_only_while_active) {
  model m;
  auto d = m.dom("test");
  auto active = m.call<P::domain_get_security_label>({d});
  expect_ok(active);
  BOOST_TEST(active->label == "libvirt-test");
  BOOST_TEST(active->enforcing == 1);
  expect_ok(m.call<P::domain_destroy>({d}));
  auto inactive = m.call<P::domain_get_security_label>({d});
  expect_ok(inactive);
  BOOST_TEST(inactive->label == "");
  BOOST_TEST(inactive->enforcing == 0);
}

// -- flags and read-only checks -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unsupported_flags_name_the_test_driver_function) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_get_xml_desc>({d, 0x10}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x10) in function testDomainGetXMLDesc");
  expect_error(m.call<P::domain_get_xml_desc>({d, 4}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x4) in function testDomainGetXMLDesc");
  expect_error(m.call<P::domain_get_state>({d, 1}), error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x1) in function testDomainGetState");
  expect_error(m.call<P::domain_reboot>({d, 64}), error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x40) in function testDomainReboot");
  expect_error(m.call<P::domain_shutdown_flags>({d, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testDomainShutdownFlags");
  expect_error(m.call<P::domain_destroy_flags>({d, 2}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x2) in function testDomainDestroyFlags");
  expect_error(m.call<P::domain_undefine_flags>({d, 4}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x4) in function testDomainUndefineFlags");
  expect_error(m.call<P::domain_create_with_flags>({d, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testDomainCreateWithFlags");
  expect_error(m.call<P::domain_has_managed_save_image>({d, 1}), error_code::invalid_arg,
               error_domain::test,
               "unsupported flags (0x1) in function testDomainHasManagedSaveImage");
  expect_error(m.call<P::domain_snapshot_num>({d, 0x10000}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x10000) in function testDomainSnapshotNum");
  expect_error(m.call<P::domain_get_messages>({d, 4}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x4) in function testDomainGetMessages");
  expect_error(m.call<P::domain_get_vcpus_flags>({d, 8}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x8) in function testDomainGetVcpusFlags");
  expect_error(m.call<P::domain_set_memory_flags>({d, 100, 0x13}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x10) in function testDomainSetMemoryFlags");
  expect_error(m.call<P::domain_set_vcpus_flags>({d, 1, 0x13}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x10) in function testDomainSetVcpusFlags");
  // A refused call changes nothing.
  expect_state(m, d, running, 0);
}

BOOST_AUTO_TEST_CASE(a_read_only_connection_may_not_ask_for_the_secure_xml) {
  model m;
  auto d = m.dom("test");
  m.read_only = true;
  expect_error(m.call<P::domain_get_xml_desc>({d, 1}), error_code::operation_denied,
               error_domain::domain, "operation forbidden: virDomainGetXMLDesc with secure flag");
  expect_ok(m.call<P::domain_get_xml_desc>({d, 0}));
  m.read_only = false;
  expect_ok(m.call<P::domain_get_xml_desc>({d, 1}));
}

BOOST_AUTO_TEST_CASE(public_api_argument_checks_come_first) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_set_memory>({d, 0}), error_code::invalid_arg, error_domain::domain,
               "memory in virDomainSetMemory must not be zero");
  expect_error(m.call<P::domain_set_max_memory>({d, 0}), error_code::invalid_arg,
               error_domain::domain, "memory in virDomainSetMaxMemory must not be zero");
  expect_error(m.call<P::domain_set_memory_flags>({d, 0, 0}), error_code::invalid_arg,
               error_domain::domain, "memory in virDomainSetMemoryFlags must not be zero");
  expect_error(m.call<P::domain_set_vcpus>({d, 0}), error_code::invalid_arg, error_domain::domain,
               "nvcpus in virDomainSetVcpus must not be zero");
  expect_error(m.call<P::domain_set_vcpus_flags>({d, 0, 0x10}), error_code::invalid_arg,
               error_domain::domain, "nvcpus in virDomainSetVcpusFlags must not be zero");
  expect_error(m.call<P::domain_set_vcpus_flags>({d, 1, 0x14}), error_code::invalid_arg,
               error_domain::domain,
               "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'");
  expect_error(m.call<P::domain_get_vcpus_flags>({d, 0x13}), error_code::invalid_arg,
               error_domain::domain,
               "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
}

// -- lifecycle ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(suspend_and_resume_follow_libvirts_states_errors_and_events) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_resume>({d}), error_code::internal_error, error_domain::test,
               "internal error: domain 'test' not paused");
  expect_ok(m.call<P::domain_suspend>({d}));
  expect_state(m, d, paused, 1);
  expect_error(m.call<P::domain_suspend>({d}), error_code::internal_error, error_domain::test,
               "internal error: domain 'test' not running");
  expect_ok(m.call<P::domain_resume>({d}));
  expect_state(m, d, running, 5);
  auto events = m.take_events();
  BOOST_TEST(events.size() == 2u);
  BOOST_TEST((events.at(0) == lifecycle(d, 3, 0)));
  BOOST_TEST((events.at(1) == lifecycle(d, 4, 0)));
}

BOOST_AUTO_TEST_CASE(errors_name_the_domain_as_the_caller_spelled_its_handle) {
  // libvirt finds the domain by uuid but words errors with the handle's name.
  model m;
  auto d = m.dom("test");
  d.name = "alias";
  expect_error(m.call<P::domain_resume>({d}), error_code::internal_error, error_domain::test,
               "internal error: domain 'alias' not paused");
  expect_error(m.call<P::domain_create>({d}), error_code::internal_error, error_domain::test,
               "internal error: Domain 'alias' is already running");
}

BOOST_AUTO_TEST_CASE(shutdown_then_start_gives_the_next_id_and_events) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_shutdown>({d}));
  expect_state(m, d, shutoff, 1);
  BOOST_TEST(m.dom("test").id == -1);
  BOOST_TEST(m.call<P::domain_is_active>({d})->value == 0);
  expect_error(m.call<P::domain_shutdown>({d}), error_code::internal_error, error_domain::test,
               "internal error: domain 'test' not running");
  expect_ok(m.call<P::domain_create>({d}));
  expect_state(m, d, running, 1);
  BOOST_TEST(m.dom("test").id == 2);
  auto created = m.call<P::domain_create_with_flags>({d, 0});
  expect_error(created, error_code::internal_error, error_domain::test,
               "internal error: Domain 'test' is already running");
  auto events = m.take_events();
  BOOST_TEST(events.size() == 2u);
  BOOST_TEST((events.at(0) == lifecycle(with_id(d, -1), 5, 0)));
  BOOST_TEST((events.at(1) == lifecycle(with_id(d, 2), 2, 0)));
}

BOOST_AUTO_TEST_CASE(create_with_flags_returns_the_handle_with_the_new_id) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_destroy>({d}));
  auto r = m.call<P::domain_create_with_flags>({d, 0});
  expect_ok(r);
  BOOST_TEST(r->dom.id == 2);
  BOOST_TEST(r->dom.name == "test");
}

BOOST_AUTO_TEST_CASE(destroy_stops_with_reason_destroyed_and_refuses_an_inactive_domain) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_destroy>({d}));
  expect_state(m, d, shutoff, 2);
  for (auto r : {m.call<P::domain_destroy>({d}), m.call<P::domain_destroy_flags>({d, 0})})
    expect_error(r, error_code::operation_invalid, error_domain::domain,
                 "Requested operation is not valid: domain is not running");
  expect_error(m.call<P::domain_reboot>({d, 0}), error_code::operation_invalid,
               error_domain::domain, "Requested operation is not valid: domain is not running");
  expect_error(m.call<P::domain_suspend>({d}), error_code::internal_error, error_domain::test,
               "internal error: domain 'test' not running");
  auto events = m.take_events();
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST((events.at(0) == lifecycle(with_id(d, -1), 5, 1)));
}

BOOST_AUTO_TEST_CASE(reboot_restarts_in_place_without_events) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_suspend>({d}));
  m.take_events();
  expect_ok(m.call<P::domain_reboot>({d, 0}));
  expect_state(m, d, running, 1);
  BOOST_TEST(m.dom("test").id == 1);
  BOOST_TEST(m.take_events().empty());
}

BOOST_AUTO_TEST_CASE(a_domain_whose_reboot_action_is_destroy_stops_on_reboot) {
  model m;
  auto xml = "<domain type='test'><name>once</name><memory>1024</memory>"
             "<on_reboot>destroy</on_reboot><os><type>hvm</type></os></domain>";
  auto created = m.call<P::domain_create_xml>({xml, 0});
  expect_ok(created);
  m.take_events();
  expect_ok(m.call<P::domain_reboot>({created->dom, 0}));
  auto events = m.take_events();
  BOOST_TEST(events.size() == 1u);
  // A transient domain keeps its id in its stop event: libvirt resets the id
  // only when it restores a persistent definition.
  BOOST_TEST((events.at(0) == lifecycle(created->dom, 5, 0)));
  // Transient: gone once stopped.
  expect_error(m.call<P::domain_lookup_by_name>({"once"}), error_code::no_domain,
               error_domain::test, "Domain not found");
}

BOOST_AUTO_TEST_CASE(a_domain_whose_poweroff_action_is_restart_keeps_running_on_shutdown) {
  model m;
  auto xml = "<domain type='test'><name>phoenix</name><memory>1024</memory>"
             "<on_poweroff>restart</on_poweroff><os><type>hvm</type></os></domain>";
  auto created = m.call<P::domain_create_xml>({xml, 0});
  expect_ok(created);
  m.take_events();
  expect_ok(m.call<P::domain_shutdown>({created->dom}));
  expect_state(m, created->dom, running, 1);
  BOOST_TEST(m.take_events().empty());
}

// -- memory and vcpus -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(set_memory_checks_the_maximum_and_changes_only_the_live_definition) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_set_memory>({d, 9000000}), error_code::invalid_arg,
               error_domain::test, "invalid argument: cannot set memory higher than max memory");
  expect_ok(m.call<P::domain_set_memory>({d, 1000000}));
  BOOST_TEST(m.call<P::domain_get_info>({d})->memory == 1000000u);
  expect_error(m.call<P::domain_set_max_memory>({d, 1000000}), error_code::operation_invalid,
               error_domain::test,
               "Requested operation is not valid: cannot resize the maximum memory on an active "
               "domain");
  // The persistent definition is back after a shutdown.
  expect_ok(m.call<P::domain_shutdown>({d}));
  auto info = m.call<P::domain_get_info>({d});
  BOOST_TEST(info->memory == 2097152u);
  BOOST_TEST(info->state == 5u);
  expect_error(m.call<P::domain_set_memory>({d, 1000}), error_code::operation_invalid,
               error_domain::domain, "Requested operation is not valid: domain is not running");
  expect_ok(m.call<P::domain_set_max_memory>({d, 1000000}));
  info = m.call<P::domain_get_info>({d});
  BOOST_TEST(info->max_mem == 1000000u);
  BOOST_TEST(info->memory == 1000000u);
}

BOOST_AUTO_TEST_CASE(set_memory_flags_selects_the_definition_as_libvirt_does) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_set_memory_flags>({d, 100, 3}), error_code::invalid_arg,
               error_domain::domain,
               "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
  expect_error(m.call<P::domain_set_memory_flags>({d, 100, 4}), error_code::operation_invalid,
               error_domain::test,
               "Requested operation is not valid: cannot resize the maximum memory on an active "
               "domain");
  expect_ok(m.call<P::domain_set_memory_flags>({d, 100, 6}));
  expect_ok(m.call<P::domain_set_memory_flags>({d, 50, 2}));
  auto inactive = m.call<P::domain_get_xml_desc>({d, 2});
  BOOST_TEST(inactive->xml.find("<memory unit='KiB'>100</memory>") != std::string::npos);
  BOOST_TEST(inactive->xml.find("<currentMemory unit='KiB'>50</currentMemory>") !=
             std::string::npos);
  // The live definition is untouched.
  BOOST_TEST(m.call<P::domain_get_info>({d})->max_mem == 8388608u);
}

BOOST_AUTO_TEST_CASE(set_vcpus_checks_the_driver_and_domain_maxima) {
  model m;
  auto d = m.dom("test");
  expect_error(m.call<P::domain_set_vcpus>({d, 40}), error_code::invalid_arg, error_domain::test,
               "invalid argument: requested cpu amount exceeds maximum supported amount (40 > 32)");
  expect_error(m.call<P::domain_set_vcpus>({d, 3}), error_code::invalid_arg, error_domain::test,
               "invalid argument: requested cpu amount exceeds maximum (3 > 2)");
  expect_ok(m.call<P::domain_set_vcpus>({d, 1}));
  BOOST_TEST(m.call<P::domain_get_info>({d})->nr_virt_cpu == 1u);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 0})->value == 1);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 2})->value == 2);
  // Raising the persistent maximum, then the persistent count.
  expect_ok(m.call<P::domain_set_vcpus_flags>({d, 3, 6}));
  expect_ok(m.call<P::domain_set_vcpus_flags>({d, 3, 2}));
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 6})->value == 3);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 2})->value == 3);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 5})->value == 2);
}

BOOST_AUTO_TEST_CASE(vcpu_queries_refuse_definitions_the_domain_lacks) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_destroy>({d}));
  expect_error(m.call<P::domain_get_vcpus_flags>({d, 1}), error_code::operation_invalid,
               error_domain::domain, "Requested operation is not valid: domain is not running");
  expect_error(m.call<P::domain_get_max_vcpus>({d}), error_code::operation_invalid,
               error_domain::domain, "Requested operation is not valid: domain is not running");
  expect_error(m.call<P::domain_set_vcpus>({d, 1}), error_code::operation_invalid,
               error_domain::domain, "Requested operation is not valid: domain is not running");
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 2})->value == 2);
  expect_ok(m.call<P::domain_create>({d}));
  expect_ok(m.call<P::domain_undefine>({d}));
  expect_error(m.call<P::domain_get_vcpus_flags>({d, 2}), error_code::operation_invalid,
               error_domain::domain,
               "Requested operation is not valid: transient domains do not have any persistent "
               "config");
  expect_error(m.call<P::domain_set_memory_flags>({d, 100, 2}), error_code::operation_invalid,
               error_domain::domain,
               "Requested operation is not valid: transient domains do not have any persistent "
               "config");
}

// -- define, undefine, autostart -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(undefine_of_a_running_domain_makes_it_transient_until_it_stops) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_undefine>({d}));
  BOOST_TEST(m.call<P::domain_is_persistent>({d})->value == 0);
  BOOST_TEST(m.call<P::domain_is_active>({d})->value == 1);
  expect_ok(m.call<P::domain_destroy>({d}));
  expect_error(m.call<P::domain_lookup_by_name>({"test"}), error_code::no_domain,
               error_domain::test, "Domain not found");
  expect_error(m.call<P::domain_get_info>({d}), error_code::no_domain, error_domain::test,
               std::string{"Domain not found: no domain with matching uuid '"} + test_uuid +
                 "' (test)");
  auto events = m.take_events();
  BOOST_TEST(events.size() == 2u);
  BOOST_TEST((events.at(0) == lifecycle(d, 1, 0)));
  BOOST_TEST((events.at(1) == lifecycle(with_id(d, -1), 5, 1)));
}

BOOST_AUTO_TEST_CASE(undefine_of_an_inactive_domain_removes_it) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_destroy>({d}));
  m.take_events();
  expect_ok(m.call<P::domain_undefine_flags>({d, 3}));
  BOOST_TEST(m.domains.empty());
  expect_error(m.call<P::domain_lookup_by_uuid>({d.uuid}), error_code::no_domain,
               error_domain::test, "Domain not found");
  auto events = m.take_events();
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST((events.at(0) == lifecycle(with_id(d, -1), 1, 0)));
}

BOOST_AUTO_TEST_CASE(define_of_a_running_domain_updates_only_its_persistent_definition) {
  model m;
  auto d = m.dom("test");
  auto xml = testing::data_file("dumpxml-inactive-test.xml");
  auto changed = xml;
  std::string from = "<vcpu placement='static'>2";
  changed.replace(changed.find(from), from.size(), "<vcpu placement='static'>1");
  auto r = m.call<P::domain_define_xml>({changed});
  expect_ok(r);
  BOOST_TEST(r->dom.id == 1);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 0})->value == 2);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({d, 2})->value == 1);
  BOOST_TEST(m.call<P::domain_get_xml_desc>({d, 2})->xml == changed);
  BOOST_TEST(m.call<P::domain_get_xml_desc>({d, 0})->xml == testing::data_file("dumpxml-test.xml"));
  auto events = m.take_events();
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST((events.at(0) == lifecycle(d, 0, 1)));
  // After a stop, the new definition is the domain.
  expect_ok(m.call<P::domain_destroy>({d}));
  BOOST_TEST(m.call<P::domain_get_info>({d})->nr_virt_cpu == 1u);
}

BOOST_AUTO_TEST_CASE(define_and_start_of_a_new_domain_follow_libvirts_sequence) {
  model m;
  auto r = m.call<P::domain_define_xml>({domain_xml("demo", demo_uuid)});
  expect_ok(r);
  auto demo = r->dom;
  BOOST_TEST(demo.id == -1);
  BOOST_TEST(demo.name == "demo");
  expect_state(m, demo, shutoff, 0);
  BOOST_TEST(m.call<P::domain_is_persistent>({demo})->value == 1);
  auto again = m.call<P::domain_define_xml_flags>({domain_xml("demo", demo_uuid), 1});
  expect_ok(again);
  expect_ok(m.call<P::domain_create>({demo}));
  BOOST_TEST(m.dom("demo").id == 2);
  expect_ok(m.call<P::domain_destroy>({demo}));
  expect_state(m, demo, shutoff, 2);
  expect_ok(m.call<P::domain_create>({demo}));
  BOOST_TEST(m.dom("demo").id == 3);
  auto events = m.take_events();
  BOOST_TEST(events.size() == 5u);
  BOOST_TEST((events.at(0) == lifecycle(demo, 0, 0)));
  BOOST_TEST((events.at(1) == lifecycle(demo, 0, 1)));
  BOOST_TEST((events.at(2) == lifecycle(with_id(demo, 2), 2, 0)));
  BOOST_TEST((events.at(3) == lifecycle(with_id(demo, -1), 5, 1)));
  BOOST_TEST((events.at(4) == lifecycle(with_id(demo, 3), 2, 0)));
}

BOOST_AUTO_TEST_CASE(a_transient_domain_that_gets_defined_reports_added) {
  model m;
  auto c = m.call<P::domain_create_xml>({domain_xml("demo", demo_uuid), 0});
  expect_ok(c);
  BOOST_TEST(c->dom.id == 2);
  BOOST_TEST(m.call<P::domain_is_persistent>({c->dom})->value == 0);
  auto d = m.call<P::domain_define_xml>({domain_xml("demo", demo_uuid)});
  expect_ok(d);
  BOOST_TEST(m.call<P::domain_is_persistent>({c->dom})->value == 1);
  expect_ok(m.call<P::domain_shutdown>({c->dom}));
  expect_state(m, c->dom, shutoff, 1);
  auto events = m.take_events();
  BOOST_TEST(events.size() == 3u);
  BOOST_TEST((events.at(0) == lifecycle(c->dom, 2, 0)));
  BOOST_TEST((events.at(1) == lifecycle(c->dom, 0, 0)));
  BOOST_TEST((events.at(2) == lifecycle(with_id(c->dom, -1), 5, 0)));
}

BOOST_AUTO_TEST_CASE(a_domain_defined_again_after_undefine_while_running_reports_updated) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_undefine>({d}));
  m.take_events();
  expect_ok(m.call<P::domain_define_xml>({testing::data_file("dumpxml-inactive-test.xml")}));
  auto events = m.take_events();
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST((events.at(0) == lifecycle(d, 0, 1)));
  BOOST_TEST(m.call<P::domain_is_persistent>({d})->value == 1);
}

BOOST_AUTO_TEST_CASE(create_xml_of_an_inactive_persistent_domain_starts_it_with_the_new_definition) {
  model m;
  expect_ok(m.call<P::domain_define_xml>({domain_xml("demo", demo_uuid, 2)}));
  auto c = m.call<P::domain_create_xml>({domain_xml("demo", demo_uuid, 3), 0});
  expect_ok(c);
  BOOST_TEST(c->dom.id == 2);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({c->dom, 0})->value == 3);
  BOOST_TEST(m.call<P::domain_get_vcpus_flags>({c->dom, 2})->value == 2);
  expect_error(m.call<P::domain_create_xml>({domain_xml("demo", demo_uuid), 0}),
               error_code::operation_invalid, error_domain::domain,
               "Requested operation is not valid: domain 'demo' is already active");
  expect_ok(m.call<P::domain_destroy>({c->dom}));
  BOOST_TEST(m.call<P::domain_get_info>({c->dom})->nr_virt_cpu == 2u);
}

BOOST_AUTO_TEST_CASE(definitions_that_clash_by_name_or_uuid_are_refused) {
  model m;
  auto same_name = domain_xml("test", demo_uuid);
  auto same_uuid = domain_xml("other", test_uuid);
  expect_error(m.call<P::domain_define_xml>({same_name}), error_code::operation_failed,
               error_domain::domain,
               std::string{"operation failed: domain 'test' already exists with uuid "} + test_uuid);
  expect_error(m.call<P::domain_create_xml>({same_name, 0}), error_code::operation_failed,
               error_domain::domain,
               std::string{"operation failed: domain 'test' already exists with uuid "} + test_uuid);
  expect_error(m.call<P::domain_define_xml>({same_uuid}), error_code::operation_failed,
               error_domain::domain,
               std::string{"operation failed: domain 'test' is already defined with uuid "} +
                 test_uuid);
  expect_error(m.call<P::domain_create_xml>({same_uuid, 0}), error_code::operation_failed,
               error_domain::domain,
               std::string{"operation failed: domain 'test' is already defined with uuid "} +
                 test_uuid);
  BOOST_TEST(m.take_events().empty());
}

BOOST_AUTO_TEST_CASE(define_and_create_check_their_flags_and_the_name) {
  model m;
  expect_error(m.call<P::domain_define_xml_flags>({domain_xml("demo", demo_uuid), 2}),
               error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x2) in function testDomainDefineXMLFlags");
  expect_error(m.call<P::domain_create_xml>({domain_xml("demo", demo_uuid), 2}),
               error_code::invalid_arg, error_domain::test,
               "unsupported flags (0x2) in function testDomainCreateXML");
  expect_error(m.call<P::domain_define_xml>({domain_xml("a\nb", demo_uuid)}),
               error_code::xml_detail, error_domain::xml, "invalid char in name: \n");
  auto bad = m.call<P::domain_define_xml>({"<domain>"});
  BOOST_TEST(!bad.ok());
}

BOOST_AUTO_TEST_CASE(interfaces_without_a_target_get_testnet_names) {
  model m;
  auto xml = "<domain type='test'><name>nets</name><memory>1024</memory>"
             "<os><type>hvm</type></os><devices>"
             "<interface type='network'><source network='default'/>"
             "<target dev='testnet0'/></interface>"
             "<interface type='network'><source network='default'/></interface>"
             "</devices></domain>";
  auto r = m.call<P::domain_define_xml>({xml});
  expect_ok(r);
  auto out = m.call<P::domain_get_xml_desc>({r->dom, 0});
  BOOST_TEST(out->xml.find("<target dev='testnet1'/>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(autostart_is_stored_as_a_boolean) {
  model m;
  auto d = m.dom("test");
  expect_ok(m.call<P::domain_set_autostart>({d, 5}));
  BOOST_TEST(m.call<P::domain_get_autostart>({d})->value == 1);
  expect_ok(m.call<P::domain_set_autostart>({d, 0}));
  BOOST_TEST(m.call<P::domain_get_autostart>({d})->value == 0);
}

// -- unknown domains ------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_handle_with_an_unknown_uuid_names_uuid_and_name) {
  model m;
  nonnull_domain ghost{"ghost", uuid_of(demo_uuid), 7};
  expect_error(m.call<P::domain_get_info>({ghost}), error_code::no_domain, error_domain::test,
               std::string{"Domain not found: no domain with matching uuid '"} + demo_uuid +
                 "' (ghost)");
  // Flag checks come before the lookup, as in libvirt.
  expect_error(m.call<P::domain_get_state>({ghost, 1}), error_code::invalid_arg,
               error_domain::test, "unsupported flags (0x1) in function testDomainGetState");
  expect_error(m.call<P::domain_set_vcpus>({ghost, 50}), error_code::invalid_arg,
               error_domain::test,
               "invalid argument: requested cpu amount exceeds maximum supported amount (50 > 32)");
}

BOOST_AUTO_TEST_CASE(the_summary_reports_what_the_index_needs) {
  model m;
  auto& obj = *m.domains.begin()->second;
  auto s = obj.summary();
  BOOST_TEST(s.dom.name == "test");
  BOOST_TEST(s.dom.id == 1);
  BOOST_TEST(s.state == running);
  BOOST_TEST(s.reason == 0);
  BOOST_TEST(s.active);
  BOOST_TEST(s.persistent);
  BOOST_TEST(!s.autostart);
  BOOST_TEST(!s.has_managed_save);
  BOOST_TEST(s.snapshot_count == 0);
  BOOST_TEST(!s.removed);
  BOOST_TEST(testing::routed_to_domain(static_cast<int32_t>(P::domain_define_xml)));
  BOOST_TEST(!testing::routed_to_domain(static_cast<int32_t>(P::connect_get_type)));
}

BOOST_AUTO_TEST_CASE(a_definition_of_another_domain_sent_to_an_object_is_refused) {
  // The caller routes definitions by uuid; one that reaches the wrong object
  // (a caller bug) must not rename or replace it.
  model m;
  auto& obj = *m.domains.begin()->second;
  call_context ctx;
  auto other = obj.dispatch(static_cast<int32_t>(P::domain_define_xml),
                            xdr::encode(protocol::xml_args{domain_xml("demo", demo_uuid)}), ctx);
  BOOST_TEST(!other.ok());
  auto renamed = obj.dispatch(static_cast<int32_t>(P::domain_define_xml),
                              xdr::encode(protocol::xml_args{domain_xml("renamed", test_uuid)}), ctx);
  expect_error(renamed, error_code::operation_failed, error_domain::domain,
               std::string{"operation failed: domain 'test' is already defined with uuid "} +
                 test_uuid);
  BOOST_TEST(obj.summary().dom.name == "test");
}

BOOST_AUTO_TEST_CASE(cpu_time_is_read_from_the_clock_the_backend_was_given) {
  // The backend's clock is a boundary: a fake one fixes what GET_INFO reports.
  using namespace std::chrono;
  auto at = system_clock::time_point{seconds{1'800'000'000} + microseconds{123'456}};
  auto backend = make_domain_backend([at] { return at; });
  drivers::conf::domain_object obj{drivers::xml::domain_def{},
                                   drivers::conf::domain_object::origin::defined,
                                   -1};
  BOOST_TEST(backend->cpu_time_ns(obj) == 1'800'000'000'123'456'000ull);
}
