// Byte-exact vectors: messages real virsh and libvirtd 9.0 exchanged (see
// data/README.md), decoded with our codec, checked field by field, and
// encoded again to the very same bytes.
#define BOOST_TEST_MODULE protocol_captured_vectors
#include <boost/test/unit_test.hpp>

#include <string>

#include "protocol/error_codes.hpp"
#include "protocol/header.hpp"
#include "protocol/procedures.hpp"
#include "tests/protocol/test_data.hpp"
#include "tests/protocol/wire_catalog.hpp"

using namespace virtactor;
using namespace virtactor::protocol;
using virtactor::protocol::test::vector;

namespace {

const xdr::uuid test_uuid = {0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04,
                             0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f};
const xdr::uuid demo_uuid = {0xb3, 0x59, 0xa9, 0x4f, 0xd9, 0x26, 0x4f, 0x5d,
                             0x93, 0x8e, 0x6d, 0xc9, 0x4a, 0x79, 0x00, 0x27};

/// A captured message split into its header and decoded body.
template <class T>
struct parsed {
  header hdr;
  T body;
};

/// Decodes the vector `name` as a header and a `T`, requiring that `T` takes
/// every byte of the body and encodes back to the captured bytes.
template <class T>
parsed<T> parse(const std::string& name) {
  auto bytes = vector(name);
  parsed<T> out;
  BOOST_TEST_REQUIRE(bytes.size() >= length_min);
  auto len = parse_length(bytes.data());
  BOOST_TEST_REQUIRE(len.has_value());
  BOOST_TEST_REQUIRE(*len == bytes.size());
  auto err = decode_header(bytes.data() + length_size, bytes.size() - length_size, out.hdr);
  BOOST_TEST_REQUIRE(err.empty(), err);
  xdr::decoder dec{bytes.data() + length_min, bytes.size() - length_min};
  dec.get(out.body);
  BOOST_TEST_REQUIRE(dec.ok(), dec.error());
  BOOST_TEST(dec.remaining() == 0u);
  BOOST_TEST((make_message(out.hdr, out.body) == bytes));
  return out;
}

void check_header(const header& hdr, uint32_t prog, int32_t proc, msg_type type, uint32_t serial,
                  msg_status status = msg_status::ok) {
  BOOST_TEST(hdr.prog == prog);
  BOOST_TEST(hdr.vers == 1u);
  BOOST_TEST(hdr.proc == proc);
  BOOST_TEST((hdr.type == type));
  BOOST_TEST(hdr.serial == serial);
  BOOST_TEST((hdr.status == status));
}

void check_remote(const header& hdr, proc p, msg_type type, uint32_t serial,
                  msg_status status = msg_status::ok) {
  check_header(hdr, program::remote, static_cast<int32_t>(p), type, serial, status);
}

void check_test_domain(const nonnull_domain& dom) {
  BOOST_TEST(dom.name == "test");
  BOOST_TEST((dom.uuid == test_uuid));
  BOOST_TEST(dom.id == 1);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_captured_message_decodes_fully_and_encodes_back_to_the_same_bytes) {
  auto files = test::all_vectors();
  BOOST_TEST_REQUIRE(files.size() >= 40u);
  for (const auto& file : files) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      auto bytes = test::read_hex(file);
      auto msg = test::decode_message(bytes.data(), bytes.size());
      BOOST_TEST_REQUIRE(msg.error.empty(), msg.error);
      BOOST_TEST(msg.body_used == msg.body_size);
      BOOST_TEST((msg.reencoded == bytes));
    }
  }
}

BOOST_AUTO_TEST_CASE(auth_list_call_is_a_bare_header_and_its_reply_lists_auth_none) {
  auto call = parse<xdr::empty>("remote-066-auth_list-call");
  check_remote(call.hdr, proc::auth_list, msg_type::call, 0);
  auto reply = parse<auth_list_ret>("remote-066-auth_list-reply");
  check_remote(reply.hdr, proc::auth_list, msg_type::reply, 0);
  BOOST_TEST_REQUIRE(reply.body.types.size() == 1u);
  BOOST_TEST((reply.body.types[0] == auth_type::none));
}

