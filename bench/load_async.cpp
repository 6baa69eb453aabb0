// va_bench_async: the benchmark's load generator on virtactor's own async
// client (client/async.hpp). Many connections live in one process: each is
// driven by an event-based actor on CAF's default scheduler with one call
// outstanding (a closed loop, the same shape as va_bench_libvirt's threads).
//
// Modes (one JSON object on stdout per run, as va_bench_libvirt prints):
//   calls  --uri U --op getinfo|listall --clients N --warmup S --duration S
//   idle   --uri U --clients 1000,5000,...   hold connections in stages,
//          read the daemon's and our own RSS, then one call over each.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include "bench/bench_util.h"
#include "client/async.hpp"

namespace {

using namespace virtactor;
using protocol::proc;
using go_atom = caf::atom_constant<caf::atom("bench_go")>;
using sweep_atom = caf::atom_constant<caf::atom("bench_swp")>;

constexpr std::chrono::milliseconds call_timeout{60000};

enum phase : int { phase_setup, phase_warmup, phase_measure, phase_stop };

struct options {
  std::string mode;
  std::string uri;
  bool getinfo = true;
  std::vector<long> stages{1};
  long window = 64; // opens in flight at once
  double warmup = 0.5;
  double duration = 2;
  double deadline = 300;
  pid_t daemon_pid = 0;
};

/// What the workers share with the main thread.
struct run_state {
  options opt;
  std::atomic<int> now{phase_setup};
  std::mutex mtx;
  std::condition_variable cv;
  long ready = 0;
  long setup_failed = 0;
  long finished = 0;
  long swept = 0;
  long swept_failed = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  bu_samples lat{};
  std::string first_error;

