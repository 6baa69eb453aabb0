// virtactord's command line and logging settings against libvirtd 9.0, the
// reference: the same invocations get the same messages and exit codes.
// libvirtd runs only with a private config (sockets in a temp dir, no
// network listeners, no driver modules, its own pid file) that also holds a
// fatal log setting, so it never gets as far as serving; each run has a
// deadline after which it is killed by its pid.
#define BOOST_TEST_MODULE daemon_options
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/interop/harness.hpp"

using namespace virtactor::interop;

namespace {

constexpr const char* libvirtd_path = "/usr/sbin/libvirtd";

bool have_libvirtd() {
  if (::access(libvirtd_path, X_OK) == 0)
    return true;
  BOOST_TEST_MESSAGE("libvirtd is not installed: comparison skipped");
  return false;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// Replaces every occurrence of `from` by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
  return s;
}

/// The first line of `text` that contains `part`, from `part` on.
std::string from(const std::string& text, const std::string& part) {
  auto i = text.find(part);
  if (i == std::string::npos)
    return "(no '" + part + "' in: " + text + ")";
  return text.substr(i, text.find('\n', i) - i);
}

/// Runs both daemons with `args` and a private config holding `settings`.
struct both {
  process_result libvirtd;
  process_result virtactord;
};

both run_both(const std::vector<std::string>& args, const std::string& settings,
              const std::vector<std::string>& env = {}) {
  temp_dir dir;
  auto conf = dir.file("daemon.conf");
  write_file(conf, "unix_sock_dir = \"" + dir.path() + "\"\nlisten_tcp = 0\nlisten_tls = 0\n" +
                     settings + "\n");
  ::mkdir(dir.file("no-drivers").c_str(), 0700);
  auto run = [&](const std::string& bin) {
    // Its own pid file first, so that the arguments under test come last.
    std::vector<std::string> argv{
      bin, "--pid-file", dir.file(bin == libvirtd_path ? "libvirtd.pid" : "virtactord.pid")};
    for (auto& a : args)
      argv.push_back(replace_all(a, "CONF", conf));
    auto e = env;
    e.push_back("LIBVIRT_DRIVER_DIR=" + dir.file("no-drivers"));
    auto r = run_process(argv, e, 30s);
    r.err = replace_all(r.err, bin, "DAEMON");
    return r;
  };
  return {run(libvirtd_path), run(virtactord_path())};
}

/// A setting that stops both daemons at start-up, should an option be taken.
const std::string stop_at_start = "log_outputs = \"9:nowhere\"";

} // namespace

BOOST_AUTO_TEST_CASE(option_errors_are_getopts_with_the_usage_and_exit_one) {
  if (!have_libvirtd())
    return;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-f", "CONF", "-Z"}, {"-f", "CONF", "--bogus"},
        {"-f", "CONF", "--pid-file"}, {"-f", "CONF", "-t"}, {"-fCONF", "-lvZ"},
        {"-f", "CONF", "-p"}}) {
    auto r = run_both(args, stop_at_start);
    std::string what = args.back();
    BOOST_TEST(r.virtactord.exit_code == 1, what);
    BOOST_TEST(r.libvirtd.exit_code == 1, what);
    auto first = [](const std::string& s) { return s.substr(0, s.find('\n')); };
    BOOST_TEST(first(r.virtactord.err) == first(r.libvirtd.err), what);
    BOOST_TEST(contains(r.virtactord.err, "\nUsage:\n  DAEMON [options]\n"), r.virtactord.err);
  }
}

BOOST_AUTO_TEST_CASE(an_operand_is_refused_as_libvirtd_refuses_it) {
  if (!have_libvirtd())
    return;
  auto r = run_both({"-f", "CONF", "extra"}, stop_at_start);
  BOOST_TEST(r.virtactord.exit_code == 1);
  BOOST_TEST(r.libvirtd.exit_code == 1);
  BOOST_TEST(r.virtactord.err == "DAEMON: unexpected, non-option, command line arguments\n");
  BOOST_TEST(r.virtactord.err == r.libvirtd.err);
}

