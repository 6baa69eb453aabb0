// Round trips of every wire struct in protocol/remote_protocol.hpp: encode,
// decode, compare, and encode again to the same bytes.
#define BOOST_TEST_MODULE protocol_round_trip
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>

#include "protocol/procedures.hpp"
#include "protocol/remote_protocol.hpp"
#include "tests/protocol/sample_values.hpp"

using namespace virtactor;
using namespace virtactor::protocol;
using virtactor::protocol::test::sample;
using virtactor::protocol::test::sampler;

// Every struct and alias of remote_protocol.hpp; the last case of this file
// checks that the list stays complete.
// clang-format off
#define VA_WIRE_STRUCTS(X) \
  X(nonnull_domain) X(nonnull_network) X(nonnull_storage_pool) X(nonnull_storage_vol) \
  X(remote_string) X(remote_error) X(typed_param_value) X(typed_param) \
  X(connect_open_args) X(connect_get_type_ret) X(connect_get_version_ret) \
  X(connect_get_lib_version_ret) X(connect_get_hostname_ret) X(connect_get_uri_ret) \
  X(connect_get_capabilities_ret) X(connect_get_max_vcpus_args) X(connect_get_max_vcpus_ret) \
  X(connect_is_secure_ret) X(connect_supports_feature_args) X(connect_supports_feature_ret) \
  X(connect_get_sysinfo_args) X(connect_get_sysinfo_ret) X(auth_list_ret) X(auth_sasl_init_ret) \
  X(auth_sasl_start_args) X(auth_sasl_start_ret) X(auth_sasl_step_args) X(auth_sasl_step_ret) \
  X(auth_polkit_ret) X(sasl_data) X(node_get_info_ret) \
  X(node_get_free_memory_ret) X(node_get_cells_free_memory_args) X(node_get_cells_free_memory_ret) \
  X(node_get_security_model_ret) X(connect_list_all_domains_args) X(connect_list_all_domains_ret) \
  X(num_ret) X(connect_list_domains_args) X(connect_list_domains_ret) X(maxnames_args) \
  X(connect_list_defined_domains_ret) X(connect_list_networks_ret) \
  X(connect_list_storage_pools_ret) X(storage_pool_list_volumes_ret) \
  X(domain_lookup_by_id_args) X(name_args) X(uuid_args) X(dom_only) X(dom_flags_args) \
  X(xml_args) X(xml_flags_args) X(domain_create_xml_args) X(xml_ret) X(domain_get_info_ret) \
  X(domain_get_state_ret) X(domain_get_os_type_ret) X(domain_get_max_memory_ret) \
  X(domain_set_autostart_args) X(domain_set_memory_args) X(domain_set_memory_flags_args) \
  X(domain_set_vcpus_args) X(domain_set_vcpus_flags_args) X(domain_get_security_label_ret) \
  X(domain_get_messages_ret) X(int_ret) X(connect_list_all_networks_args) \
  X(connect_list_all_networks_ret) X(net_only) X(net_flags_args) X(network_set_autostart_args) \
  X(network_get_bridge_name_ret) X(connect_list_all_storage_pools_args) \
  X(connect_list_all_storage_pools_ret) X(pool_only) X(pool_flags_args) \
  X(storage_pool_set_autostart_args) X(storage_pool_get_info_ret) \
  X(storage_pool_list_volumes_args) X(storage_pool_list_all_volumes_args) \
  X(storage_pool_list_all_volumes_ret) X(storage_vol_create_xml_args) X(vol_only) \
  X(vol_flags_args) X(storage_vol_lookup_by_name_args) X(string_args) \
  X(storage_vol_get_info_ret) X(storage_vol_get_path_ret) \
  X(connect_get_all_domain_stats_args) X(domain_stats_record) \
  X(connect_get_all_domain_stats_ret) \
  X(connect_domain_event_callback_register_any_args) \
  X(connect_domain_event_callback_register_any_ret) \
  X(connect_domain_event_callback_deregister_any_args) \
  X(connect_domain_event_register_any_args) X(domain_event_lifecycle_msg) \
  X(domain_event_callback_lifecycle_msg) X(domain_event_reboot_msg) \
  X(domain_event_callback_reboot_msg) X(domain_event_control_error_msg) \
  X(domain_event_callback_control_error_msg) X(connect_event_connection_closed_msg)
