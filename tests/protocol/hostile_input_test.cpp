// Hostile input: truncations, lengths and counts over their maxima or over
// the bytes left, lying length words, bad optional markers and union
// discriminants. Each must give a clean error: no crash, no exception and
// no allocation sized by what the input merely claims.
#define BOOST_TEST_MODULE protocol_hostile_input
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "protocol/header.hpp"
#include "protocol/procedures.hpp"
#include "tests/protocol/test_data.hpp"
#include "tests/protocol/wire_catalog.hpp"

// -- allocation tracking ---------------------------------------------------------
// The largest single allocation made while `tracking` is on; replacing the
// global operator new in this test binary is the way to see them all.

namespace {
std::atomic<bool> tracking{false};
std::atomic<size_t> largest{0};
} // namespace

// noinline: GCC would otherwise see free() meet a pointer from operator new
// at inlined call sites and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(size_t n) {
  if (tracking.load(std::memory_order_relaxed)) {
    size_t seen = largest.load(std::memory_order_relaxed);
    while (n > seen && !largest.compare_exchange_weak(seen, n)) {
      // retry
    }
  }
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

using namespace virtactor;
using namespace virtactor::protocol;

namespace {

/// Runs `f` and returns the largest single allocation it made.
template <class F>
size_t largest_allocation(F&& f) {
  largest = 0;
  tracking = true;
  f();
  tracking = false;
  return largest;
}

/// Big-endian words to bytes.
xdr::buffer words(std::initializer_list<uint32_t> ws) {
  xdr::buffer out;
  xdr::encoder enc{out};
  for (auto w : ws)
    enc.put(w);
  return out;
}

template <class T>
std::string decode_as(const xdr::buffer& bytes) {
  T x;
  return xdr::decode(bytes, x);
}

/// Decodes the body of a whole message per its header.
std::string decode_body(const header& hdr, const char* body, size_t size) {
  std::string err = "no body struct";
  test::with_body_type(hdr, [&]<class T>(std::type_identity<T>) {
    T x;
    err = xdr::decode(body, size, x);
  });
  return err;
}

const char* const truncated_vectors[] = {
  "remote-001-connect_open-call",
  "remote-006-node_get_info-reply",
  "remote-011-domain_define_xml-call",
  "remote-023-domain_lookup_by_name-reply",
  "remote-023-domain_lookup_by_name-reply-error",
  "remote-121-domain_get_security_label-reply",
  "remote-122-node_get_security_model-reply",
  "remote-273-connect_list_all_domains-reply",
  "remote-316-connect_domain_event_callback_register_any-call",
  "remote-318-domain_event_callback_lifecycle-message-started",
};

} // namespace