BOOST_AUTO_TEST_CASE(the_keepalive_probe_asks_feature_ten_and_is_answered_supported) {
  auto call = parse<connect_supports_feature_args>("remote-060-connect_supports_feature-call");
  check_remote(call.hdr, proc::connect_supports_feature, msg_type::call, 1);
  BOOST_TEST(call.body.feature == 10);
  auto reply = parse<connect_supports_feature_ret>("remote-060-connect_supports_feature-reply");
  check_remote(reply.hdr, proc::connect_supports_feature, msg_type::reply, 1);
  BOOST_TEST(reply.body.supported == 1);
}

BOOST_AUTO_TEST_CASE(connect_open_carries_the_uri_without_transport_host_or_port) {
  auto call = parse<connect_open_args>("remote-001-connect_open-call");
  check_remote(call.hdr, proc::connect_open, msg_type::call, 2);
  BOOST_TEST_REQUIRE(call.body.name.has_value());
  BOOST_TEST(*call.body.name == "test:///default");
  BOOST_TEST(call.body.flags == 0u);
  auto reply = parse<xdr::empty>("remote-001-connect_open-reply");
  check_remote(reply.hdr, proc::connect_open, msg_type::reply, 2);
}

BOOST_AUTO_TEST_CASE(list_all_domains_asks_active_and_inactive_and_returns_the_test_domain) {
  auto call = parse<connect_list_all_domains_args>("remote-273-connect_list_all_domains-call");
  check_remote(call.hdr, proc::connect_list_all_domains, msg_type::call, 6);
  BOOST_TEST(call.body.need_results == 1);
  BOOST_TEST(call.body.flags == 3u);
  auto reply = parse<connect_list_all_domains_ret>("remote-273-connect_list_all_domains-reply");
  check_remote(reply.hdr, proc::connect_list_all_domains, msg_type::reply, 6);
  BOOST_TEST_REQUIRE(reply.body.domains.size() == 1u);
  check_test_domain(reply.body.domains[0]);
  BOOST_TEST(reply.body.ret == 1u);
}

BOOST_AUTO_TEST_CASE(get_state_sends_the_domain_handle_and_flags_and_gets_running) {
  auto call = parse<dom_flags_args>("remote-212-domain_get_state-call");
  check_remote(call.hdr, proc::domain_get_state, msg_type::call, 7);
  check_test_domain(call.body.dom);
  BOOST_TEST(call.body.flags == 0u);
  auto reply = parse<domain_get_state_ret>("remote-212-domain_get_state-reply");
  check_remote(reply.hdr, proc::domain_get_state, msg_type::reply, 7);
  BOOST_TEST(reply.body.state == 1); // VIR_DOMAIN_RUNNING
  BOOST_TEST(reply.body.reason == 0);
}

BOOST_AUTO_TEST_CASE(lookup_by_name_returns_name_uuid_and_id_of_the_test_domain) {
  auto call = parse<name_args>("remote-023-domain_lookup_by_name-call");
  check_remote(call.hdr, proc::domain_lookup_by_name, msg_type::call, 6);
  BOOST_TEST(call.body.name == "test");
  auto reply = parse<dom_only>("remote-023-domain_lookup_by_name-reply");
  check_remote(reply.hdr, proc::domain_lookup_by_name, msg_type::reply, 6);
  check_test_domain(reply.body.dom);
}

BOOST_AUTO_TEST_CASE(get_info_reply_carries_its_char_and_short_fields_as_four_bytes) {
  auto bytes = vector("remote-016-domain_get_info-reply");
  BOOST_TEST(bytes.size() == 60u);
  auto reply = parse<domain_get_info_ret>("remote-016-domain_get_info-reply");
  check_remote(reply.hdr, proc::domain_get_info, msg_type::reply, 8);
  BOOST_TEST(reply.body.state == 1u);
  BOOST_TEST(reply.body.max_mem == 8388608u);
  BOOST_TEST(reply.body.memory == 2097152u);
  BOOST_TEST(reply.body.nr_virt_cpu == 2u);
  BOOST_TEST(reply.body.cpu_time > 0u); // the test driver reports wall-clock ns
}