// clang-format on

// Some aliases name the same type (names_ret<16384>); each type once.
template <class Tuple, class... Ts>
struct unique_types {
  using type = Tuple;
};
template <class... Us, class T, class... Ts>
struct unique_types<std::tuple<Us...>, T, Ts...>
  : std::conditional_t<(std::is_same_v<T, Us> || ...), unique_types<std::tuple<Us...>, Ts...>,
                       unique_types<std::tuple<Us..., T>, Ts...>> {};

#define VA_AS_TYPE(name) , name
using wire_types = unique_types<std::tuple<>, xdr::empty VA_WIRE_STRUCTS(VA_AS_TYPE)>::type;
#undef VA_AS_TYPE

namespace {

// Seeds 0..11 give every string field the lengths 0..5 twice, both states of
// every optional several times and arrays of 0..4 elements.
constexpr uint32_t seeds = 12;

template <class T>
void check_round_trip(const T& x) {
  xdr::buffer out;
  xdr::encoder enc{out};
  enc.put(x);
  BOOST_TEST_REQUIRE(enc.ok(), enc.error());
  BOOST_TEST(out.size() % 4 == 0u);
  T y;
  xdr::decoder dec{out};
  dec.get(y);
  BOOST_TEST_REQUIRE(dec.ok(), dec.error());
  BOOST_TEST(dec.remaining() == 0u);
  BOOST_TEST((y == x));
  BOOST_TEST((xdr::encode(y) == out));
}

} // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(every_wire_struct_survives_encode_decode_encode_unchanged, T,
                              wire_types) {
  for (uint32_t seed = 0; seed < seeds; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      check_round_trip(sample<T>(seed));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_sampler_reaches_string_lengths_zero_to_five_and_both_optional_states) {
  // Guards the claim the round trips rest on.
  std::set<size_t> lengths;
  std::set<bool> present;
  for (uint32_t seed = 0; seed < seeds; ++seed) {
    auto x = sample<remote_error>(seed);
    lengths.insert(x.message ? x.message->size() : 99);
    present.insert(x.str1.has_value());
    if (x.str1)
      lengths.insert(x.str1->size());
  }
  for (size_t n = 0; n <= 5; ++n)
    BOOST_TEST(lengths.count(n) == 1u, "length " << n);
  BOOST_TEST(present.size() == 2u);
}

BOOST_AUTO_TEST_CASE(every_arm_of_a_typed_parameter_round_trips_with_its_discriminant) {
  // remote_typed_param_value: 1 INT, 2 UINT, 3 LLONG, 4 ULLONG, 5 DOUBLE,
  // 6 BOOLEAN, 7 STRING.
  std::vector<typed_param> params(7);
  params[0].value.value.emplace<0>(-5);
  params[1].value.value.emplace<1>(4000000000u);
  params[2].value.value.emplace<2>(-9000000000ll);
  params[3].value.value.emplace<3>(18000000000000000000ull);
  params[4].value.value.emplace<4>(0.25);
  params[5].value.value.emplace<5>(1);
  params[6].value.value.emplace<6>("abcde");
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].field = std::string(i % 6, 'f');
    BOOST_TEST_CONTEXT("arm " << i + 1) {
      BOOST_TEST(params[i].value.discriminant() == static_cast<int32_t>(i + 1));
      auto bytes = xdr::encode(params[i]);
      // field (length word + padded text), then the discriminant.
      size_t disc_at = 4 + (i % 6 + 3) / 4 * 4;
      BOOST_TEST(uint8_t(bytes[disc_at + 3]) == i + 1);
      check_round_trip(params[i]);
    }
  }
  // INT and BOOLEAN share a C++ type; the arm, not the type, is kept.
  typed_param back;
  BOOST_TEST(xdr::decode(xdr::encode(params[5]), back).empty());
  BOOST_TEST(back.value.value.index() == 5u);
}

