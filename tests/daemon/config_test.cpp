// libvirtd.conf syntax and virtactord's typed settings. The syntax cases
// follow what the real libvirtd 9.0 accepts and refuses (`libvirtd -f FILE`).
#define BOOST_TEST_MODULE daemon_config
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/config.hpp"

using namespace virtactor;
using namespace virtactor::daemon;

namespace {

using strings = std::vector<std::string>;

daemon_config parsed(const std::string& text, strings* warnings_out = nullptr) {
  strings warnings;
  auto config = parse_config(text, warnings);
  BOOST_TEST_REQUIRE(config.ok(), text << ": " << (config.ok() ? "" : config.error().message));
  if (warnings_out)
    *warnings_out = warnings;
  else
    BOOST_TEST(warnings.empty(), text << ": unexpected warnings");
  return *config;
}

struct failure_row {
  std::string text;
  std::string message;
  error_code code = error_code::conf_syntax;
};

void check_failure(const failure_row& row) {
  BOOST_TEST_CONTEXT(row.text) {
    strings warnings;
    auto config = parse_config(row.text, warnings);
    BOOST_TEST_REQUIRE(!config.ok());
    BOOST_TEST(config.error().message == row.message);
    BOOST_TEST(static_cast<int>(config.error().code) == static_cast<int>(row.code));
    BOOST_TEST(static_cast<int>(config.error().domain) == static_cast<int>(error_domain::conf));
  }
}

/// A scratch directory removed at the end of the test.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "va-config-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto file = path / name;
    std::ofstream{file} << text;
    return file.string();
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(an_empty_file_gives_libvirtd_defaults) {
  for (const std::string text : {"", "\n\n", "# only a comment\n", "   \t\n# a\n\n"}) {
    auto c = parsed(text);
    BOOST_TEST(!c.listen_tcp);
    BOOST_TEST(c.listen_tls);
    BOOST_TEST(!c.listen_addr.has_value());
    BOOST_TEST(c.tcp_port == 16509);
    BOOST_TEST(c.tls_port == 16514);
    BOOST_TEST(!c.unix_sock_dir.has_value());
    BOOST_TEST(!c.unix_sock_group.has_value());
    BOOST_TEST(c.unix_sock_ro_perms == 0777u);
    BOOST_TEST(c.unix_sock_rw_perms == 0700u);
    for (auto auth : {c.auth_unix_rw, c.auth_unix_ro, c.auth_tcp, c.auth_tls})
      BOOST_TEST(static_cast<int>(auth) == static_cast<int>(auth_method::none));
    BOOST_TEST(!c.key_file.has_value());
    BOOST_TEST(!c.cert_file.has_value());
    BOOST_TEST(!c.ca_file.has_value());
    BOOST_TEST(!c.crl_file.has_value());
    BOOST_TEST(!c.tls_no_verify_certificate);
    BOOST_TEST(!c.tls_no_sanity_certificate);
    BOOST_TEST(!c.tls_allowed_dn_list.has_value());
    BOOST_TEST(!c.tls_priority.has_value());
    BOOST_TEST(c.max_clients == 5000u);
    BOOST_TEST(c.max_queued_clients == 1000u);
    BOOST_TEST(c.max_anonymous_clients == 20u);
    BOOST_TEST(c.min_workers == 5u);
    BOOST_TEST(c.max_workers == 20u);
    BOOST_TEST(c.prio_workers == 5u);
    BOOST_TEST(c.max_requests == 20u);
    BOOST_TEST(c.max_client_requests == 5u);
    BOOST_TEST(c.keepalive_interval == 5);
    BOOST_TEST(c.keepalive_count == 5u);
    BOOST_TEST(c.log_level == 3u);
    BOOST_TEST(!c.log_filters.has_value());
    BOOST_TEST(!c.log_outputs.has_value());
    BOOST_TEST(!c.host_uuid.has_value());
    BOOST_TEST((c == daemon_config{}));
  }
}

BOOST_AUTO_TEST_CASE(every_key_is_read_into_its_field) {
  const std::string text = R"(# virtactord test configuration
listen_tcp = 1
listen_tls = 0
listen_addr = "192.168.0.1"
tcp_port = "16601"
tls_port = "16602"
unix_sock_dir = "/tmp/va-sock"
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0770"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
auth_tcp = "none"
auth_tls = "none"
key_file = "/pki/serverkey.pem"
cert_file = "/pki/servercert.pem"
ca_file = "/pki/cacert.pem"
crl_file = "/pki/cacrl.pem"
tls_no_verify_certificate = 1
tls_no_sanity_certificate = 1
tls_allowed_dn_list = ["C=GB,ST=London,L=London,O=Libvirt Project,CN=*", "CN=client2"]
tls_priority = "NORMAL:-VERS-SSL3.0"
max_clients = 100
max_queued_clients = 50
max_anonymous_clients = 10
min_workers = 2
max_workers = 8
prio_workers = 3
max_requests = 40
max_client_requests = 7
keepalive_interval = -1
keepalive_count = 9
log_level = 1
log_filters = "1:qemu 3:remote"
log_outputs = "3:syslog:virtactord 1:file:/tmp/va.log"
host_uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f"
)";
  auto c = parsed(text);
  BOOST_TEST(c.listen_tcp);
  BOOST_TEST(!c.listen_tls);
  BOOST_TEST(*c.listen_addr == "192.168.0.1");
  BOOST_TEST(c.tcp_port == 16601);
  BOOST_TEST(c.tls_port == 16602);
  BOOST_TEST(*c.unix_sock_dir == "/tmp/va-sock");
  BOOST_TEST(*c.unix_sock_group == "libvirt");
  BOOST_TEST(c.unix_sock_ro_perms == 0770u);
  BOOST_TEST(c.unix_sock_rw_perms == 0770u);
  BOOST_TEST(*c.key_file == "/pki/serverkey.pem");
  BOOST_TEST(*c.cert_file == "/pki/servercert.pem");
  BOOST_TEST(*c.ca_file == "/pki/cacert.pem");
  BOOST_TEST(*c.crl_file == "/pki/cacrl.pem");
  BOOST_TEST(c.tls_no_verify_certificate);
  BOOST_TEST(c.tls_no_sanity_certificate);
  BOOST_TEST((*c.tls_allowed_dn_list ==
              strings{"C=GB,ST=London,L=London,O=Libvirt Project,CN=*", "CN=client2"}));
  BOOST_TEST(*c.tls_priority == "NORMAL:-VERS-SSL3.0");
  BOOST_TEST(c.max_clients == 100u);
  BOOST_TEST(c.max_queued_clients == 50u);
  BOOST_TEST(c.max_anonymous_clients == 10u);
  BOOST_TEST(c.min_workers == 2u);
  BOOST_TEST(c.max_workers == 8u);
  BOOST_TEST(c.prio_workers == 3u);
  BOOST_TEST(c.max_requests == 40u);
  BOOST_TEST(c.max_client_requests == 7u);
  BOOST_TEST(c.keepalive_interval == -1);
  BOOST_TEST(c.keepalive_count == 9u);
  BOOST_TEST(c.log_level == 1u);
  BOOST_TEST(*c.log_filters == "1:qemu 3:remote");
  BOOST_TEST(*c.log_outputs == "3:syslog:virtactord 1:file:/tmp/va.log");
  BOOST_TEST(*c.host_uuid == "6695eb01-f6a4-8304-79aa-97f2502e193f");
}