BOOST_AUTO_TEST_CASE(node_get_info_reply_spends_128_bytes_on_the_32_char_model) {
  auto bytes = vector("remote-006-node_get_info-reply");
  BOOST_TEST(bytes.size() == 188u);
  auto reply = parse<node_get_info_ret>("remote-006-node_get_info-reply");
  check_remote(reply.hdr, proc::node_get_info, msg_type::reply, 6);
  BOOST_TEST(reply.body.model == "i686");
  BOOST_TEST(reply.body.memory == 3145728u);
  BOOST_TEST(reply.body.cpus == 16);
  BOOST_TEST(reply.body.mhz == 1400);
  BOOST_TEST(reply.body.nodes == 2);
  BOOST_TEST(reply.body.sockets == 2);
  BOOST_TEST(reply.body.cores == 2);
  BOOST_TEST(reply.body.threads == 2);
}

BOOST_AUTO_TEST_CASE(security_model_reply_sends_model_and_doi_as_nul_terminated_char_arrays) {
  auto reply = parse<node_get_security_model_ret>("remote-122-node_get_security_model-reply");
  check_remote(reply.hdr, proc::node_get_security_model, msg_type::reply, 12);
  BOOST_TEST(reply.body.model == "testSecurity");
  BOOST_TEST(reply.body.doi == "");
  // "testSecurity" + NUL = 13 words, then the DOI: a lone NUL.
  auto bytes = vector("remote-122-node_get_security_model-reply");
  BOOST_TEST(uint8_t(bytes[length_min + 3]) == 13u);
  BOOST_TEST(bytes.size() == length_min + 4 + 13 * 4 + 4 + 4);
}

BOOST_AUTO_TEST_CASE(security_label_reply_carries_the_label_and_enforcing) {
  auto reply = parse<domain_get_security_label_ret>("remote-121-domain_get_security_label-reply");
  check_remote(reply.hdr, proc::domain_get_security_label, msg_type::reply, 13);
  BOOST_TEST(reply.body.label == "libvirt-test");
  BOOST_TEST(reply.body.enforcing == 1);
}

BOOST_AUTO_TEST_CASE(an_unknown_domain_is_an_error_reply_with_code_42_from_the_test_driver) {
  auto reply = parse<remote_error>("remote-023-domain_lookup_by_name-reply-error");
  check_remote(reply.hdr, proc::domain_lookup_by_name, msg_type::reply, 6, msg_status::error);
  BOOST_TEST(reply.body.code == static_cast<int32_t>(error_code::no_domain));
  BOOST_TEST(reply.body.code == 42);
  BOOST_TEST(reply.body.domain == static_cast<int32_t>(error_domain::test));
  BOOST_TEST(reply.body.domain == 12);
  BOOST_TEST_REQUIRE(reply.body.message.has_value());
  BOOST_TEST(*reply.body.message == "Domain not found");
  BOOST_TEST(reply.body.level == 2);
  BOOST_TEST(!reply.body.dom.has_value());
  BOOST_TEST_REQUIRE(reply.body.str1.has_value());
  BOOST_TEST(*reply.body.str1 == "Domain not found");
  BOOST_TEST(!reply.body.str2.has_value());
  BOOST_TEST(!reply.body.str3.has_value());
  BOOST_TEST(reply.body.int1 == -1);
  BOOST_TEST(reply.body.int2 == -1);
  BOOST_TEST(!reply.body.net.has_value());
}

BOOST_AUTO_TEST_CASE(keepalive_ping_and_pong_are_bare_28_byte_messages_with_serial_zero) {
  auto ping = parse<xdr::empty>("keepalive-001-ping-message");
  check_header(ping.hdr, program::keepalive, static_cast<int32_t>(keepalive_proc::ping),
               msg_type::message, 0);
  auto pong = parse<xdr::empty>("keepalive-002-pong-message");
  check_header(pong.hdr, program::keepalive, static_cast<int32_t>(keepalive_proc::pong),
               msg_type::message, 0);
  BOOST_TEST(vector("keepalive-001-ping-message").size() == 28u);
  BOOST_TEST(vector("keepalive-002-pong-message").size() == 28u);
}