BOOST_AUTO_TEST_CASE(strings_of_length_zero_to_five_are_padded_to_four_bytes_with_zeros) {
  const size_t expected[] = {4, 8, 8, 8, 8, 12};
  for (size_t n = 0; n <= 5; ++n) {
    name_args x{std::string(n, 'x')};
    auto bytes = xdr::encode(x);
    BOOST_TEST_REQUIRE(bytes.size() == expected[n]);
    BOOST_TEST(uint8_t(bytes[3]) == n);
    for (size_t i = 4 + n; i < bytes.size(); ++i)
      BOOST_TEST(bytes[i] == 0);
    check_round_trip(x);
  }
}

BOOST_AUTO_TEST_CASE(an_optional_is_a_zero_word_when_absent_and_a_one_word_before_its_value) {
  BOOST_TEST((xdr::encode(connect_open_args{}) == xdr::buffer(8, 0)));
  connect_open_args x{std::string{"t"}, 7};
  xdr::buffer expected = {0, 0, 0, 1, 0, 0, 0, 1, 't', 0, 0, 0, 0, 0, 0, 7};
  BOOST_TEST((xdr::encode(x) == expected));
}

BOOST_AUTO_TEST_CASE(a_uuid_is_sixteen_raw_bytes_without_a_length) {
  uuid_args x;
  for (size_t i = 0; i < 16; ++i)
    x.uuid[i] = static_cast<uint8_t>(0xf0 + i);
  auto bytes = xdr::encode(x);
  BOOST_TEST_REQUIRE(bytes.size() == 16u);
  BOOST_TEST(uint8_t(bytes[0]) == 0xf0);
  BOOST_TEST(uint8_t(bytes[15]) == 0xff);
}

BOOST_AUTO_TEST_CASE(chars_take_four_bytes_each_and_the_char_array_counts_its_nul) {
  node_get_security_model_ret x{std::string{"ab"}, std::string{}};
  auto bytes = xdr::encode(x);
  // model: count 3, 'a', 'b', NUL; doi: count 1, NUL.
  BOOST_TEST_REQUIRE(bytes.size() == 4u * (1 + 3 + 1 + 1));
  BOOST_TEST(uint8_t(bytes[3]) == 3u);
  BOOST_TEST(bytes[7] == 'a');
  BOOST_TEST(bytes[11] == 'b');
  BOOST_TEST(uint8_t(bytes[19]) == 1u);
  node_get_info_ret info;
  info.model = "i686";
  BOOST_TEST(xdr::encode(info).size() == 128u + 8 + 6 * 4);
}

BOOST_AUTO_TEST_CASE(a_stats_reply_is_counted_records_of_a_domain_and_counted_typed_params) {
  // remote_connect_get_all_domain_stats_ret: retStats<>, each record a
  // remote_nonnull_domain then params<> of remote_typed_param.
  connect_get_all_domain_stats_ret x;
  domain_stats_record rec;
  rec.dom.name = "vm";
  rec.dom.uuid.fill(0x11);
  rec.dom.id = 3;
  typed_param state;
  state.field = "state.state";
  state.value.value.emplace<0>(1);
  typed_param path;
  path.field = "block.0.path";
  path.value.value.emplace<6>("/d");
  rec.params = {state, path};
  x.ret_stats.push_back(rec);
  auto bytes = xdr::encode(x);
  auto word = [&](size_t at) {
    return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
           uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
  };
  BOOST_TEST(word(0) == 1u);         // one record
  BOOST_TEST(word(4) == 2u);         // "vm"
  BOOST_TEST(word(28) == 3u);        // id after the 16 uuid bytes
  BOOST_TEST(word(32) == 2u);        // two params
  BOOST_TEST(word(36) == 11u);       // "state.state" (12 bytes padded)
  BOOST_TEST(word(52) == 1u);        // VIR_TYPED_PARAM_INT
  BOOST_TEST(word(56) == 1u);        // its value
  BOOST_TEST(word(60) == 12u);       // "block.0.path"
  BOOST_TEST(word(76) == 7u);        // VIR_TYPED_PARAM_STRING
  BOOST_TEST(word(80) == 2u);        // "/d"
  BOOST_TEST(bytes.size() == 88u);
  check_round_trip(x);
  connect_get_all_domain_stats_args a;
  a.doms.push_back(rec.dom);
  a.stats = 0x21;
  a.flags = 1u << 31;
  auto abytes = xdr::encode(a);
  BOOST_TEST(abytes.size() == 4u + 8 + 16 + 4 + 8);
  check_round_trip(a);
}

