/// Assertions the test driver model tests share: a reply failed with exactly
/// libvirt's code, domain and message; events equal a list.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "protocol/error.hpp"

namespace virtactor::drivers::test::testing {

/// Checks that `r` failed with `code`, `domain` and `message`.
template <class R>
void expect_error(const R& r, error_code code, error_domain domain, const std::string& message) {
  BOOST_REQUIRE_MESSAGE(!r.ok(), "expected the error: " + message);
  const virt_error& e = r.error();
  BOOST_TEST(static_cast<int>(e.code) == static_cast<int>(code));
  BOOST_TEST(static_cast<int>(e.domain) == static_cast<int>(domain));
  BOOST_TEST(e.message == message);
}

/// Checks that `r` succeeded, naming the error otherwise.
template <class R>
void expect_ok(const R& r) {
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string{} : r.error().message));
}

} // namespace virtactor::drivers::test::testing
