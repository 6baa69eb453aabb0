/// Unit tests of the shell's pieces that need no connection: tokenizing,
/// option parsing, help text, tables, numbers, and the comparison case file.
#define BOOST_TEST_MODULE shell_core
#include <boost/test/unit_test.hpp>

#include <clocale>
#include <cstdio>
#include <string>

#include "client/shell/command.hpp"
#include "client/shell/help.hpp"
#include "client/shell/lexer.hpp"
#include "client/shell/table.hpp"
#include "client/shell/units.hpp"
#include "tests/shell/case_file.hpp"

using namespace virtactor::client::shell;

namespace {

/// A console writing into memory.
struct captured {
  std::FILE* out_file = std::tmpfile();
  std::FILE* err_file = std::tmpfile();
  console con{out_file, err_file};

  ~captured() {
    std::fclose(out_file);
    std::fclose(err_file);
  }

  static std::string read(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
      s.append(buf, n);
    return s;
  }
  std::string out() { return read(out_file); }
  std::string err() { return read(err_file); }
};

bool noop(shell&, const parsed_command&) {
  return true;
}

command_table test_table() {
  return command_table{{
      {"Test",
       "test",
       {
           {"dominfo",
            "domain information",
            "Returns basic information about the domain.",
            {{"domain", opt_type::data, opt_required, "domain name, id or uuid"}},
            noop},
           {"setmem",
            "change memory allocation",
            "",
            {{"domain", opt_type::data, opt_required, "domain name, id or uuid"},
             {"size", opt_type::integer, opt_required, "new memory size"},
             {"config", opt_type::boolean, 0, "affect next boot"}},
            noop},
           {"dumpxml",
            "domain information in XML",
            "",
            {{"domain", opt_type::data, opt_required, "domain name, id or uuid"},
             {"xpath", opt_type::string, opt_named_only, "xpath expression"},
             {"mode", opt_type::string, 0, "a mode"}},
            noop},
           {"echo",
            "echo arguments",
            "",
            {{"str", opt_type::alias, 0, "string"},
             {"hi", opt_type::alias, 0, "string=hello"},
             {"string", opt_type::argv, 0, "arguments to echo"}},
            noop},
           {"help", "print help", "", {{"command", opt_type::string, 0, "command"}}, noop},
       }},
  }};
}

std::vector<std::string> words(const std::string& line, captured& cap) {
  string_tokens t{line};
  std::vector<std::string> out;
  for (;;) {
    auto tk = t.next(cap.con);
    if (tk.kind == token_kind::arg)
      out.push_back(tk.text);
    else if (tk.kind == token_kind::command_end)
      out.push_back(";");
    else if (tk.kind == token_kind::error)
      return {"<error>"};
    else
      return out;
  }
}

std::optional<std::vector<parsed_command>> parse(const command_table& table,
                                                 const std::string& line, captured& cap) {
  string_tokens t{line};
  return parse_commands(table, t, cap.con);
}

} // namespace

BOOST_AUTO_TEST_CASE(quotes_and_backslashes_group_words_as_in_sh) {
  captured cap;
  auto w = words(R"(echo a 'b c' "d\"e" f\ g 'x\y')", cap);
  std::vector<std::string> expected{"echo", "a", "b c", "d\"e", "f g", "x\\y"};
  BOOST_TEST(w == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(semicolons_newlines_and_comments_end_commands) {
  captured cap;
  auto w = words("uri;hostname\nlist # gone; still gone\nnext", cap);
  std::vector<std::string> expected{"uri", ";", "hostname", ";", "list", ";", "next"};
  BOOST_TEST(w == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unclosed_double_quote_is_an_error_but_a_single_quote_is_not) {
  captured cap;
  BOOST_TEST(words("echo \"abc", cap) == std::vector<std::string>{"<error>"});
  BOOST_TEST(cap.err() == "error: missing \"\n");
  captured cap2;
  BOOST_TEST(words("echo 'abc", cap2) == (std::vector<std::string>{"echo", "abc"}));
}

BOOST_AUTO_TEST_CASE(a_trailing_backslash_is_dangling) {
  captured cap;
  BOOST_TEST(words("echo a\\", cap) == std::vector<std::string>{"<error>"});
  BOOST_TEST(cap.err() == "error: dangling \\\n");
}

BOOST_AUTO_TEST_CASE(positional_data_fills_required_options_in_order) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "setmem demo 1G --config", cap);
  BOOST_REQUIRE(cmds);
  BOOST_REQUIRE_EQUAL(cmds->size(), 1u);
  const auto& c = cmds->front();
  BOOST_TEST(c.find("domain")->data == "demo");
  BOOST_TEST(c.find("size")->data == "1G");
  BOOST_TEST(c.has("config"));
}

BOOST_AUTO_TEST_CASE(an_option_value_may_follow_an_equals_sign) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "dumpxml --domain=demo --xpath=/a", cap);
  BOOST_REQUIRE(cmds);
  BOOST_TEST(cmds->front().find("xpath")->data == "/a");
}