BOOST_AUTO_TEST_CASE(every_truncation_of_a_captured_message_is_refused_cleanly) {
  for (auto name : truncated_vectors) {
    BOOST_TEST_CONTEXT(name) {
      auto bytes = test::vector(name);
      header hdr;
      BOOST_TEST_REQUIRE(decode_header(bytes.data() + 4, bytes.size() - 4, hdr).empty());
      const char* body = bytes.data() + length_min;
      size_t size = bytes.size() - length_min;
      BOOST_TEST_REQUIRE(decode_body(hdr, body, size).empty());
      for (size_t cut = 0; cut < size; ++cut)
        BOOST_TEST(!decode_body(hdr, body, cut).empty(), "cut at " << cut);
      for (size_t cut = 0; cut < header_size; ++cut) {
        header h;
        BOOST_TEST(!decode_header(bytes.data() + 4, cut, h).empty(), "header cut at " << cut);
      }
      // A whole message whose length word no longer matches is refused too.
      for (size_t cut = 0; cut < bytes.size(); ++cut)
        BOOST_TEST(!test::decode_message(bytes.data(), cut).error.empty(), "message cut at " << cut);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_string_claiming_more_than_4_mib_is_refused_before_any_allocation) {
  auto bytes = words({xdr::string_max + 1, 0x41414141, 0x41414141});
  std::string err;
  auto big = largest_allocation([&] { err = decode_as<xml_args>(bytes); });
  BOOST_TEST(err == "length longer than its maximum");
  BOOST_TEST(big < 1024u);
  // 0xffffffff must not wrap around when padded.
  BOOST_TEST(decode_as<xml_args>(words({0xffffffffu, 0})) == "length longer than its maximum");
}

BOOST_AUTO_TEST_CASE(a_string_longer_than_the_bytes_left_is_refused_before_any_allocation) {
  for (uint32_t claimed : {5u, 4096u, xdr::string_max}) {
    BOOST_TEST_CONTEXT("claimed " << claimed) {
      auto bytes = words({claimed, 0x41414141});
      std::string err;
      auto big = largest_allocation([&] { err = decode_as<xml_args>(bytes); });
      BOOST_TEST(err == "truncated opaque data");
      BOOST_TEST(big < 1024u);
    }
  }
  // Padding counts: 5 bytes of text need 8 bytes on the wire.
  BOOST_TEST(decode_as<name_args>(words({5, 0x41414141, 0x41000000})).empty());
  BOOST_TEST(decode_as<name_args>(words({5, 0x41414141})) == "truncated opaque data");
}

BOOST_AUTO_TEST_CASE(an_array_count_over_its_maximum_is_refused) {
  auto over = [](uint32_t max) { return words({max + 1, 0, 0, 0, 0}); };
  const std::string msg = "array longer than its maximum";
  BOOST_TEST(decode_as<auth_list_ret>(over(auth_type_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_all_domains_ret>(over(domain_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_domains_ret>(over(domain_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_defined_domains_ret>(over(domain_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_networks_ret>(over(network_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_all_networks_ret>(over(network_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_storage_pools_ret>(over(storage_pool_list_max)) == msg);
  BOOST_TEST(decode_as<connect_list_all_storage_pools_ret>(over(storage_pool_list_max)) == msg);
  BOOST_TEST(decode_as<storage_pool_list_volumes_ret>(over(storage_vol_list_max)) == msg);
  BOOST_TEST(decode_as<storage_pool_list_all_volumes_ret>(over(storage_vol_list_max)) == msg);
  BOOST_TEST(decode_as<node_get_cells_free_memory_ret>(over(node_max_cells)) == msg);
  BOOST_TEST(decode_as<domain_get_messages_ret>(over(domain_messages_max)) == msg);
  const std::string chars = "char array longer than its maximum";
  BOOST_TEST(decode_as<node_get_security_model_ret>(over(security_model_max)) == chars);
  BOOST_TEST(decode_as<domain_get_security_label_ret>(over(security_label_max)) == chars);
  BOOST_TEST(decode_as<connect_list_all_domains_ret>(words({0xffffffffu})) == msg);
}

BOOST_AUTO_TEST_CASE(an_array_of_exactly_its_maximum_decodes) {
  xdr::buffer bytes = words({auth_type_list_max});
  for (uint32_t i = 0; i < auth_type_list_max; ++i)
    xdr::encode_into(bytes, uint32_t{i % 3});
  auth_list_ret x;
  BOOST_TEST(xdr::decode(bytes, x).empty());
  BOOST_TEST(x.types.size() == auth_type_list_max);
}

BOOST_AUTO_TEST_CASE(a_count_larger_than_the_bytes_left_is_refused_before_any_allocation) {
  // 16384 names would reserve 16384 strings; 8 bytes cannot hold them.
  auto bytes = words({domain_list_max, 1, 0x41000000});
  std::string err;
  auto big = largest_allocation([&] { err = decode_as<connect_list_defined_domains_ret>(bytes); });
  BOOST_TEST(err == "truncated array");
  BOOST_TEST(big < 1024u);
  big = largest_allocation([&] {
    err = decode_as<connect_list_all_domains_ret>(words({domain_list_max, 0, 0}));
  });
  BOOST_TEST(err == "truncated array");
  BOOST_TEST(big < 1024u);
  big = largest_allocation([&] {
    err = decode_as<domain_get_security_label_ret>(words({security_label_max, 0x41}));
  });
  BOOST_TEST(err == "truncated char array");
  BOOST_TEST(big < 1024u);
}

BOOST_AUTO_TEST_CASE(a_length_word_below_a_header_or_above_32_mib_plus_4_is_refused) {
  auto length = [](uint32_t w) {
    auto b = words({w});
    return parse_length(b.data());
  };
  for (uint32_t bad : {0u, 4u, 27u, length_max + 1, 0x7fffffffu, 0x80000000u, 0xffffffffu})
    BOOST_TEST(!length(bad).has_value(), "word " << bad);
  BOOST_TEST(length(28).value_or(0) == 28u);
  BOOST_TEST(length(33554436).value_or(0) == 33554436u);
  BOOST_TEST(length_max == 33554436u);
}

BOOST_AUTO_TEST_CASE(an_optional_marker_other_than_zero_or_one_is_refused) {
  const std::string msg = "optional marker out of range";
  for (uint32_t marker : {2u, 0x100u, 0xffffffffu}) {
    BOOST_TEST_CONTEXT("marker " << marker) {
      BOOST_TEST(decode_as<connect_open_args>(words({marker, 1, 0x41000000, 0})) == msg);
      // remote_error: code, domain, message absent, level, then dom.
      BOOST_TEST(decode_as<remote_error>(words({42, 12, 0, 2, marker, 0, 0, 0, 0, 0, 0})) == msg);
      BOOST_TEST(decode_as<connect_domain_event_callback_register_any_args>(words({0, marker})) == msg);
    }
  }
  BOOST_TEST(decode_as<connect_open_args>(words({0, 0})).empty());
}

BOOST_AUTO_TEST_CASE(a_union_discriminant_outside_its_arms_is_refused) {
  for (uint32_t disc : {0u, 8u, 0xffffffffu, 0x80000001u}) {
    // field "a", then the typed parameter's type and four bytes of value.
    BOOST_TEST(decode_as<typed_param>(words({1, 0x61000000, disc, 0, 0})) ==
                 "union discriminant out of range",
               "discriminant " << disc);
  }
  BOOST_TEST(decode_as<typed_param>(words({1, 0x61000000, 7, 0})).empty());
}

BOOST_AUTO_TEST_CASE(a_failed_decoder_stays_failed_and_reads_nothing_more) {
  auto bytes = words({1, 2, 3});
  xdr::decoder dec{bytes};
  uint64_t big = 0;
  dec.get(big);
  BOOST_TEST(big == 0x100000002u);
  dec.get(big); // 4 bytes left: fails
  BOOST_TEST(!dec.ok());
  BOOST_TEST(dec.error() == "truncated integer");
  BOOST_TEST(dec.remaining() == 0u);
  uint32_t small = 99;
  dec.get(small);
  BOOST_TEST(small == 99u); // untouched: nothing was read
  BOOST_TEST(!dec.ok());
  dec.fail("another reason");
  BOOST_TEST(dec.error() == "truncated integer");
}

BOOST_AUTO_TEST_CASE(bytes_after_a_complete_body_are_ignored_as_libvirtd_ignores_them) {
  auto bytes = words({10, 0xdeadbeef});
  connect_supports_feature_args x;
  xdr::decoder dec{bytes};
  dec.get(x);
  BOOST_TEST(dec.ok());
  BOOST_TEST(x.feature == 10);
  BOOST_TEST(dec.remaining() == 4u);
}

BOOST_AUTO_TEST_CASE(every_single_byte_corruption_of_every_vector_fails_or_decodes_stably) {
  // A deterministic little fuzzer over the captured messages.
  size_t decoded = 0, refused = 0;
  for (const auto& file : test::all_vectors()) {
    auto original = test::read_hex(file);
    for (size_t i = 0; i < original.size(); ++i) {
      for (uint8_t flip : {0x01, 0x80, 0xff}) {
        auto bytes = original;
        bytes[i] = static_cast<char>(bytes[i] ^ flip);
        auto msg = test::decode_message(bytes.data(), bytes.size());
        if (!msg.error.empty()) {
          ++refused;
          continue;
        }
        ++decoded;
        auto again = test::decode_message(msg.reencoded.data(), msg.reencoded.size());
        BOOST_TEST_REQUIRE(again.error.empty(), file.filename() << " byte " << i << ": " << again.error);
        BOOST_TEST_REQUIRE((again.reencoded == msg.reencoded), file.filename() << " byte " << i);
      }
    }
  }
  BOOST_TEST(decoded > 0u);
  BOOST_TEST(refused > 0u);
}