BOOST_AUTO_TEST_CASE(event_registration_asks_for_every_domain_and_gets_a_callback_id) {
  auto call = parse<connect_domain_event_callback_register_any_args>(
    "remote-316-connect_domain_event_callback_register_any-call");
  check_remote(call.hdr, proc::connect_domain_event_callback_register_any, msg_type::call, 6);
  BOOST_TEST(call.body.event_id == 0); // VIR_DOMAIN_EVENT_ID_LIFECYCLE
  BOOST_TEST(!call.body.dom.has_value());
  auto reply = parse<connect_domain_event_callback_register_any_ret>(
    "remote-316-connect_domain_event_callback_register_any-reply");
  BOOST_TEST(reply.body.callback_id == 0);
}

BOOST_AUTO_TEST_CASE(a_lifecycle_event_is_a_message_with_serial_one_and_the_started_domain) {
  auto ev = parse<domain_event_callback_lifecycle_msg>(
    "remote-318-domain_event_callback_lifecycle-message-started");
  check_header(ev.hdr, program::remote, proc_domain_event_callback_lifecycle, msg_type::message, 1);
  BOOST_TEST(ev.body.callback_id == 0);
  BOOST_TEST(ev.body.msg.dom.name == "demo");
  BOOST_TEST((ev.body.msg.dom.uuid == demo_uuid));
  BOOST_TEST(ev.body.msg.dom.id == 2);
  BOOST_TEST(ev.body.msg.event == 2);  // VIR_DOMAIN_EVENT_STARTED
  BOOST_TEST(ev.body.msg.detail == 0); // VIR_DOMAIN_EVENT_STARTED_BOOTED
  auto stopped = parse<domain_event_callback_lifecycle_msg>(
    "remote-318-domain_event_callback_lifecycle-message-stopped");
  BOOST_TEST(stopped.body.msg.dom.id == -1);
  BOOST_TEST(stopped.body.msg.event == 5);  // VIR_DOMAIN_EVENT_STOPPED
  BOOST_TEST(stopped.body.msg.detail == 1); // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
}

BOOST_AUTO_TEST_CASE(define_xml_sends_the_file_as_is_and_gets_an_inactive_domain_back) {
  auto call = parse<xml_args>("remote-011-domain_define_xml-call");
  check_remote(call.hdr, proc::domain_define_xml, msg_type::call, 6);
  BOOST_TEST(call.body.xml == "<domain type='test'>\n"
                              "  <name>demo</name>\n"
                              "  <uuid>b359a94f-d926-4f5d-938e-6dc94a790027</uuid>\n"
                              "  <memory unit='KiB'>65536</memory>\n"
                              "  <vcpu>1</vcpu>\n"
                              "  <os>\n"
                              "    <type>hvm</type>\n"
                              "  </os>\n"
                              "</domain>\n");
  auto reply = parse<dom_only>("remote-011-domain_define_xml-reply");
  check_remote(reply.hdr, proc::domain_define_xml, msg_type::reply, 6);
  BOOST_TEST(reply.body.dom.name == "demo");
  BOOST_TEST((reply.body.dom.uuid == demo_uuid));
  BOOST_TEST(reply.body.dom.id == -1);
}

BOOST_AUTO_TEST_CASE(pool_info_reply_carries_the_unsigned_char_state_as_four_bytes) {
  auto reply = parse<storage_pool_get_info_ret>("remote-087-storage_pool_get_info-reply");
  check_remote(reply.hdr, proc::storage_pool_get_info, msg_type::reply, 8);
  BOOST_TEST(reply.body.state == 2u); // VIR_STORAGE_POOL_RUNNING
  BOOST_TEST(reply.body.capacity == 107374182400u);
  BOOST_TEST(reply.body.allocation == 0u);
  BOOST_TEST(reply.body.available == 107374182400u);
}
