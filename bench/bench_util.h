/// Shared helpers of the C benchmark tools: clocks, /proc readings of a
/// process, the descriptor limit, growable latency samples and percentiles.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Monotonic time in nanoseconds.
uint64_t bu_now_ns(void);

/// Sleeps `seconds` (fractions allowed).
void bu_sleep(double seconds);

/// utime + stime of `pid` in seconds, or -1 when it cannot be read.
double bu_proc_cpu_seconds(pid_t pid);

/// Resident set size of `pid` (0: this process) in KiB, or -1.
long bu_proc_rss_kib(pid_t pid);

/// Raises RLIMIT_NOFILE to `want` (raising the hard limit too when allowed,
/// as root), else to the hard limit; returns the soft limit now in force.
long bu_raise_nofile(long want);

/// Latency samples in nanoseconds, one growable array per worker.
struct bu_samples {
  uint64_t* v;
  size_t n;
  size_t cap;
};

/// Appends one sample; returns 0, or -1 when out of memory (sample dropped).
int bu_samples_add(struct bu_samples* s, uint64_t ns);

/// Appends every sample of `from` to `to`.
int bu_samples_merge(struct bu_samples* to, const struct bu_samples* from);

void bu_samples_free(struct bu_samples* s);

/// The `q` quantile (0..1) in microseconds after sorting `s` in place; 0 when empty.
double bu_samples_quantile_us(struct bu_samples* s, double q);

/// Parses a non-negative decimal number; returns -1 on anything else.
long bu_parse_count(const char* text);

#ifdef __cplusplus
}
#endif