BOOST_AUTO_TEST_CASE(the_syntax_reads_strings_integers_lists_and_comments) {
  struct row {
    std::string text;
    conf_value::kind type;
    std::string str;
    uint64_t number;
    bool negative;
    strings items;
  };
  using k = conf_value::kind;
  const row rows[] = {
    {R"(x = "double")", k::string, "double", 0, false, {}},
    {R"(x = 'single')", k::string, "single", 0, false, {}},
    {R"(x = 'has "double" inside')", k::string, "has \"double\" inside", 0, false, {}},
    {R"(x = "has 'single' inside")", k::string, "has 'single' inside", 0, false, {}},
    {R"(x = "a # is no comment")", k::string, "a # is no comment", 0, false, {}},
    {R"(x = "back\slash\n")", k::string, "back\\slash\\n", 0, false, {}},
    {R"(x = "")", k::string, "", 0, false, {}},
    {"x = \"\"\"multi\nline \"quoted\"\n\"\"\"", k::string, "multi\nline \"quoted\"\n", 0, false,
     {}},
    {"x = 42", k::integer, "", 42, false, {}},
    {"x = +42", k::integer, "", 42, false, {}},
    {"x = -42", k::integer, "", 42, true, {}},
    {"x = -0", k::integer, "", 0, true, {}},
    {"x = 007", k::integer, "", 7, false, {}},
    {"x = 18446744073709551615", k::integer, "", 18446744073709551615ull, false, {}},
    {"x=1", k::integer, "", 1, false, {}},
    {"\t x\t=\t1\t", k::integer, "", 1, false, {}},
    {"x = 1 # trailing comment", k::integer, "", 1, false, {}},
    {"x = 1;", k::integer, "", 1, false, {}},
    {"x = 1\r\n", k::integer, "", 1, false, {}},
    {R"(x = [ "a", "b" ])", k::list, "", 0, false, {"a", "b"}},
    {R"(x = ["a","b",])", k::list, "", 0, false, {"a", "b"}},
    {"x = []", k::list, "", 0, false, {}},
    {"x = [\n]", k::list, "", 0, false, {}},
    {"x = [\n  \"a\",\n  'b'\n]", k::list, "", 0, false, {"a", "b"}},
    {"x = [ \"a\"\n  , \"b\" ]", k::list, "", 0, false, {"a", "b"}},
    {"x = [\r\n \"a\",\r\n \"b\",\r\n]\r\n", k::list, "", 0, false, {"a", "b"}},
    // Our extension: comments inside a list (libvirtd refuses them).
    {"x = [ \"a\", # first\n  # between\n  \"b\" # last\n]", k::list, "", 0, false, {"a", "b"}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.text) {
      auto entries = parse_conf(r.text);
      BOOST_TEST_REQUIRE(entries.ok(), (entries.ok() ? "" : entries.error().message));
      BOOST_TEST_REQUIRE(entries->size() == 1u);
      const auto& e = entries->front();
      BOOST_TEST(e.name == "x");
      BOOST_TEST(e.line == 1);
      BOOST_TEST(static_cast<int>(e.value.type) == static_cast<int>(r.type));
      BOOST_TEST(e.value.text == r.str);
      BOOST_TEST(e.value.number == r.number);
      BOOST_TEST(e.value.negative == r.negative);
      strings items;
      for (const auto& item : e.value.items)
        items.push_back(item.text);
      BOOST_TEST((items == r.items));
    }
  }
}

BOOST_AUTO_TEST_CASE(statements_keep_their_order_and_line_numbers) {
  const std::string text = "# header\n"
                           "a = 1; b = \"two\"\n"
                           "\n"
                           "c = [\n"
                           "  \"x\",\n"
                           "  \"y\"]\n"
                           "d = \"\"\"one\n"
                           "two\"\"\"\n"
                           "e_2 = 'last'";
  auto entries = parse_conf(text);
  BOOST_TEST_REQUIRE(entries.ok(), (entries.ok() ? "" : entries.error().message));
  strings names;
  std::vector<int> lines;
  for (const auto& e : *entries) {
    names.push_back(e.name);
    lines.push_back(e.line);
  }
  BOOST_TEST((names == strings{"a", "b", "c", "d", "e_2"}));
  BOOST_TEST((lines == std::vector<int>{2, 2, 4, 7, 9}));
  const auto& list = (*entries)[2].value;
  BOOST_TEST(list.line == 4);
  BOOST_TEST(list.items.at(0).line == 5);
  BOOST_TEST(list.items.at(1).line == 6);
  BOOST_TEST((*entries)[3].value.text == "one\ntwo");
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_line_and_the_problem) {
  const failure_row rows[] = {
    {"listen_tcp = yes", "config line 1: expected a value for 'listen_tcp': booleans are written "
                         "0 or 1"},
    {"a = 1\nlisten_tcp = true", "config line 2: expected a value for 'listen_tcp': booleans "
                                 "are written 0 or 1"},
    {"x = bare", "config line 1: expected a value for 'x' (a quoted string, an integer or a "
                 "list)"},
    {"x = ", "config line 1: expected a value for 'x'"},
    {"x =\ny = 1", "config line 1: expected a value for 'x'"},
    {"listen_tcp = 1 junk", "config line 1: unexpected text after the value of 'listen_tcp'"},
    {"x = 12abc", "config line 1: unexpected text after the value of 'x'"},
    {"x = \"a\" \"b\"", "config line 1: unexpected text after the value of 'x'"},
    {"\n\nlisten_addr = \"unterminated\n", "config line 3: unterminated string for "
                                             "'listen_addr'"},
    {"x = 'unterminated", "config line 1: unterminated string for 'x'"},
    {"x = 'mixed\"", "config line 1: unterminated string for 'x'"},
    {"a = 1\nx = \"\"\"never\nclosed\n", "config line 2: unterminated string for 'x'"},
    {"1abc = 2", "config line 1: expected a key name, found '1'"},
    {"a = 1\n_x = 2", "config line 2: expected a key name, found '_'"},
    {"abc 2", "config line 1: expected '=' after 'abc'"},
    {"abc", "config line 1: expected '=' after 'abc'"},
    {"a-b = 2", "config line 1: expected '=' after 'a'"},
    {"x = [ \"a\" \"b\" ]", "config line 1: expected ',' or ']' in the list for 'x'"},
    {"x = [ \"a\",\n", "config line 1: the list for 'x' is not closed with ']'"},
    {"x = [ \"a\"\n\n", "config line 1: the list for 'x' is not closed with ']'"},
    {"x = [ , ]", "config line 1: expected a value for 'x' (a quoted string, an integer or a "
                  "list)"},
    {"x = -", "config line 1: expected digits in the number for 'x'"},
    {"x = +y", "config line 1: expected digits in the number for 'x'"},
    {"x = 18446744073709551616", "config line 1: the number for 'x' is too large"},
    {"max_clients = 1 max_workers = 2", "config line 1: unexpected text after the value of "
                                        "'max_clients'"},
  };
  for (const auto& r : rows)
    check_failure(r);
}

BOOST_AUTO_TEST_CASE(values_of_the_wrong_type_or_range_are_refused_with_their_line) {
  const failure_row rows[] = {
    {"# c\n\n\n\n\n\ntcp_port = \"sixteen\"", "config line 7: expected an integer for 'tcp_port'"},
    {"tcp_port = [ \"1\" ]", "config line 1: expected an integer for 'tcp_port'"},
    {"tcp_port = \"\"", "config line 1: expected an integer for 'tcp_port'"},
    {"tls_port = \"-1\"", "config line 1: expected an integer for 'tls_port'"},
    {"tls_port = \"65536\"", "config line 1: 'tls_port' must be between 0 and 65535"},
    {"tcp_port = 70000", "config line 1: 'tcp_port' must be between 0 and 65535"},
    {"tcp_port = -1", "config line 1: expected a non-negative integer for 'tcp_port'"},
    {"listen_tcp = \"x\"", "config line 1: expected 0 or 1 for 'listen_tcp'"},
    {"listen_tcp = 2", "config line 1: expected 0 or 1 for 'listen_tcp'"},
    {"listen_tcp = -0", "config line 1: expected 0 or 1 for 'listen_tcp'"},
    {"listen_tls = [ 1 ]", "config line 1: expected 0 or 1 for 'listen_tls'"},
    {"tls_no_verify_certificate = 7", "config line 1: expected 0 or 1 for "
                                      "'tls_no_verify_certificate'"},
    {"max_clients = -1", "config line 1: expected a non-negative integer for 'max_clients'"},
    {"max_clients = 4294967296", "config line 1: 'max_clients' must be between 0 and "
                                 "4294967295"},
    {"max_clients = \"5\"", "config line 1: expected an integer for 'max_clients'"},
    {"keepalive_interval = \"5\"", "config line 1: expected an integer for 'keepalive_interval'"},
    {"keepalive_interval = 2147483648", "config line 1: 'keepalive_interval' must be between "
                                        "-2147483648 and 2147483647"},
    {"keepalive_interval = -2147483649", "config line 1: 'keepalive_interval' must be between "
                                         "-2147483648 and 2147483647"},
    {"keepalive_count = -5", "config line 1: expected a non-negative integer for "
                             "'keepalive_count'"},
    {"max_workers = 0", "config line 1: 'max_workers' must be greater than 0"},
    {"listen_addr = 1", "config line 1: expected a quoted string for 'listen_addr'"},
    {"ca_file = [ \"/a\" ]", "config line 1: expected a quoted string for 'ca_file'"},
    {"tls_allowed_dn_list = \"CN=a\"", "config line 1: expected a list of quoted strings for "
                                       "'tls_allowed_dn_list'"},
    {"tls_allowed_dn_list = [\n  \"CN=a\",\n  3\n]", "config line 3: expected a list of quoted "
                                                     "strings for 'tls_allowed_dn_list'"},
    {"tls_allowed_dn_list = [ [ \"CN=a\" ] ]", "config line 1: expected a list of quoted "
                                               "strings for 'tls_allowed_dn_list'"},
    {"unix_sock_rw_perms = 0777", "config line 1: expected an octal mode in quotes, such as "
                                  "\"0770\", for 'unix_sock_rw_perms'"},
    {"unix_sock_ro_perms = \"0789\"", "config line 1: expected an octal mode in quotes, such as "
                                      "\"0770\", for 'unix_sock_ro_perms'"},
    {"unix_sock_ro_perms = \"\"", "config line 1: expected an octal mode in quotes, such as "
                                  "\"0770\", for 'unix_sock_ro_perms'"},
    {"unix_sock_ro_perms = \"017777\"", "config line 1: expected an octal mode in quotes, such "
                                        "as \"0770\", for 'unix_sock_ro_perms'"},
    {"unix_sock_ro_perms = \"rwx\"", "config line 1: expected an octal mode in quotes, such as "
                                     "\"0770\", for 'unix_sock_ro_perms'"},
    {"log_level = 5", "config line 1: 'log_level' must be 1 (debug), 2 (info), 3 (warning), 4 "
                      "(error) or 0 (keep the default)"},
    {"log_level = \"1\"", "config line 1: expected an integer for 'log_level'"},
    {"host_uuid = \"not-a-uuid\"", "config line 1: invalid UUID \"not-a-uuid\" for 'host_uuid': "
                                   "expected the form 01234567-89ab-cdef-0123-456789abcdef"},
    {"host_uuid = \"6695eb01-f6a4-8304-79aa-97f2502e193\"",
     "config line 1: invalid UUID \"6695eb01-f6a4-8304-79aa-97f2502e193\" for 'host_uuid': "
     "expected the form 01234567-89ab-cdef-0123-456789abcdef"},
    {"host_uuid = \"6695eb01f-6a4-8304-79aa-97f2502e193f\"",
     "config line 1: invalid UUID \"6695eb01f-6a4-8304-79aa-97f2502e193f\" for 'host_uuid': "
     "expected the form 01234567-89ab-cdef-0123-456789abcdef"},
    {"host_uuid = \"00000000-0000-0000-0000-000000000000\"",
     "config line 1: invalid UUID \"00000000-0000-0000-0000-000000000000\" for 'host_uuid': all "
     "its bytes are equal"},
    {"host_uuid = \"ffffffffffffffffffffffffffffffff\"",
     "config line 1: invalid UUID \"ffffffffffffffffffffffffffffffff\" for 'host_uuid': all its "
     "bytes are equal"},
    {"host_uuid = 5", "config line 1: expected a quoted string for 'host_uuid'"},
  };
  for (const auto& r : rows)
    check_failure(r);
}

BOOST_AUTO_TEST_CASE(none_and_sasl_auth_are_accepted_polkit_is_refused_clearly) {
  const failure_row rows[] = {
    {"\nauth_unix_rw = \"polkit\"",
     "config line 2: auth \"polkit\" for 'auth_unix_rw' is not supported: virtactord has no "
     "polkit; use \"none\" or \"sasl\"",
     error_code::config_unsupported},
    {"auth_tls = \"bogus\"",
     "config line 1: unknown auth \"bogus\" for 'auth_tls' (libvirt knows none, sasl and "
     "polkit; virtactord supports none and sasl)",
     error_code::config_unsupported},
    {"auth_unix_ro = \"None\"",
     "config line 1: unknown auth \"None\" for 'auth_unix_ro' (libvirt knows none, sasl and "
     "polkit; virtactord supports none and sasl)",
     error_code::config_unsupported},
    {"auth_unix_ro = 0", "config line 1: expected a quoted string for 'auth_unix_ro'"},
  };
  for (const auto& r : rows)
    check_failure(r);
  auto c = parsed("auth_unix_rw = 'none'\nauth_tls = \"none\"\nauth_tcp = \"sasl\"");
  BOOST_TEST(static_cast<int>(c.auth_tls) == static_cast<int>(auth_method::none));
  BOOST_TEST(static_cast<int>(c.auth_tcp) == static_cast<int>(auth_method::sasl));
  BOOST_TEST(static_cast<int>(c.auth_unix_ro) == static_cast<int>(auth_method::none));
  BOOST_TEST(to_string(auth_method::none) == "none");
  BOOST_TEST(to_string(auth_method::sasl) == "sasl");
  BOOST_TEST(to_string(auth_method::polkit) == "polkit");
}

BOOST_AUTO_TEST_CASE(security_keys_take_their_values_and_refuse_bad_ones) {
  auto c = parsed("sasl_allowed_username_list = [\"joe@EXAMPLE.COM\", \"fred*\"]\n"
                  "tcp_min_ssf = 112\n"
                  "max_client_pending_calls = 10\n"
                  "max_client_pending_bytes = 65536\n"
                  "max_client_unsent_bytes = 4096\n"
                  "max_client_unsent_bytes_hard = 40000000\n"
                  "allow_test_driver_files = 1\n"
                  "max_test_driver_file_size = 1000\n"
                  "max_xml_size = 2000\n"
                  "max_xml_depth = 32\n"
                  "max_error_length = 100\n");
  BOOST_TEST((*c.sasl_allowed_username_list == strings{"joe@EXAMPLE.COM", "fred*"}));
  BOOST_TEST(c.tcp_min_ssf == 112u);
  BOOST_TEST(c.max_client_pending_calls == 10u);
  BOOST_TEST(c.max_client_pending_bytes == 65536u);
  BOOST_TEST(c.max_client_unsent_bytes == 4096u);
  BOOST_TEST(c.max_client_unsent_bytes_hard == 40000000u);
  BOOST_TEST(c.allow_test_driver_files);
  BOOST_TEST(c.max_test_driver_file_size == 1000u);
  BOOST_TEST(c.max_xml_size == 2000u);
  BOOST_TEST(c.max_xml_depth == 32u);
  BOOST_TEST(c.max_error_length == 100u);
  auto d = parsed("");
  BOOST_TEST(!d.sasl_allowed_username_list);
  BOOST_TEST(d.tcp_min_ssf == 56u);
  BOOST_TEST(!d.allow_test_driver_files);
  BOOST_TEST(d.max_xml_depth == 256u);
  const failure_row rows[] = {
    {"tcp_min_ssf = 40", "config line 1: minimum SSF levels lower than 56 are not supported"},
    {"max_client_pending_calls = 0",
     "config line 1: 'max_client_pending_calls' must be between 1 and 4294967295"},
    {"max_client_unsent_bytes_hard = 1048576",
     "config line 1: 'max_client_unsent_bytes_hard' must be at least 33554436 (one message of "
     "libvirt's largest size)"},
    {"allow_test_driver_files = 2", "config line 1: expected 0 or 1 for 'allow_test_driver_files'"},
    {"sasl_allowed_username_list = \"joe\"",
     "config line 1: expected a list of quoted strings for 'sasl_allowed_username_list'"},
  };
  for (const auto& r : rows)
    check_failure(r);
}

BOOST_AUTO_TEST_CASE(qemu_account_keys_take_names_numbers_and_ownership) {
  auto d = parsed("");
  BOOST_TEST(!d.qemu_user);
  BOOST_TEST(!d.qemu_group);
  BOOST_TEST(d.qemu_dynamic_ownership);
  auto c = parsed("qemu_user = \"libvirt-qemu\"\n"
                  "qemu_group = \"+64055\"\n"
                  "qemu_dynamic_ownership = 0\n");
  BOOST_TEST(*c.qemu_user == "libvirt-qemu");
  BOOST_TEST(*c.qemu_group == "+64055");
  BOOST_TEST(!c.qemu_dynamic_ownership);
  check_failure({"qemu_dynamic_ownership = 2",
                 "config line 1: expected 0 or 1 for 'qemu_dynamic_ownership'"});
  check_failure({"qemu_user = 5", "config line 1: expected a quoted string for 'qemu_user'"});
}

BOOST_AUTO_TEST_CASE(ports_and_socket_modes_accept_the_forms_libvirtd_writes) {
  struct row {
    std::string text;
    uint16_t tcp_port;
  };
  for (const auto& r : std::vector<row>{{"tcp_port = \"16509\"", 16509},
                                        {"tcp_port = '1'", 1},
                                        {"tcp_port = \"0\"", 0},
                                        {"tcp_port = \"65535\"", 65535},
                                        {"tcp_port = 16601", 16601},
                                        {"tcp_port = 0", 0}}) {
    BOOST_TEST_CONTEXT(r.text) {
      BOOST_TEST(parsed(r.text).tcp_port == r.tcp_port);
    }
  }
  struct perm_row {
    std::string value;
    uint32_t mode;
  };
  for (const auto& r : std::vector<perm_row>{{"0777", 0777},
                                             {"0700", 0700},
                                             {"777", 0777},
                                             {"0", 0},
                                             {"04755", 04755},
                                             {"07777", 07777}}) {
    BOOST_TEST_CONTEXT(r.value) {
      auto c = parsed("unix_sock_ro_perms = \"" + r.value + "\"\nunix_sock_rw_perms = '" +
                      r.value + "'");
      BOOST_TEST(c.unix_sock_ro_perms == r.mode);
      BOOST_TEST(c.unix_sock_rw_perms == r.mode);
    }
  }
}

BOOST_AUTO_TEST_CASE(log_level_zero_keeps_the_default_and_other_levels_apply) {
  BOOST_TEST(parsed("log_level = 0").log_level == 3u);
  for (uint32_t level = 1; level <= 4; ++level)
    BOOST_TEST(parsed("log_level = " + std::to_string(level)).log_level == level);
}

BOOST_AUTO_TEST_CASE(an_empty_dn_list_lets_nobody_in_while_an_absent_one_skips_the_check) {
  BOOST_TEST(!parsed("").tls_allowed_dn_list.has_value());
  auto empty = parsed("tls_allowed_dn_list = []");
  BOOST_TEST_REQUIRE(empty.tls_allowed_dn_list.has_value());
  BOOST_TEST(empty.tls_allowed_dn_list->empty());
}

BOOST_AUTO_TEST_CASE(host_uuids_are_accepted_grouped_or_plain) {
  for (const std::string uuid : {"6695eb01-f6a4-8304-79aa-97f2502e193f",
                                 "6695EB01-F6A4-8304-79AA-97F2502E193F",
                                 "6695eb01f6a4830479aa97f2502e193f"}) {
    BOOST_TEST_CONTEXT(uuid) {
      BOOST_TEST(*parsed("host_uuid = \"" + uuid + "\"").host_uuid == uuid);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_and_unsupported_keys_warn_with_their_line_and_are_ignored) {
  strings warnings;
  auto c = parsed("listen_tcp = 1\n"
                  "frobnicate = \"yes please\"\n"
                  "audit_level = 2\n"
                  "tls_no_verify_address = [ 1, 'mixed' ]\n"
                  "admin_max_clients = 5\n"
                  "admin_keepalive_interval = \"not even checked\"\n"
                  "unix_sock_admin_perms = \"0700\"\n"
                  "host_uuid_source = \"smbios\"\n",
                  &warnings);
  BOOST_TEST(c.listen_tcp);
  BOOST_TEST((warnings == strings{
                            "config line 2: unknown key 'frobnicate' ignored",
                            "config line 3: 'audit_level' is not supported by virtactord; ignored",
                            "config line 4: unknown key 'tls_no_verify_address' ignored",
                            "config line 8: 'host_uuid_source' is not supported by "
                            "virtactord; ignored",
                          }));
}

BOOST_AUTO_TEST_CASE(the_first_setting_of_a_key_wins_as_in_libvirtd) {
  strings warnings;
  // libvirtd 9.0 reads listen_tcp = 1 here and never looks at the "x".
  auto c = parsed("listen_tcp = 1\nmax_clients = 7\nlisten_tcp = \"x\"\nmax_clients = 9\n",
                  &warnings);
  BOOST_TEST(c.listen_tcp);
  BOOST_TEST(c.max_clients == 7u);
  BOOST_TEST((warnings ==
              strings{"config line 3: 'listen_tcp' is set again; the setting on line 1 applies "
                      "(the first wins, as in libvirtd)",
                      "config line 4: 'max_clients' is set again; the setting on line 2 applies "
                      "(the first wins, as in libvirtd)"}));
}

BOOST_AUTO_TEST_CASE(load_config_reads_a_file_and_prefixes_messages_with_its_path) {
  temp_dir dir;
  auto good = dir.write("good.conf", "listen_tcp = 1\ntcp_port = \"16601\"\nbogus = 1\n");
  strings warnings;
  auto c = load_config(good, warnings);
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->listen_tcp);
  BOOST_TEST(c->tcp_port == 16601);
  BOOST_TEST((warnings == strings{good + ": config line 3: unknown key 'bogus' ignored"}));

  auto bad = dir.write("bad.conf", "listen_tcp = 1\n\nmax_workers = 0\n");
  warnings.clear();
  auto b = load_config(bad, warnings);
  BOOST_TEST_REQUIRE(!b.ok());
  BOOST_TEST(b.error().message == bad + ": config line 3: 'max_workers' must be greater than 0");
  BOOST_TEST(static_cast<int>(b.error().domain) == static_cast<int>(error_domain::conf));

  auto empty = dir.write("empty.conf", "");
  BOOST_TEST((*load_config(empty, warnings) == daemon_config{}));
}

BOOST_AUTO_TEST_CASE(load_config_refuses_missing_and_unreadable_files_clearly) {
  temp_dir dir;
  strings warnings;
  auto missing = (dir.path / "missing.conf").string();
  auto m = load_config(missing, warnings);
  BOOST_TEST_REQUIRE(!m.ok());
  BOOST_TEST(m.error().message ==
             "Failed to open file '" + missing + "': No such file or directory");
  BOOST_TEST(static_cast<int>(m.error().code) == static_cast<int>(error_code::system_error));

  auto d = load_config(dir.path.string(), warnings);
  BOOST_TEST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().message == "Failed to read file '" + dir.path.string() +
                                    "': Is a directory");
  BOOST_TEST(static_cast<int>(d.error().code) == static_cast<int>(error_code::system_error));

  auto big = dir.write("big.conf", std::string(10 * 1024 * 1024 + 1, '\n'));
  auto b = load_config(big, warnings);
  BOOST_TEST_REQUIRE(!b.ok());
  BOOST_TEST(b.error().message == "Failed to read file '" + big + "': larger than 10 MiB");
  BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(arbitrary_bytes_never_crash_the_parser) {
  // Every prefix of a file with every construct, and some binary noise: each
  // either parses or fails with a line number, never anything else.
  const std::string text = "a = [ \"x\", 'y', # c\n 3, -4, +5 ]\nb = \"\"\"m\nl\"\"\"; c = 'd'\n";
  std::vector<std::string> inputs;
  for (size_t n = 0; n <= text.size(); ++n)
    inputs.push_back(text.substr(0, n));
  inputs.push_back(std::string("\0\xff\x01 = [", 7));
  inputs.push_back(std::string(1000, '['));
  inputs.push_back("x = " + std::string(5000, '[') + std::string(5000, ']'));
  for (const auto& input : inputs) {
    strings warnings;
    auto c = parse_config(input, warnings);
    if (!c.ok())
      BOOST_TEST(c.error().message.starts_with("config line "), c.error().message);
  }
  check_failure({"x = " + std::string(5000, '[') + std::string(5000, ']'),
                 "config line 1: lists nest too deeply for 'x'"});
  auto nested = parse_conf("x = " + std::string(32, '[') + std::string(32, ']'));
  BOOST_TEST(nested.ok());
}