BOOST_AUTO_TEST_CASE(a_bad_timeout_is_logged_as_an_error_and_exits_one) {
  if (!have_libvirtd())
    return;
  for (std::string t : {"abc", "-1", "--timeout=x"}) {
    auto r = run_both(t.rfind("--", 0) == 0 ? std::vector<std::string>{"-f", "CONF", t}
                                            : std::vector<std::string>{"-f", "CONF", "-t", t},
                      stop_at_start);
    BOOST_TEST(r.virtactord.exit_code == 1, t);
    BOOST_TEST(r.libvirtd.exit_code == 1, t);
    // libvirtd: "DATE TIME: TID: error : main:868 : Invalid value for timeout"
    BOOST_TEST(contains(r.libvirtd.err, ": error : "), r.libvirtd.err);
    BOOST_TEST(contains(r.virtactord.err, ": error : "), r.virtactord.err);
    BOOST_TEST(contains(r.libvirtd.err, " : Invalid value for timeout\n"), r.libvirtd.err);
    BOOST_TEST(contains(r.virtactord.err, " : Invalid value for timeout\n"), r.virtactord.err);
  }
}

BOOST_AUTO_TEST_CASE(short_options_combine_and_take_attached_values) {
  if (!have_libvirtd())
    return;
  // -lv and -fFILE are accepted by both: the config they name is read (its
  // log setting then stops start-up with the same message).
  for (std::vector<std::string> args : {std::vector<std::string>{"-lv", "-fCONF"},
                                        {"--config=CONF", "-vl"}, {"-vfCONF"}}) {
    auto r = run_both(args, stop_at_start);
    BOOST_TEST(r.virtactord.exit_code == 1, args[0]);
    BOOST_TEST(r.libvirtd.exit_code == 1, args[0]);
    BOOST_TEST(from(r.virtactord.err, "invalid argument:") ==
                 "invalid argument: Invalid log priority '9' for log output '9:nowhere'",
               r.virtactord.err);
  }
  auto v = run_both({"-lv", "--version"}, stop_at_start);
  BOOST_TEST(v.virtactord.exit_code == 0);
  BOOST_TEST(v.libvirtd.exit_code == 0);
}

BOOST_AUTO_TEST_CASE(bad_log_settings_get_libvirtds_messages) {
  if (!have_libvirtd())
    return;
  for (std::string setting :
       {"log_outputs = \"9:nowhere\"", "log_outputs = \"1:nowhere\"", "log_outputs = \"1:file\"",
        "log_outputs = \"x\"", "log_outputs = \"1:stderr:x\"", "log_outputs = \"3:stderr 0:file:/x\"",
        "log_filters = \"9:qemu\"", "log_filters = \"qemu\"", "log_filters = \"1:+\""}) {
    auto r = run_both({"-f", "CONF"}, setting);
    BOOST_TEST(r.virtactord.exit_code == 1, setting);
    BOOST_TEST(r.libvirtd.exit_code == 1, setting);
    // libvirtd: "libvirt:  error : invalid argument: ..."; virtactord:
    // "virtactord: invalid argument: ...".
    BOOST_TEST(from(r.virtactord.err, "invalid argument:") ==
                 from(r.libvirtd.err, "invalid argument:"),
               setting);
  }
}

BOOST_AUTO_TEST_CASE(the_log_environment_overrides_the_file_as_for_libvirtd) {
  if (!have_libvirtd())
    return;
  auto r = run_both({"-f", "CONF"}, stop_at_start,
                    {"LIBVIRT_LOG_OUTPUTS=7:stderr"});
  BOOST_TEST(r.virtactord.exit_code == 1);
  BOOST_TEST(r.libvirtd.exit_code == 1);
  BOOST_TEST(from(r.virtactord.err, "invalid argument:") ==
             "invalid argument: Invalid log priority '7' for log output '7:stderr'");
  BOOST_TEST(from(r.virtactord.err, "invalid argument:") ==
             from(r.libvirtd.err, "invalid argument:"));
  // The environment is checked before the file and the command line.
  auto d = run_both({"-f", "CONF", "-Z"}, stop_at_start, {"LIBVIRT_DEBUG=9"});
  BOOST_TEST(d.virtactord.exit_code == 1);
  BOOST_TEST(d.libvirtd.exit_code == 1);
  BOOST_TEST(from(d.virtactord.err, "invalid argument:") ==
             from(d.libvirtd.err, "invalid argument:"));
}