BOOST_AUTO_TEST_CASE(a_named_only_option_takes_no_positional_data) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "dumpxml demo acpi /a", cap);
  BOOST_TEST(!cmds);
  BOOST_TEST(cap.err() == "error: unexpected data '/a'\n");
}

BOOST_AUTO_TEST_CASE(unknown_options_and_commands_are_reported_as_virsh_does) {
  auto table = test_table();
  captured a;
  BOOST_TEST(!parse(table, "dominfo --bogus demo", a));
  BOOST_TEST(a.err() == "error: command 'dominfo' doesn't support option --bogus\n");
  captured b;
  BOOST_TEST(!parse(table, "dominfo demo; nosuch", b));
  BOOST_TEST(b.err() == "error: unknown command: 'nosuch'\n");
  captured c;
  BOOST_TEST(!parse(table, "dominfo", c));
  BOOST_TEST(c.err() == "error: command 'dominfo' requires <domain> option\n");
  captured d;
  BOOST_TEST(!parse(table, "dominfo --domain", d));
  BOOST_TEST(d.err() == "error: expected syntax: --domain <string>\n");
  captured e;
  BOOST_TEST(!parse(table, "dominfo demo --domain x", e));
  BOOST_TEST(e.err() == "error: option --domain already seen\n");
  captured f;
  BOOST_TEST(!parse(table, "setmem demo 1 --config=yes", f));
  BOOST_TEST(f.err() == "error: invalid '=' after option --config\n");
}

BOOST_AUTO_TEST_CASE(a_double_dash_makes_the_rest_data) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "dominfo -- --odd", cap);
  BOOST_REQUIRE(cmds);
  BOOST_TEST(cmds->front().find("domain")->data == "--odd");
}