BOOST_AUTO_TEST_CASE(encoding_a_value_the_peer_would_refuse_is_reported) {
  auto refused = [](const auto& x) {
    xdr::buffer out;
    xdr::encoder enc{out};
    enc.put(x);
    return enc.error();
  };
  connect_list_all_storage_pools_ret pools;
  pools.pools.resize(storage_pool_list_max);
  BOOST_TEST(refused(pools).empty());
  pools.pools.emplace_back();
  BOOST_TEST(refused(pools) == "array longer than its maximum");
  node_get_security_model_ret model;
  model.model.assign(security_model_max - 1, 'm');
  BOOST_TEST(refused(model).empty());
  model.model.push_back('m');
  BOOST_TEST(refused(model) == "char array longer than its maximum");
  node_get_info_ret info;
  info.model.assign(model_size + 1, 'x');
  BOOST_TEST(refused(info) == "fixed char array longer than its size");
  xml_args big;
  big.xml.assign(xdr::string_max + 1, 'x');
  BOOST_TEST(refused(big) == "string longer than its maximum");
}

BOOST_AUTO_TEST_CASE(every_struct_in_remote_protocol_hpp_is_in_the_round_trip_list) {
  std::ifstream in{std::string{VA_PROTOCOL_SOURCE_DIR} + "/protocol/remote_protocol.hpp"};
  BOOST_TEST_REQUIRE(in.good());
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  std::set<std::string> declared;
  std::regex decl{R"(\n(?:struct|using) (\w+)(?: \{| =))"};
  for (auto it = std::sregex_iterator{text.begin(), text.end(), decl}; it != std::sregex_iterator{}; ++it)
    declared.insert((*it)[1]);
  // The template names_ret is covered through its aliases.
  declared.erase("names_ret");
  BOOST_TEST_REQUIRE(declared.size() > 50u);
  std::set<std::string> tested;
#define VA_AS_NAME(name) tested.insert(#name);
  VA_WIRE_STRUCTS(VA_AS_NAME)
#undef VA_AS_NAME
  for (const auto& name : declared)
    BOOST_TEST(tested.count(name) == 1u, name << " has no round trip");
  for (const auto& name : tested)
    BOOST_TEST(declared.count(name) == 1u, name << " is not in remote_protocol.hpp");
}

BOOST_AUTO_TEST_CASE(every_procedure_body_struct_round_trips_through_the_procedure_table) {
  // The table's own types, as a dispatcher sees them.
  size_t procs = 0;
#define VA_CHECK(p, A, R, api_name, acc)                                                           \
  ++procs;                                                                                         \
  for (uint32_t seed = 0; seed < 4; ++seed) {                                                      \
    BOOST_TEST_CONTEXT(#p << " seed " << seed) {                                                   \
      check_round_trip(sample<proc_traits<proc::p>::args>(seed));                                  \
      check_round_trip(sample<proc_traits<proc::p>::ret>(seed));                                   \
      auto args = xdr::encode(sample<proc_traits<proc::p>::args>(seed));                           \
      BOOST_TEST(check_args(static_cast<int32_t>(proc::p), args.data(), args.size()).empty());     \
    }                                                                                              \
  }
  VA_REMOTE_PROCS(VA_CHECK)
#undef VA_CHECK
  BOOST_TEST(procs == 125u);
}