  void note(const std::string& what, const virt_error& e) {
    std::lock_guard<std::mutex> g{mtx};
    if (first_error.empty())
      first_error = what + ": " + e.message;
  }
  /// Increments `counter` (and `failures` unless `ok`) and wakes the main thread.
  void count(long& counter, bool ok = true, long* failures = nullptr) {
    std::lock_guard<std::mutex> g{mtx};
    ++counter;
    if (!ok && failures)
      ++*failures;
    cv.notify_all();
  }
  /// Waits until `pred` holds or `until` passes; true if it holds.
  template <class Pred>
  bool wait(std::chrono::steady_clock::time_point until, Pred pred) {
    std::unique_lock<std::mutex> g{mtx};
    return cv.wait_until(g, until, pred);
  }
};

using run_ptr = std::shared_ptr<run_state>;

struct worker_state {
  connection_actor conn;
  protocol::nonnull_domain dom;
  uint64_t ops = 0;
  uint64_t errors = 0;
  bu_samples lat{};
  static inline const char* name = "va_bench_worker";
};

using worker_ptr = caf::stateful_actor<worker_state>*;

/// Hands this worker's counts to the run, then closes its connection.
void finish(worker_ptr self, const run_ptr& run) {
  auto& st = self->state;
  {
    std::lock_guard<std::mutex> g{run->mtx};
    run->ops += st.ops;
    run->errors += st.errors;
    bu_samples_merge(&run->lat, &st.lat);
  }
  bu_samples_free(&st.lat);
  self->request(st.conn, call_timeout, close_atom::value)
    .then([self, run](bool) { run->count(run->finished); self->quit(); },
          [self, run](caf::error&) { run->count(run->finished); self->quit(); });
}

void next_call(worker_ptr self, run_ptr run) {
  if (run->now.load() == phase_stop) {
    finish(self, run);
    return;
  }
  auto t0 = bu_now_ns();
  auto done = [self, run, t0](bool ok) {
    auto t1 = bu_now_ns();
    if (run->now.load() == phase_measure) {
      if (ok) {
        ++self->state.ops;
        bu_samples_add(&self->state.lat, t1 - t0);
      } else {
        ++self->state.errors;
      }
    }
    next_call(self, run);
  };
  auto failed = [run, done](const virt_error& e) {
    run->note("call", e);
    done(false);
  };
  if (run->opt.getinfo)
    client::call<proc::domain_get_info>(
      self, self->state.conn, protocol::dom_only{self->state.dom}, call_timeout,
      [done](const protocol::domain_get_info_ret&) { done(true); }, failed);
  else
    client::call<proc::connect_list_all_domains>(
      self, self->state.conn, protocol::connect_list_all_domains_args{1, 0}, call_timeout,
      [done](const protocol::connect_list_all_domains_ret&) { done(true); }, failed);
}

caf::behavior worker(worker_ptr self, run_ptr run) {
  return {
    [self, run](open_atom) {
      client::open(
        self, run->opt.uri, 0, open_options{},
        [self, run](const connection_actor& conn) {
          self->state.conn = conn;
          if (run->opt.mode != "calls" || !run->opt.getinfo) {
            run->count(run->ready);
            return;
          }
          client::call<proc::domain_lookup_by_name>(
            self, conn, protocol::name_args{"test"}, call_timeout,
            [self, run](const protocol::dom_only& r) {
              self->state.dom = r.dom;
              run->count(run->ready);
            },
            [run](const virt_error& e) {
              run->note("virDomainLookupByName", e);
              run->count(run->ready, false, &run->setup_failed);
            });
        },
        [self, run](const virt_error& e) {
          run->note("open", e);
          run->count(run->ready, false, &run->setup_failed);
          self->quit();
        });
    },
    [self, run](go_atom) { next_call(self, run); },
    [self, run](sweep_atom) {
      client::call<proc::connect_num_of_domains>(
        self, self->state.conn, xdr::empty{}, call_timeout,
        [run](const protocol::num_ret&) { run->count(run->swept); },
        [run](const virt_error& e) {
          run->note("virConnectNumOfDomains", e);
          run->count(run->swept, false, &run->swept_failed);
        });
    },
  };
}

using clock_type = std::chrono::steady_clock;

clock_type::time_point after(double seconds) {
  return clock_type::now() +
         std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

/// Spawns workers [from, to) into `ws` and opens their connections, at most
/// `window` at a time; true when all answered before `until`.
bool open_workers(caf::actor_system& sys, const run_ptr& run, std::vector<caf::actor>& ws,
                  long from, long to, clock_type::time_point until) {
  for (long i = from; i < to; ++i) {
    ws.push_back(sys.spawn(worker, run));
    if (!run->wait(until, [&] { return i - run->ready < run->opt.window; }))
      return false;
    caf::anon_send(ws.back(), open_atom::value);
  }
  return run->wait(until, [&] { return run->ready >= to; });
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void run_calls(caf::actor_system& sys, const run_ptr& run) {
  auto& o = run->opt;
  long n = o.stages.front();
  long rss_before = bu_proc_rss_kib(0);
  auto t_setup = clock_type::now();
  std::vector<caf::actor> ws;
  bool all_ready = open_workers(sys, run, ws, 0, n, after(o.deadline * 0.5));
  double setup_s = std::chrono::duration<double>(clock_type::now() - t_setup).count();
  long ok_workers = 0;
  {
    std::lock_guard<std::mutex> g{run->mtx};
    ok_workers = run->ready - run->setup_failed;
  }
  run->now = phase_warmup;
  for (auto& w : ws)
    caf::anon_send(w, go_atom::value);
  bu_sleep(o.warmup);
  long rss_loaded = bu_proc_rss_kib(0);
  double cpu0 = bu_proc_cpu_seconds(o.daemon_pid);
  auto t0 = bu_now_ns();
  run->now = phase_measure;
  bu_sleep(o.duration);
  run->now = phase_stop;
  auto t1 = bu_now_ns();
  double cpu1 = bu_proc_cpu_seconds(o.daemon_pid);
  run->wait(after(o.deadline * 0.3), [&] { return run->finished >= ok_workers; });
  std::lock_guard<std::mutex> g{run->mtx};
  double secs = static_cast<double>(t1 - t0) / 1e9;
  double cpu = o.daemon_pid > 0 && cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
  double p50 = bu_samples_quantile_us(&run->lat, 0.50);
  double p99 = bu_samples_quantile_us(&run->lat, 0.99);
  std::printf("{\"mode\":\"calls\",\"op\":\"%s\",\"clients\":%ld,\"ok\":%s,\"setup_failed\":%ld,"
              "\"setup_s\":%.3f,\"ops\":%llu,\"errors\":%llu,\"seconds\":%.4f,\"rate\":%.1f,"
              "\"daemon_cpu_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
              "\"client_rss_before_kib\":%ld,\"client_rss_loaded_kib\":%ld,\"first_error\":%s}\n",
              o.getinfo ? "getinfo" : "listall", n,
              all_ready && run->setup_failed == 0 ? "true" : "false",
              run->setup_failed + (n - run->ready), setup_s,
              static_cast<unsigned long long>(run->ops),
              static_cast<unsigned long long>(run->errors), secs,
              secs > 0 ? static_cast<double>(run->ops) / secs : 0.0, cpu, p50, p99, rss_before,
              rss_loaded, json_string(run->first_error).c_str());
}

void run_idle(caf::actor_system& sys, const run_ptr& run) {
  auto& o = run->opt;
  auto until = after(o.deadline * 0.9);
  long daemon_base = bu_proc_rss_kib(o.daemon_pid);
  long client_base = bu_proc_rss_kib(0);
  std::printf("{\"mode\":\"idle\",\"daemon_rss_base_kib\":%ld,\"client_rss_base_kib\":%ld,"
              "\"stages\":[",
              daemon_base, client_base);
  std::vector<caf::actor> ws;
  bool all_ok = true;
  long have = 0;
  for (size_t s = 0; s < o.stages.size(); ++s) {
    long n = o.stages[s];
    auto t0 = clock_type::now();
    bool finished = open_workers(sys, run, ws, have, n, until);
    double open_s = std::chrono::duration<double>(clock_type::now() - t0).count();
    long opened = 0, failed = 0;
    {
      std::lock_guard<std::mutex> g{run->mtx};
      opened = run->ready - run->setup_failed;
      failed = run->setup_failed;
    }
    bu_sleep(0.5); // let the daemon settle before reading its RSS
    long daemon_rss = bu_proc_rss_kib(o.daemon_pid);
    long client_rss = bu_proc_rss_kib(0);
    bool calls_finished = false;
    long call_ok = 0, call_failed = 0;
    double call_s = 0;
    if (finished) {
      {
        std::lock_guard<std::mutex> g{run->mtx};
        run->swept = run->swept_failed = 0;
      }
      auto c0 = clock_type::now();
      for (long i = 0; i < n; ++i)
        caf::anon_send(ws[static_cast<size_t>(i)], sweep_atom::value);
      calls_finished = run->wait(until, [&] { return run->swept >= opened; });
      call_s = std::chrono::duration<double>(clock_type::now() - c0).count();
      std::lock_guard<std::mutex> g{run->mtx};
      call_ok = run->swept - run->swept_failed;
      call_failed = run->swept_failed;
    }
    std::printf("%s{\"n\":%ld,\"finished\":%s,\"opened\":%ld,\"opened_now\":%ld,"
                "\"open_failed\":%ld,\"open_s\":%.3f,\"daemon_rss_kib\":%ld,"
                "\"client_rss_kib\":%ld,\"daemon_kib_per_conn\":%.3f,"
                "\"client_kib_per_conn\":%.3f,\"call_ok\":%ld,\"call_failed\":%ld,"
                "\"call_s\":%.3f,\"calls_finished\":%s}",
                s ? "," : "", n, finished ? "true" : "false", opened, opened - have, failed,
                open_s, daemon_rss, client_rss,
                opened > 0 ? static_cast<double>(daemon_rss - daemon_base) / opened : 0.0,
                opened > 0 ? static_cast<double>(client_rss - client_base) / opened : 0.0,
                call_ok, call_failed, call_s, calls_finished ? "true" : "false");
    std::fflush(stdout);
    if (!finished || !calls_finished || failed > 0) {
      all_ok = false;
      break;
    }
    have = n;
  }
  std::printf("],\"ok\":%s,\"first_error\":%s}\n", all_ok ? "true" : "false",
              json_string(run->first_error).c_str());
}

void usage(std::ostream& out) {
  out << "usage: va_bench_async calls|idle --uri URI [--op getinfo|listall]\n"
         "         [--clients N | --clients N1,N2,... (idle)] [--window N]\n"
         "         [--warmup S] [--duration S] [--daemon-pid PID] [--deadline S]\n";
}

bool parse(int argc, char** argv, options& o) {
  if (argc < 2)
    return false;
  o.mode = argv[1];
  if (o.mode != "calls" && o.mode != "idle")
    return false;
  auto seconds = [](const std::string& v, double& out) {
    char* end = nullptr;
    out = std::strtod(v.c_str(), &end);
    return !v.empty() && *end == '\0' && out >= 0 && out <= 86400;
  };
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      return false;
    std::string v = argv[++i];
    if (a == "--uri") {
      o.uri = v;
    } else if (a == "--op") {
      if (v != "getinfo" && v != "listall")
        return false;
      o.getinfo = v == "getinfo";
    } else if (a == "--clients") {
      o.stages.clear();
      size_t pos = 0;
      while (pos <= v.size()) {
        auto comma = v.find(',', pos);
        auto tok = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        long n = bu_parse_count(tok.c_str());
        if (n < 1 || n > 100000 || (!o.stages.empty() && n <= o.stages.back()))
          return false;
        o.stages.push_back(n);
        if (comma == std::string::npos)
          break;
        pos = comma + 1;
      }
      if (o.mode == "calls" && o.stages.size() != 1)
        return false;
    } else if (a == "--window") {
      o.window = bu_parse_count(v.c_str());
      if (o.window < 1)
        return false;
    } else if (a == "--warmup") {
      if (!seconds(v, o.warmup))
        return false;
    } else if (a == "--duration") {
      if (!seconds(v, o.duration))
        return false;
    } else if (a == "--deadline") {
      if (!seconds(v, o.deadline) || o.deadline < 1)
        return false;
    } else if (a == "--daemon-pid") {
      long pid = bu_parse_count(v.c_str());
      if (pid < 1)
        return false;
      o.daemon_pid = static_cast<pid_t>(pid);
    } else {
      return false;
    }
  }
  return !o.uri.empty();
}

} // namespace

int main(int argc, char** argv) {
  auto run = std::make_shared<run_state>();
  if (!parse(argc, argv, run->opt)) {
    usage(std::cerr);
    return 2;
  }
  bu_raise_nofile(std::max(4096L, run->opt.stages.back() * 2 + 256));
  // A watchdog: whatever hangs, the harness gets its answer by the deadline.
  std::thread([deadline = run->opt.deadline] {
    bu_sleep(deadline);
    std::fflush(stdout);
    std::fprintf(stderr, "va_bench_async: deadline of %.0f s reached, giving up\n", deadline);
    _exit(3);
  }).detach();
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  // The actor system is never torn down: the process ends with _exit once the
  // figures are out (its destructor would wait for every actor).
  auto sys = std::make_unique<caf::actor_system>(cfg);
  if (run->opt.mode == "calls")
    run_calls(*sys, run);
  else
    run_idle(*sys, run);
  std::fflush(stdout);
  _exit(0);
}
