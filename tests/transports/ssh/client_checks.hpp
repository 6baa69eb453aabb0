/// What the transport tests ask of every connection they open: list the
/// test driver's domains through it, make a call or two, close it; or expect
/// the open to fail and hand back the error.
#pragma once

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "client/blocking.hpp"

namespace virtactor::tests {

/// `virsh list --all` on test:///default.
inline const std::string list_all_text = " Id   Name   State\n"
                                         "----------------------\n"
                                         " 1    test   running\n"
                                         "\n";

inline std::vector<std::string> domain_names(client::blocking_connection& c) {
  auto all = c.call<protocol::proc::connect_list_all_domains>({1, 3});
  BOOST_REQUIRE_MESSAGE(all.ok(), (all.ok() ? "" : all.error().message));
  std::vector<std::string> names;
  for (const auto& d : all->domains)
    names.push_back(d.name);
  return names;
}

/// Opens `uri`, lists the domains, checks two calls and closes.
inline void list_through(const std::string& uri, const open_options& opts = {}) {
  BOOST_TEST_MESSAGE("uri " << uri);
  auto c = client::blocking_connection::open(uri, 0, opts);
  BOOST_REQUIRE_MESSAGE(c.ok(), uri << ": " << (c.ok() ? "" : c.error().message));
  BOOST_TEST(domain_names(**c) == std::vector<std::string>{"test"});
  auto type = (*c)->call<protocol::proc::connect_get_type>();
  BOOST_REQUIRE(type.ok());
  BOOST_TEST(type->type == "TEST");
  auto missing = (*c)->call<protocol::proc::domain_lookup_by_name>({"nope"});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == error_code::no_domain);
  BOOST_TEST((*c)->close().ok());
}

/// The error of an open that must fail.
inline virt_error open_error(const std::string& uri, const open_options& opts = {}) {
  auto c = client::blocking_connection::open(uri, 0, opts);
  BOOST_REQUIRE_MESSAGE(!c.ok(), uri << " opened, but should not");
  BOOST_TEST_MESSAGE("error: " << c.error().message);
  return c.error();
}

} // namespace virtactor::tests
