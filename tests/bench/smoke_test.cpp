// The benchmark harness's smoke test: bench/run.py --smoke starts its own
// virtactord (and a real libvirtd when one is installed), runs every load
// generator in a tiny configuration and prints the tables. Only that the
// harness works is checked here: results exist and calls succeed. How fast
// anything was is never asserted.
#define BOOST_TEST_MODULE bench_smoke
#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <unistd.h>

#include "tests/interop/harness.hpp"

namespace {

using namespace virtactor::interop;

/// The raw results file of one smoke run, with the harness's stdout.
struct smoke_run {
  process_result proc;
  std::string json;
  bool with_libvirtd = false;
};

const smoke_run& run_once() {
  static smoke_run run = [] {
    smoke_run r;
    r.with_libvirtd = ::access("/usr/sbin/libvirtd", X_OK) == 0;
    temp_dir dir;
    auto out = dir.file("results.json");
    std::vector<std::string> argv = {system_python,  VA_BENCH_RUN_PY, "--smoke",
                                     "--build-dir", VA_BENCH_BUILD_DIR, "--json", out};
    if (!r.with_libvirtd) {
      argv.push_back("--daemons");
      argv.push_back("virtactord");
    }
    r.proc = run_process(argv, {}, std::chrono::seconds{300});
    r.json = read_file(out);
    return r;
  }();
  return run;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_smoke_configuration_runs_to_the_end_without_failures) {
  auto& r = run_once();
  BOOST_TEST_INFO("stderr: " << r.proc.err << "\nstdout: " << r.proc.out);
  BOOST_TEST(r.proc.exit_code == 0);
  BOOST_TEST(!contains(r.proc.out, "failures:"));
}

BOOST_AUTO_TEST_CASE(the_report_has_the_comparison_client_and_target_tables) {
  auto& r = run_once();
  BOOST_TEST(contains(r.proc.out, "virtactord vs libvirtd"));
  BOOST_TEST(contains(r.proc.out, "domain get info, 4 clients: calls/s"));
  BOOST_TEST(contains(r.proc.out, "list all domains, 4 clients: p99 latency"));
  BOOST_TEST(contains(r.proc.out, "daemon KiB per idle connection at 20"));
  BOOST_TEST(contains(r.proc.out, "client side: one process, 10 connections"));
  BOOST_TEST(contains(r.proc.out, "targets"));
  // Issue 10's targets, each printed with its verdict.
  BOOST_TEST(contains(r.proc.out, "daemon CPU per call with 20 open (calls over all)"));
  BOOST_TEST(contains(r.proc.out, "daemon CPU per call with 20 open <= 1.5x of 5 open"));
  BOOST_TEST(contains(r.proc.out, "20 connections held by one virtactord, each a call"));
  BOOST_TEST(contains(r.proc.out, "async client: 10 connections from one process, each a call"));
  BOOST_TEST(contains(r.proc.out, "async client at 10 connections: calls/s >= libvirt's"));
}

BOOST_AUTO_TEST_CASE(every_idle_stage_measured_calls_over_its_connections) {
  auto& r = run_once();
  BOOST_REQUIRE(!r.json.empty());
  boost::property_tree::ptree tree;
  std::istringstream in{r.json};
  boost::property_tree::read_json(in, tree);
  int stages_seen = 0;
  for (auto& [unused, result] : tree.get_child("results")) {
    if (result.get<std::string>("name").rfind("idle/", 0) != 0)
      continue;
    for (auto& [unused2, run] : result.get_child("runs"))
      for (auto& [unused3, stage] : run.get_child("stages")) {
        BOOST_TEST_INFO(result.get<std::string>("name") << " at " << stage.get<long>("n"));
        BOOST_TEST(stage.get<long>("loop_calls") > 0);
        BOOST_TEST(stage.get<long>("loop_failed") == 0);
        ++stages_seen;
      }
  }
  // The CPU base (5) and the two smoke stages, for each daemon.
  BOOST_TEST(stages_seen >= 3);
}

BOOST_AUTO_TEST_CASE(every_load_generator_made_successful_calls_against_each_daemon) {
  auto& r = run_once();
  BOOST_REQUIRE(!r.json.empty());
  boost::property_tree::ptree tree;
  std::istringstream in{r.json};
  boost::property_tree::read_json(in, tree);
  // name ("calls/virtactord/getinfo/4", "idle/libvirtd", ...) -> calls made by its runs
  std::map<std::string, long> made;
  for (auto& [unused, result] : tree.get_child("results")) {
    auto name = result.get<std::string>("name");
    for (auto& [unused2, run] : result.get_child("runs")) {
      BOOST_TEST_INFO("run of " << name);
      BOOST_TEST(run.get<std::string>("ok") == "true");
      long calls = run.get<long>("ops", 0);
      if (auto stages = run.get_child_optional("stages"))
        for (auto& [unused3, stage] : *stages)
          calls += stage.get<long>("call_ok");
      made[name] += calls;
    }
  }
  std::vector<std::string> daemons = {"virtactord"};
  if (r.with_libvirtd)
    daemons.push_back("libvirtd");
  std::vector<std::string> expected = {"calls/floor/getinfo/4", "calls/floor/listall/1"};
  for (auto& d : daemons)
    for (auto name : {"calls/" + d + "/getinfo/1", "calls/" + d + "/listall/4", "connect/" + d,
                      "lifecycle/" + d, "idle/" + d, "client/c/" + d, "client/async/" + d})
      expected.push_back(name);
  expected.push_back("async_idle/virtactord");
  for (auto& name : expected) {
    BOOST_TEST_INFO("figure " << name);
    BOOST_TEST(made[name] > 0);
  }
}

BOOST_AUTO_TEST_CASE(every_idle_connection_answers_its_one_call) {
  auto& r = run_once();
  // The smoke stages hold 10 and then 20 connections, one call over each.
  BOOST_TEST(contains(r.proc.out, "20/20"));
}
