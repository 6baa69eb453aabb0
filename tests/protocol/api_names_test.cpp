// The public API names libvirt's errors use for procedures a driver lacks,
// checked against libvirt 9.0's own library: every REMOTE procedure that
// serves an API must name a function libvirt.so.0 exports.
#define BOOST_TEST_MODULE protocol_api_names
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include <dlfcn.h>

#include "protocol/api_names.hpp"
#include "protocol/procedure_numbers.hpp"

namespace vp = virtactor::protocol;

namespace {

/// Procedures that serve no public API of their own: authentication steps
/// and the event messages a daemon sends.
bool serves_no_api(std::string_view name) {
  if (name.substr(0, 5) == "AUTH_")
    return true;
  return name.find("EVENT") != std::string_view::npos &&
         name.find("REGISTER") == std::string_view::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(names_follow_libvirts_spelling) {
  BOOST_TEST(vp::api_name(14) == "virDomainGetXMLDesc");
  BOOST_TEST(vp::api_name(24) == "virDomainLookupByUUID");
  BOOST_TEST(vp::api_name(22) == "virDomainLookupByID");
  BOOST_TEST(vp::api_name(19) == "virDomainGetOSType");
  BOOST_TEST(vp::api_name(293) == "virNodeGetCPUMap");
  BOOST_TEST(vp::api_name(267) == "virDomainPMWakeup");
  BOOST_TEST(vp::api_name(316) == "virConnectDomainEventRegisterAny");
  BOOST_TEST(vp::api_name(9999) == "procedure 9999");
}

BOOST_AUTO_TEST_CASE(the_error_names_the_api_in_the_domain_of_its_object) {
  auto e = vp::unsupported_api_error(165); // STORAGE_VOL_WIPE
  BOOST_TEST(e.code == virtactor::error_code::no_support);
  BOOST_TEST(e.domain == virtactor::error_domain::storage);
  BOOST_TEST(e.message == "this function is not supported by the connection driver: "
                          "virStorageVolWipe");
  BOOST_TEST(vp::api_domain("CONNECT_NUM_OF_SECRETS") == virtactor::error_domain::secret);
}

BOOST_AUTO_TEST_CASE(every_api_name_is_a_function_libvirt_exports) {
  void* lib = ::dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    BOOST_TEST_MESSAGE("libvirt.so.0 is not installed (libvirt0): names not cross-checked");
    return;
  }
  int checked = 0;
  for (int32_t n = 1; n < 1000; ++n) {
    auto name = vp::proc_name(n);
    if (name.empty() || serves_no_api(name))
      continue;
    auto api = vp::api_name(n);
    BOOST_TEST(::dlsym(lib, api.c_str()) != nullptr,
               "procedure " << n << " (" << name << "): libvirt has no " << api);
    ++checked;
  }
  ::dlclose(lib);
  BOOST_TEST(checked > 380);
}
