#define _GNU_SOURCE
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bu_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bu_sleep(double seconds) {
  if (seconds <= 0)
    return;
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    // nop: continue with the time left
  }
}

double bu_proc_cpu_seconds(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE* f = fopen(path, "r");
  if (!f)
    return -1;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  char* p = strrchr(buf, ')');
  if (!p)
    return -1;
  unsigned long utime = 0, stime = 0;
  // Fields 3..13 are skipped; 14 and 15 are utime and stime in clock ticks.
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return -1;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long bu_proc_rss_kib(pid_t pid) {
  char path[64];
  if (pid == 0)
    snprintf(path, sizeof path, "/proc/self/status");
  else
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE* f = fopen(path, "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kib = strtol(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return kib;
}

long bu_raise_nofile(long want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if ((rlim_t)want > rl.rlim_max) {
    struct rlimit up = {(rlim_t)want, (rlim_t)want};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
      return want;
  }
  rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  return (long)rl.rlim_cur;
}

int bu_samples_add(struct bu_samples* s, uint64_t ns) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t* v = realloc(s->v, cap * sizeof *v);
    if (!v)
      return -1;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = ns;
  return 0;
}

int bu_samples_merge(struct bu_samples* to, const struct bu_samples* from) {
  for (size_t i = 0; i < from->n; ++i)
    if (bu_samples_add(to, from->v[i]) != 0)
      return -1;
  return 0;
}

void bu_samples_free(struct bu_samples* s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

double bu_samples_quantile_us(struct bu_samples* s, double q) {
  if (s->n == 0)
    return 0;
  qsort(s->v, s->n, sizeof *s->v, cmp_u64);
  size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
  return (double)s->v[i] / 1000.0;
}

long bu_parse_count(const char* text) {
  if (!text || !*text)
    return -1;
  char* end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0)
    return -1;
  return v;
}
