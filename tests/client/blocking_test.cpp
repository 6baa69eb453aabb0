// The blocking facade and the driver registry over the in-process test driver.
#define BOOST_TEST_MODULE client_blocking
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "client/blocking.hpp"
#include "protocol/procedures.hpp"

using namespace virtactor;
using client::blocking_connection;
using protocol::proc;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<blocking_connection> open_ok(const std::string& uri, uint32_t flags = 0) {
  auto c = blocking_connection::open(uri, flags);
  BOOST_REQUIRE_MESSAGE(c.ok(), "open " << uri << ": " << (c.ok() ? "" : c.error().message));
  return std::move(*c);
}

const std::string demo_xml = R"(<domain type='test'>
  <name>demo</name>
  <uuid>b359a94f-d926-4f5d-938e-6dc94a790027</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>)";

protocol::nonnull_domain lookup(blocking_connection& c, const std::string& name) {
  auto r = c.call<proc::domain_lookup_by_name>({name});
  BOOST_REQUIRE_MESSAGE(r.ok(), "lookup " << name);
  return r->dom;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_default_uri_lists_the_running_test_domain) {
  auto c = open_ok("test:///default");
  BOOST_TEST(c->uri() == "test:///default");
  auto r = c->call<proc::connect_list_all_domains>({1, 3});
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE_EQUAL(r->domains.size(), 1u);
  BOOST_TEST(r->ret == 1u);
  BOOST_TEST(r->domains[0].name == "test");
  BOOST_TEST(r->domains[0].id == 1);
  auto st = c->call<proc::domain_get_state>({r->domains[0], 0});
  BOOST_REQUIRE(st.ok());
  BOOST_TEST(st->state == 1); // running
}

BOOST_AUTO_TEST_CASE(a_uri_no_local_driver_accepts_goes_to_the_daemon_socket) {
  // As with libvirt: the remote driver takes it and tries the daemon.
  auto c = blocking_connection::open("bogus:///x?socket=/nonexistent/sock");
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == error_code::system_error);
  BOOST_TEST(c.error().message ==
             "Failed to connect socket to '/nonexistent/sock': No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_test_uri_without_a_path_is_refused_as_libvirt_refuses_it) {
  auto c = blocking_connection::open("test://");
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == error_code::invalid_arg);
}

BOOST_AUTO_TEST_CASE(a_read_only_connection_refuses_writes_and_allows_reads) {
  auto c = open_ok("test:///default", client::connect_ro);
  BOOST_TEST(c->read_only());
  auto def = c->call<proc::domain_define_xml>({demo_xml});
  BOOST_REQUIRE(!def.ok());
  BOOST_TEST(def.error().code == error_code::operation_denied);
  BOOST_TEST(def.error().domain == error_domain::domain);
  BOOST_TEST(def.error().message ==
             "operation forbidden: read only access prevents virDomainDefineXML");
  auto net = c->call<proc::network_lookup_by_name>({"default"});
  BOOST_REQUIRE(net.ok());
  auto destroy = c->call<proc::network_destroy>({net->net});
  BOOST_REQUIRE(!destroy.ok());
  BOOST_TEST(destroy.error().domain == error_domain::network);
  BOOST_TEST(c->call<proc::connect_get_hostname>().ok());
}

BOOST_AUTO_TEST_CASE(connections_open_at_the_same_time_share_one_state) {
  auto a = open_ok("test:///default");
  auto b = open_ok("test:///default");
  BOOST_REQUIRE(a->call<proc::domain_define_xml>({demo_xml}).ok());
  auto seen = b->call<proc::domain_lookup_by_name>({"demo"});
  BOOST_REQUIRE(seen.ok());
  BOOST_TEST(seen->dom.id == -1);
}

BOOST_AUTO_TEST_CASE(the_state_is_dropped_with_its_last_connection) {
  {
    auto a = open_ok("test:///default");
    BOOST_REQUIRE(a->call<proc::domain_define_xml>({demo_xml}).ok());
    BOOST_REQUIRE(a->close().ok());
  }
  auto b = open_ok("test:///default");
  auto gone = b->call<proc::domain_lookup_by_name>({"demo"});
  BOOST_REQUIRE(!gone.ok());
  BOOST_TEST(gone.error().code == error_code::no_domain);
}

BOOST_AUTO_TEST_CASE(lifecycle_events_reach_subscribers_with_libvirts_numbers) {
  auto c = open_ok("test:///default");
  auto id = c->register_domain_event(0, std::nullopt);
  BOOST_REQUIRE(id.ok());
  BOOST_REQUIRE(c->call<proc::domain_define_xml>({demo_xml}).ok());
  auto dom = lookup(*c, "demo");
  BOOST_REQUIRE(c->call<proc::domain_create>({dom}).ok());
  dom = lookup(*c, "demo");
  BOOST_TEST(dom.id > 1);
  BOOST_REQUIRE(c->call<proc::domain_suspend>({dom}).ok());
  BOOST_REQUIRE(c->call<proc::domain_resume>({dom}).ok());
  BOOST_REQUIRE(c->call<proc::domain_destroy>({dom}).ok());
  BOOST_REQUIRE(c->call<proc::domain_undefine>({dom}).ok());
  // (event, detail): defined/added, started/booted, suspended/paused,
  // resumed/unpaused, stopped/destroyed, undefined/removed.
  const std::pair<int, int> expected[] = {{0, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 1}, {1, 0}};
  for (auto [event, detail] : expected) {
    auto ev = c->next_event(10s);
    BOOST_REQUIRE_MESSAGE(ev.has_value(), "missing event " << event);
    BOOST_TEST(ev->callback_id == *id);
    BOOST_TEST(ev->dom.name == "demo");
    BOOST_TEST(ev->event == event);
    BOOST_TEST(ev->detail == detail);
  }
  BOOST_REQUIRE(c->deregister_domain_event(*id).ok());
  BOOST_TEST(!c->deregister_domain_event(*id).ok());
}

BOOST_AUTO_TEST_CASE(a_subscription_for_one_domain_sees_only_that_domain) {
  auto c = open_ok("test:///default");
  auto test_dom = lookup(*c, "test");
  auto id = c->register_domain_event(0, test_dom);
  BOOST_REQUIRE(id.ok());
  BOOST_REQUIRE(c->call<proc::domain_define_xml>({demo_xml}).ok());
  BOOST_REQUIRE(c->call<proc::domain_suspend>({test_dom}).ok());
  auto ev = c->next_event(10s);
  BOOST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->dom.name == "test");
  BOOST_TEST(ev->event == 3);
}

BOOST_AUTO_TEST_CASE(operations_on_a_closed_connection_fail_cleanly) {
  auto c = open_ok("test:///default");
  BOOST_REQUIRE(c->close().ok());
  BOOST_TEST(c->closed());
  auto r = c->call<proc::connect_get_type>();
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::invalid_conn);
}

BOOST_AUTO_TEST_CASE(arguments_beyond_the_protocol_limits_are_refused_before_sending) {
  auto c = open_ok("test:///default");
  std::string huge(xdr::string_max + 1, 'x');
  auto r = c->call<proc::domain_lookup_by_name>({huge});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::rpc);
  BOOST_TEST(r.error().message.find("Unable to encode message payload") == 0);
}