BOOST_AUTO_TEST_CASE(aliases_rename_options_and_may_carry_a_value) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "echo --str a --hi b", cap);
  BOOST_REQUIRE(cmds);
  BOOST_TEST(cmds->front().argv() == (std::vector<std::string>{"a", "hello", "b"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(help_as_an_option_turns_the_command_into_help_for_it) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "setmem --help", cap);
  BOOST_REQUIRE(cmds);
  BOOST_TEST(cmds->front().def->name == "help");
  BOOST_TEST(cmds->front().find("command")->data == "setmem");
}

BOOST_AUTO_TEST_CASE(command_help_lists_synopsis_and_options_in_virsh_layout) {
  captured cap;
  auto table = test_table();
  print_command_help(cap.con, *table.find("setmem"));
  BOOST_TEST(cap.out() == "  NAME\n"
                          "    setmem - change memory allocation\n"
                          "\n"
                          "  SYNOPSIS\n"
                          "    setmem <domain> <size> [--config]\n"
                          "\n"
                          "  OPTIONS\n"
                          "    [--domain] <string>  domain name, id or uuid\n"
                          "    [--size] <number>  new memory size\n"
                          "    --config         affect next boot\n"
                          "\n");
}

BOOST_AUTO_TEST_CASE(string_options_report_empty_values) {
  captured cap;
  auto table = test_table();
  auto cmds = parse(table, "dominfo ''", cap);
  BOOST_REQUIRE(cmds);
  std::optional<std::string> v;
  BOOST_TEST(opt_string_req(cap.con, cmds->front(), "domain", v) == -1);
  BOOST_TEST(cap.err() == "error: Failed to get option 'domain': Option argument is empty\n");
}

BOOST_AUTO_TEST_CASE(scaled_sizes_accept_binary_and_decimal_suffixes) {
  auto scaled = [](unsigned long long v, const char* suffix, unsigned long long scale) {
    auto err = scale_integer(v, suffix, scale, ~0ULL);
    return err ? 0ULL : v;
  };
  BOOST_TEST(scaled(1, "", 1024) == 1024ULL);
  BOOST_TEST(scaled(1, "k", 1) == 1024ULL);
  BOOST_TEST(scaled(1, "KiB", 1) == 1024ULL);
  BOOST_TEST(scaled(1, "kB", 1) == 1000ULL);
  BOOST_TEST(scaled(2, "G", 1) == 2147483648ULL);
  BOOST_TEST(scaled(3, "bytes", 1024) == 3ULL);
  unsigned long long v = 1;
  auto err = scale_integer(v, "x", 1, ~0ULL);
  BOOST_REQUIRE(err);
  BOOST_TEST(err->message == "invalid argument: unknown suffix 'x'");
  v = 18014398509481984ULL;
  err = scale_integer(v, "", 1024, ~0ULL);
  BOOST_REQUIRE(err);
  BOOST_TEST(err->message == "numerical overflow: value too large: 18014398509481984");
}

BOOST_AUTO_TEST_CASE(integers_follow_libvirts_strict_rules) {
  int i = 0;
  BOOST_TEST(parse_int(" 12", i));
  BOOST_TEST(i == 12);
  BOOST_TEST(!parse_int("12 ", i));
  BOOST_TEST(!parse_int("", i));
  BOOST_TEST(!parse_int("99999999999", i));
  unsigned u = 0;
  BOOST_TEST(!parse_uint("-1", u, false));
  BOOST_TEST(parse_uint("-1", u, true));
  BOOST_TEST(u == 4294967295u);
}

BOOST_AUTO_TEST_CASE(capacities_print_in_the_largest_binary_unit) {
  BOOST_TEST(format_capacity(0) == "0.00 B");
  BOOST_TEST(format_capacity(1023) == "1023.00 B");
  BOOST_TEST(format_capacity(1024) == "1.00 KiB");
  BOOST_TEST(format_capacity(107374182400ULL) == "100.00 GiB");
  BOOST_TEST(format_capacity(1536ULL * 1024 * 1024) == "1.50 GiB");
}

BOOST_AUTO_TEST_CASE(table_columns_are_as_wide_as_their_widest_cell) {
  table t{{"Id", "Name", "State"}};
  t.add_row({"1", "test", "running"});
  t.add_row({"-", "a-much-longer-name", "shut off"});
  BOOST_TEST(t.render(true) == " Id   Name                 State\n"
                               "-------------------------------------\n"
                               " 1    test                 running\n"
                               " -    a-much-longer-name   shut off\n");
  BOOST_TEST(t.render(false) == " 1   test                 running\n"
                                " -   a-much-longer-name   shut off\n");
}

BOOST_AUTO_TEST_CASE(table_cells_measure_wide_characters_in_a_utf8_locale) {
  if (std::setlocale(LC_ALL, "C.UTF-8") == nullptr)
    return; // no UTF-8 locale on this machine: nothing to measure
  size_t width = 0;
  BOOST_TEST(encode_cell("d\xc3\xa9mo", width) == "d\xc3\xa9mo");
  BOOST_TEST(width == 4u);
  BOOST_TEST(encode_cell("\xe6\xbc\xa2", width) == "\xe6\xbc\xa2");
  BOOST_TEST(width == 2u);
  BOOST_TEST(encode_cell("a\tb", width) == "a\\x09b");
  BOOST_TEST(width == 6u);
  std::setlocale(LC_ALL, "C");
}

BOOST_AUTO_TEST_CASE(the_case_file_parser_reads_cases_masks_and_escapes) {
  auto [list, error] =
      virtactor::tests::shell::parse_case_file("# comment\n"
                                               "mask-all: ^CPU time:.*$\n"
                                               "case: a define then a list shows the domain\n"
                                               "  arg: define demo.xml; list --all\n"
                                               "  arg-esc: a\\nb\n"
                                               "  env: LC_ALL=C\n"
                                               "  mask: [0-9]+\n");
  BOOST_TEST(error == "");
  BOOST_REQUIRE(list);
  BOOST_REQUIRE_EQUAL(list->cases.size(), 1u);
  const auto& c = list->cases.front();
  BOOST_TEST(c.args == (std::vector<std::string>{"define demo.xml; list --all", "a\nb"}),
             boost::test_tools::per_element());
  BOOST_TEST(c.env.front().first == "LC_ALL");
  BOOST_TEST(list->global_masks.size() == 1u);
  BOOST_TEST(virtactor::tests::shell::apply_masks("Id: 12\nCPU time: 3.4s\n",
                                                  {"[0-9]+", "^CPU time:.*$"}) ==
             "Id: <masked>\n<masked>\n");
}

BOOST_AUTO_TEST_CASE(the_case_file_parser_reads_same_uri_only_and_wants_a_reason) {
  auto [list, error] = virtactor::tests::shell::parse_case_file(
      "case: x\n  arg: uri\n  same-uri-only: a local driver's own\n");
  BOOST_TEST(error == "");
  BOOST_REQUIRE(list);
  BOOST_TEST(list->cases.front().same_uri_only == "a local driver's own");
  auto [none, why] =
      virtactor::tests::shell::parse_case_file("case: x\n  arg: uri\n  same-uri-only:\n");
  BOOST_TEST(!none);
  BOOST_TEST(why.find("line 3: same-uri-only needs a reason") == 0);
}

BOOST_AUTO_TEST_CASE(the_case_file_parser_rejects_unknown_keys_with_a_line_number) {
  auto [list, error] =
      virtactor::tests::shell::parse_case_file("case: x\n  arg: uri\n  bogus: 1\n");
  BOOST_TEST(!list);
  BOOST_TEST(error == "line 3: unknown key 'bogus'");
}
