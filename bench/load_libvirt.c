/* va_bench_libvirt: the C load generator of the benchmark harness.
 *
 * It drives a daemon through libvirt's own C client library (libvirt.so), so
 * that comparing virtactord with libvirtd changes only the daemon. Every
 * client is a thread with a connection of its own, in a closed loop (one call
 * outstanding per connection). The `echo` mode runs the same load shape over
 * raw sockets against va_bench_echo, the floor of what the machine allows.
 *
 * Each run prints one JSON object on stdout; bench/run.py collects them.
 * A watchdog ends the process (with what it has) at --deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "bench_util.h"

enum mode { mode_calls, mode_connect, mode_lifecycle, mode_idle, mode_echo };
enum op { op_getinfo, op_listall };
enum phase { phase_setup, phase_warmup, phase_measure, phase_stop };

/* Wire sizes of the two small calls (length word included) against the
 * test driver's one domain "test": the echo floor sends and answers these. */
enum {
  getinfo_request_size = 56, /* header 28 + name 8 + uuid 16 + id 4 */
  getinfo_reply_size = 60,   /* header 28 + state, maxMem, memory, nrVirtCpu, cpuTime */
  listall_request_size = 36, /* header 28 + need_results + flags */
  listall_reply_size = 64,   /* header 28 + count + one domain 28 + ret */
};

struct options {
  enum mode mode;
  enum op op;
  const char* uri;
  const char* socket_path;
  long clients;
  long stages[16];
  int nstages;
  long openers;
  double warmup;
  double duration;
  double deadline;
  pid_t daemon_pid;
};

struct bench {
  struct options opt;
  atomic_int phase;
  pthread_mutex_t mtx;
  pthread_cond_t cv;
  long ready;
  long setup_failed;
  char first_error[512];
};

struct worker {
  pthread_t thread;
  struct bench* b;
  long index;
  virConnectPtr conn;
  virDomainPtr dom;
  int fd;
  uint64_t ops;
  uint64_t errors;
  struct bu_samples lat;
};

static void quiet_errors(void* data, virErrorPtr err) {
  (void)data;
  (void)err;
}

static void note_error(struct bench* b, const char* what) {
  pthread_mutex_lock(&b->mtx);
  if (!b->first_error[0]) {
    const char* msg = virGetLastErrorMessage();
    snprintf(b->first_error, sizeof b->first_error, "%s: %s", what, msg ? msg : "unknown");
  }
  pthread_mutex_unlock(&b->mtx);
}

/* Prints `s` as a JSON string. */
static void json_string(const char* s) {
  putchar('"');
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

/* -- setup handshake between the main thread and the workers ---------------------- */

static void signal_ready(struct bench* b, int ok) {
  pthread_mutex_lock(&b->mtx);
  ++b->ready;
  if (!ok)
    ++b->setup_failed;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mtx);
}

static void wait_for_go(struct bench* b) {
  pthread_mutex_lock(&b->mtx);
  while (atomic_load(&b->phase) == phase_setup)
    pthread_cond_wait(&b->cv, &b->mtx);
  pthread_mutex_unlock(&b->mtx);
}

static void set_phase(struct bench* b, enum phase p) {
  pthread_mutex_lock(&b->mtx);
  atomic_store(&b->phase, p);
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mtx);
}

/* Counts an operation that ended inside the measured window. */
static void account(struct worker* w, int rc, uint64_t t0) {
  uint64_t t1 = bu_now_ns();
  if (atomic_load(&w->b->phase) != phase_measure)
    return;
  if (rc < 0) {
    ++w->errors;
    return;
  }
  ++w->ops;
  bu_samples_add(&w->lat, t1 - t0);
}

/* -- the operations ------------------------------------------------------------------- */

static int do_call(struct worker* w) {
  if (w->b->opt.op == op_getinfo) {
    virDomainInfo info;
    return virDomainGetInfo(w->dom, &info);
  }
  virDomainPtr* doms = NULL;
  int n = virConnectListAllDomains(w->conn, &doms, 0);
  for (int i = 0; i < n; ++i)
    virDomainFree(doms[i]);
  free(doms);
  return n < 0 ? -1 : 0;
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void put_be32(char* p, uint32_t v) {
  p[0] = (char)(v >> 24);
  p[1] = (char)(v >> 16);
  p[2] = (char)(v >> 8);
  p[3] = (char)v;
}

/* One echo round trip: a request of the call's size whose first body word
 * asks the server for a reply of the call's reply size. */
static int do_echo(struct worker* w) {
  char req[64] = {0}, rep[64];
  uint32_t q = w->b->opt.op == op_getinfo ? getinfo_request_size : listall_request_size;
  uint32_t r = w->b->opt.op == op_getinfo ? getinfo_reply_size : listall_reply_size;
  put_be32(req, q);
  put_be32(req + 4, r);
  if (write_all(w->fd, req, q) != 0 || read_all(w->fd, rep, r) != 0)
    return -1;
  return 0;
}

static int connect_unix(const char* path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path)
    return -1;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static const char* lifecycle_xml =
  "<domain type='test'><name>%s</name><memory unit='KiB'>65536</memory>"
  "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>";

/* One step of define, start, suspend, resume, destroy, undefine. */
static int lifecycle_step(struct worker* w, int step, long cycle) {
  switch (step) {
    case 0: {
      char name[64], xml[512];
      snprintf(name, sizeof name, "bench-%ld-%ld", w->index, cycle);
      snprintf(xml, sizeof xml, lifecycle_xml, name);
      w->dom = virDomainDefineXML(w->conn, xml);
      return w->dom ? 0 : -1;
    }
    case 1:
      return virDomainCreate(w->dom);
    case 2:
      return virDomainSuspend(w->dom);
    case 3:
      return virDomainResume(w->dom);
    case 4:
      return virDomainDestroy(w->dom);
    default: {
      int rc = virDomainUndefine(w->dom);
      virDomainFree(w->dom);
      w->dom = NULL;
      return rc;
    }
  }
}

/* Leaves no domain of ours behind after a failed step. */
static void lifecycle_reset(struct worker* w) {
  if (!w->dom)
    return;
  virDomainDestroy(w->dom);
  virDomainUndefine(w->dom);
  virDomainFree(w->dom);
  w->dom = NULL;
}

/* -- workers -------------------------------------------------------------------------- */

static void* worker_main(void* arg) {
  struct worker* w = arg;
  struct bench* b = w->b;
  int ok = 1;
  w->fd = -1;
  switch (b->opt.mode) {
    case mode_calls:
    case mode_lifecycle:
      w->conn = virConnectOpen(b->opt.uri);
      if (!w->conn) {
        note_error(b, "virConnectOpen");
        ok = 0;
      } else if (b->opt.mode == mode_calls && b->opt.op == op_getinfo) {
        w->dom = virDomainLookupByName(w->conn, "test");
        if (!w->dom) {
          note_error(b, "virDomainLookupByName");
          ok = 0;
        }
      }
      break;
    case mode_echo:
      w->fd = connect_unix(b->opt.socket_path);
      if (w->fd < 0) {
        pthread_mutex_lock(&b->mtx);
        if (!b->first_error[0])
          snprintf(b->first_error, sizeof b->first_error, "connect %s: %s", b->opt.socket_path,
                   strerror(errno));
        pthread_mutex_unlock(&b->mtx);
        ok = 0;
      }
      break;
    default:
      break;
  }
  signal_ready(b, ok);
  wait_for_go(b);
  int step = 0;
  long cycle = 0;
  while (ok && atomic_load(&b->phase) != phase_stop) {
    uint64_t t0 = bu_now_ns();
    int rc = 0;
    switch (b->opt.mode) {
      case mode_calls:
        rc = do_call(w);
        if (rc < 0)
          note_error(b, "call");
        break;
      case mode_echo:
        rc = do_echo(w);
        if (rc < 0) {
          account(w, rc, t0);
          ok = 0; /* the stream is gone */
          continue;
        }
        break;
      case mode_connect: {
        virConnectPtr c = virConnectOpen(b->opt.uri);
        if (!c) {
          note_error(b, "virConnectOpen");
          rc = -1;
        } else {
          rc = virConnectClose(c) < 0 ? -1 : 0;
        }
        break;
      }
      case mode_lifecycle:
        rc = lifecycle_step(w, step, cycle);
        if (rc < 0) {
          note_error(b, "lifecycle");
          lifecycle_reset(w);
          step = 0;
          ++cycle;
        } else if (++step == 6) {
          step = 0;
          ++cycle;
        }
        break;
      default:
        break;
    }
    account(w, rc, t0);
  }
  /* Finish a started cycle, uncounted, so the daemon keeps no leftovers. */
  while (b->opt.mode == mode_lifecycle && w->conn && step != 0)
    if (lifecycle_step(w, step, cycle) < 0) {
      lifecycle_reset(w);
      step = 0;
    } else {
      step = (step + 1) % 6;
    }
  if (w->dom)
    virDomainFree(w->dom);
  if (w->conn)
    virConnectClose(w->conn);
  if (w->fd >= 0)
    close(w->fd);
  return NULL;
}

/* Waits until every worker is set up, at most until `deadline_ns`. */
static int wait_ready(struct bench* b, long n, uint64_t deadline_ns) {
  pthread_mutex_lock(&b->mtx);
  while (b->ready < n && bu_now_ns() < deadline_ns) {
    pthread_mutex_unlock(&b->mtx);
    bu_sleep(0.01);
    pthread_mutex_lock(&b->mtx);
  }
  int all = b->ready == n;
  pthread_mutex_unlock(&b->mtx);
  return all;
}

static void run_closed_loop(struct bench* b) {
  long n = b->opt.clients;
  struct worker* ws = calloc((size_t)n, sizeof *ws);
  if (!ws) {
    fprintf(stderr, "va_bench_libvirt: out of memory\n");
    exit(1);
  }
  long rss_before = bu_proc_rss_kib(0);
  uint64_t setup_start = bu_now_ns();
  long started = 0;
  for (long i = 0; i < n; ++i) {
    ws[i].b = b;
    ws[i].index = i;
    if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
      snprintf(b->first_error, sizeof b->first_error, "pthread_create: %s", strerror(errno));
      break;
    }
    ++started;
  }
  int all_ready = wait_ready(b, started, setup_start + (uint64_t)(b->opt.deadline * 0.5e9));
  double setup_s = (double)(bu_now_ns() - setup_start) / 1e9;
  set_phase(b, phase_warmup);
  bu_sleep(b->opt.warmup);
  long rss_loaded = bu_proc_rss_kib(0);
  double cpu0 = bu_proc_cpu_seconds(b->opt.daemon_pid);
  uint64_t t0 = bu_now_ns();
  set_phase(b, phase_measure);
  bu_sleep(b->opt.duration);
  set_phase(b, phase_stop);
  uint64_t t1 = bu_now_ns();
  double cpu1 = bu_proc_cpu_seconds(b->opt.daemon_pid);
  for (long i = 0; i < started; ++i)
    pthread_join(ws[i].thread, NULL);

  uint64_t ops = 0, errors = 0;
  struct bu_samples all = {0};
  for (long i = 0; i < started; ++i) {
    ops += ws[i].ops;
    errors += ws[i].errors;
    bu_samples_merge(&all, &ws[i].lat);
    bu_samples_free(&ws[i].lat);
  }
  double secs = (double)(t1 - t0) / 1e9;
  double cpu = b->opt.daemon_pid > 0 && cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
  double p50 = bu_samples_quantile_us(&all, 0.50);
  double p99 = bu_samples_quantile_us(&all, 0.99);
  printf("{\"mode\":");
  json_string(b->opt.mode == mode_calls       ? "calls"
              : b->opt.mode == mode_connect   ? "connect"
              : b->opt.mode == mode_lifecycle ? "lifecycle"
                                              : "echo");
  printf(",\"op\":\"%s\",\"clients\":%ld,\"ok\":%s,\"setup_failed\":%ld,\"setup_s\":%.3f,"
         "\"ops\":%llu,\"errors\":%llu,\"seconds\":%.4f,\"rate\":%.1f,\"daemon_cpu_s\":%.3f,"
         "\"p50_us\":%.1f,\"p99_us\":%.1f,\"client_rss_before_kib\":%ld,"
         "\"client_rss_loaded_kib\":%ld,\"first_error\":",
         b->opt.op == op_getinfo ? "getinfo" : "listall", n,
         all_ready && b->setup_failed == 0 && started == n ? "true" : "false",
         b->setup_failed + (n - started), setup_s, (unsigned long long)ops,
         (unsigned long long)errors, secs, secs > 0 ? (double)ops / secs : 0.0, cpu, p50, p99,
         rss_before, rss_loaded);
  json_string(b->first_error);
  printf("}\n");
  bu_samples_free(&all);
  free(ws);
}

/* Starts up to N threads running FN(ARG) into TS (room for N; may be NULL);
   returns how many started. */
static long start_threads(pthread_t* ts, long n, void* (*fn)(void*), void* arg) {
  long started = 0;
  for (long i = 0; ts && i < n; ++i)
    if (pthread_create(&ts[started], NULL, fn, arg) == 0)
      ++started;
  return started;
}

/* -- idle connections --------------------------------------------------------------------- */

struct idle_pool {
  struct bench* b;
  virConnectPtr* conns;
  atomic_long next;  /* next slot to fill or to call */
  long limit;        /* fill or call slots below this */
  atomic_long done;  /* slots finished in this sweep */
  atomic_long ok;
  atomic_long failed;
  int calling;       /* 0: open connections; 1: one call on each */
  uint64_t until_ns; /* the loop of calls (idle_loop) ends here */
};

/* The calls of the CPU window: round robin over every held connection, so
 * that each of them carries some of the calls, until `until_ns`. */
static void* idle_loop_worker(void* arg) {
  struct idle_pool* p = arg;
  while (bu_now_ns() < p->until_ns) {
    long i = atomic_fetch_add(&p->next, 1) % p->limit;
    if (!p->conns[i])
      continue;
    if (virConnectNumOfDomains(p->conns[i]) >= 0)
      atomic_fetch_add(&p->ok, 1);
    else {
      note_error(p->b, "virConnectNumOfDomains");
      atomic_fetch_add(&p->failed, 1);
    }
  }
  return NULL;
}

/* Calls over the `have` held connections with the opener threads for
 * `seconds`; the calls made stay in p->ok and p->failed. */
static void idle_loop(struct idle_pool* p, long have, double seconds) {
  atomic_store(&p->next, 0);
  atomic_store(&p->ok, 0);
  atomic_store(&p->failed, 0);
  if (have <= 0)
    return;
  p->limit = have;
  p->until_ns = bu_now_ns() + (uint64_t)(seconds * 1e9);
  long nthreads = p->b->opt.openers;
  pthread_t* ts = calloc((size_t)nthreads, sizeof *ts);
  long started = start_threads(ts, nthreads, idle_loop_worker, p);
  for (long i = 0; i < started; ++i)
    pthread_join(ts[i], NULL);
  free(ts);
}

static void* idle_worker(void* arg) {
  struct idle_pool* p = arg;
  for (;;) {
    long i = atomic_fetch_add(&p->next, 1);
    if (i >= p->limit)
      break;
    if (!p->calling) {
      p->conns[i] = virConnectOpen(p->b->opt.uri);
      if (p->conns[i])
        atomic_fetch_add(&p->ok, 1);
      else {
        note_error(p->b, "virConnectOpen");
        atomic_fetch_add(&p->failed, 1);
      }
    } else if (p->conns[i]) {
      if (virConnectNumOfDomains(p->conns[i]) >= 0)
        atomic_fetch_add(&p->ok, 1);
      else {
        note_error(p->b, "virConnectNumOfDomains");
        atomic_fetch_add(&p->failed, 1);
      }
    }
    atomic_fetch_add(&p->done, 1);
  }
  return NULL;
}

/* Runs one sweep (open or call) over slots [from, to) with the opener
 * threads; returns 1 when it finished before `deadline_ns`. The threads of
 * a sweep that did not finish are left behind (the process ends soon). */
static int idle_sweep(struct idle_pool* p, long from, long to, int calling, uint64_t deadline_ns) {
  atomic_store(&p->next, from);
  p->limit = to;
  atomic_store(&p->done, 0);
  atomic_store(&p->ok, 0);
  atomic_store(&p->failed, 0);
  p->calling = calling;
  long nthreads = p->b->opt.openers;
  pthread_t* ts = calloc((size_t)nthreads, sizeof *ts);
  long started = start_threads(ts, nthreads, idle_worker, p);
  while (atomic_load(&p->done) < to - from && bu_now_ns() < deadline_ns)
    bu_sleep(0.02);
  int finished = atomic_load(&p->done) >= to - from;
  if (finished)
    for (long i = 0; i < started; ++i)
      pthread_join(ts[i], NULL);
  else
    for (long i = 0; i < started; ++i)
      pthread_detach(ts[i]);
  free(ts);
  return finished;
}

/* Connections are held by child processes (shards): libvirt's client takes
 * two or three descriptors per connection, and one process cannot raise its
 * limit past the hard limit. The parent reads the daemon's RSS between the
 * steps; parent and shards talk in lines over pipes:
 *   shard: "B rss"                          at start (its RSS in KiB)
 *   parent "O n" -> shard "O opened failed finished rss"   open up to n
 *   parent "C"   -> shard "C ok failed finished"           one call on each
 *   parent "L s" -> shard "L ok failed"     calls over all held ones for s seconds
 *   parent "Q"   -> the shard exits                                       */

struct shard {
  pid_t pid;
  int to;   /* parent -> shard */
  int from; /* shard -> parent */
  char buf[256];
  size_t len;
};

/* Reads one line from `fd` into `line` (buffered in `buf`), waiting at most
 * until `deadline_ns`; 0 on success. */
static int read_line(int fd, char* buf, size_t* len, size_t cap, char* line, size_t line_cap,
                     uint64_t deadline_ns) {
  for (;;) {
    char* nl = memchr(buf, '\n', *len);
    if (nl) {
      size_t n = (size_t)(nl - buf);
      if (n >= line_cap)
        n = line_cap - 1;
      memcpy(line, buf, n);
      line[n] = '\0';
      size_t used = (size_t)(nl - buf) + 1;
      memmove(buf, buf + used, *len - used);
      *len -= used;
      return 0;
    }
    uint64_t now = bu_now_ns();
    if (now >= deadline_ns || *len == cap)
      return -1;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int wait_ms = (int)((deadline_ns - now) / 1000000) + 1;
    int r = poll(&pfd, 1, wait_ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    ssize_t got = read(fd, buf + *len, cap - *len);
    if (got <= 0)
      return -1;
    *len += (size_t)got;
  }
}

static void write_line(int fd, const char* line) {
  size_t n = strlen(line);
  if (write(fd, line, n) != (ssize_t)n) {
    /* nop: the other side is gone; its reader sees the end */
  }
}

static void shard_main(struct bench* b, long index, long count, int in, int out) {
  bu_raise_nofile(1L << 20);
  if (virInitialize() < 0)
    _exit(1);
  long max = b->opt.stages[b->opt.nstages - 1];
  struct idle_pool p;
  memset(&p, 0, sizeof p);
  p.b = b;
  p.conns = calloc((size_t)max / (size_t)count + 1, sizeof *p.conns);
  char line[128], buf[256];
  size_t len = 0;
  snprintf(line, sizeof line, "B %ld\n", bu_proc_rss_kib(0));
  write_line(out, line);
  long have = 0;
  uint64_t forever = UINT64_MAX;
  while (p.conns && read_line(in, buf, &len, sizeof buf, line, sizeof line, forever) == 0) {
    if (line[0] == 'O') {
      long n = bu_parse_count(line + 2);
      /* This shard's part of n connections: an equal share, the first
       * shards taking the remainder. */
      long mine = n / count + (index < n % count ? 1 : 0);
      int finished = idle_sweep(&p, have, mine, 0, bu_now_ns() + (uint64_t)(b->opt.deadline * 1e9));
      long opened = 0;
      for (long i = 0; finished && i < mine; ++i)
        opened += p.conns[i] != NULL;
      have = mine;
      snprintf(line, sizeof line, "O %ld %ld %d %ld\n", opened, atomic_load(&p.failed), finished,
               bu_proc_rss_kib(0));
    } else if (line[0] == 'L') {
      idle_loop(&p, have, strtod(line + 2, NULL));
      snprintf(line, sizeof line, "L %ld %ld\n", atomic_load(&p.ok), atomic_load(&p.failed));
    } else if (line[0] == 'C') {
      int finished = idle_sweep(&p, 0, have, 1, bu_now_ns() + (uint64_t)(b->opt.deadline * 1e9));
      snprintf(line, sizeof line, "C %ld %ld %d\n", atomic_load(&p.ok), atomic_load(&p.failed),
               finished);
    } else {
      break;
    }
    write_line(out, line);
  }
  if (b->first_error[0])
    fprintf(stderr, "va_bench_libvirt: shard %ld: %s\n", index, b->first_error);
  _exit(0); /* the daemon sees every connection end */
}

/* Sends `cmd` to every shard and sums the numbers of their one-line answers
 * into `sums` (up to 4 fields after the letter); 0 when all answered. */
static int shards_ask(struct shard* sh, long n, const char* cmd, long sums[4], uint64_t deadline) {
  for (long i = 0; i < n; ++i)
    write_line(sh[i].to, cmd);
  memset(sums, 0, 4 * sizeof *sums);
  for (long i = 0; i < n; ++i) {
    char line[128];
    if (read_line(sh[i].from, sh[i].buf, &sh[i].len, sizeof sh[i].buf, line, sizeof line,
                  deadline) != 0)
      return -1;
    long v[4] = {0, 0, 0, 0};
    sscanf(line + 1, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]);
    for (int k = 0; k < 4; ++k)
      sums[k] += v[k];
  }
  return 0;
}

static void run_idle(struct bench* b) {
  long max = b->opt.stages[b->opt.nstages - 1];
  /* Three descriptors per connection and some slack per shard. */
  long per_shard = (bu_raise_nofile(1L << 20) - 256) / 3;
  long nshards = per_shard > 0 ? (max + per_shard - 1) / per_shard : 1;
  if (nshards < 1)
    nshards = 1;
  if (b->opt.openers < nshards)
    b->opt.openers = nshards;
  struct shard* sh = calloc((size_t)nshards, sizeof *sh);
  long openers = b->opt.openers;
  b->opt.openers = openers / nshards; /* each shard's threads */
  for (long i = 0; i < nshards; ++i) {
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0) {
      perror("va_bench_libvirt: pipe");
      exit(1);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("va_bench_libvirt: fork");
      exit(1);
    }
    if (pid == 0) {
      close(down[1]);
      close(up[0]);
      shard_main(b, i, nshards, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    sh[i].pid = pid;
    sh[i].to = down[1];
    sh[i].from = up[0];
  }
  uint64_t deadline = bu_now_ns() + (uint64_t)(b->opt.deadline * 0.9e9);
  long client_base = 0;
  for (long i = 0; i < nshards; ++i) {
    char line[128];
    if (read_line(sh[i].from, sh[i].buf, &sh[i].len, sizeof sh[i].buf, line, sizeof line,
                  deadline) != 0) {
      fprintf(stderr, "va_bench_libvirt: shard %ld did not start\n", i);
      exit(1);
    }
    client_base += strtol(line + 2, NULL, 10);
  }
  long daemon_base = bu_proc_rss_kib(b->opt.daemon_pid);
  printf("{\"mode\":\"idle\",\"shards\":%ld,\"daemon_rss_base_kib\":%ld,"
         "\"client_rss_base_kib\":%ld,\"stages\":[",
         nshards, daemon_base, client_base);
  int all_ok = 1;
  long have = 0;
  for (int s = 0; s < b->opt.nstages; ++s) {
    long n = b->opt.stages[s];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "O %ld\n", n);
    long o[4], c[4] = {0, 0, 0, 0};
    uint64_t t0 = bu_now_ns();
    int answered = shards_ask(sh, nshards, cmd, o, deadline) == 0;
    double open_s = (double)(bu_now_ns() - t0) / 1e9;
    int finished = answered && o[2] == nshards;
    long opened = finished ? o[0] : 0;
    bu_sleep(0.5); /* let the daemon settle before reading its RSS */
    long daemon_rss = bu_proc_rss_kib(b->opt.daemon_pid);
    long client_rss = o[3];
    double call_s = 0;
    int call_finished = 0;
    if (finished) {
      uint64_t c0 = bu_now_ns();
      call_finished = shards_ask(sh, nshards, "C\n", c, deadline) == 0 && c[2] == nshards;
      call_s = (double)(bu_now_ns() - c0) / 1e9;
    }
    /* The daemon's CPU per call with n connections open: calls spread over
     * all of them by the shards' threads for the measured window. */
    long l[4] = {0, 0, 0, 0};
    double loop_cpu = -1;
    if (call_finished && b->opt.duration > 0) {
      char lcmd[48];
      snprintf(lcmd, sizeof lcmd, "L %.3f\n", b->opt.duration);
      double cpu0 = bu_proc_cpu_seconds(b->opt.daemon_pid);
      if (shards_ask(sh, nshards, lcmd, l, deadline) == 0) {
        double cpu1 = bu_proc_cpu_seconds(b->opt.daemon_pid);
        if (cpu0 >= 0 && cpu1 >= 0)
          loop_cpu = cpu1 - cpu0;
      }
    }
    printf("%s{\"n\":%ld,\"finished\":%s,\"opened\":%ld,\"opened_now\":%ld,\"open_failed\":%ld,"
           "\"open_s\":%.3f,\"daemon_rss_kib\":%ld,\"client_rss_kib\":%ld,"
           "\"daemon_kib_per_conn\":%.3f,\"client_kib_per_conn\":%.3f,"
           "\"call_ok\":%ld,\"call_failed\":%ld,\"call_s\":%.3f,\"calls_finished\":%s,"
           "\"loop_calls\":%ld,\"loop_failed\":%ld,\"loop_daemon_cpu_s\":%.3f,"
           "\"cpu_us_per_call\":%.2f}",
           s ? "," : "", n, finished ? "true" : "false", opened, opened - have, o[1], open_s,
           daemon_rss, client_rss,
           opened > 0 ? (double)(daemon_rss - daemon_base) / (double)opened : 0.0,
           opened > 0 ? (double)(client_rss - client_base) / (double)opened : 0.0, c[0], c[1],
           call_s, call_finished ? "true" : "false", l[0], l[1], loop_cpu,
           loop_cpu >= 0 && l[0] > 0 ? loop_cpu * 1e6 / (double)l[0] : -1.0);
    fflush(stdout);
    if (!finished || !call_finished || o[1] > 0 || c[1] > 0 || l[1] > 0) {
      all_ok = 0;
      break;
    }
    have = opened;
  }
  printf("],\"ok\":%s,\"first_error\":", all_ok ? "true" : "false");
  json_string(all_ok ? "" : "a shard could not open or call every connection in time");
  printf("}\n");
  fflush(stdout);
  /* End the shards; one stuck in a connect the daemon never answers is killed. */
  for (long i = 0; i < nshards; ++i)
    write_line(sh[i].to, "Q\n");
  for (long i = 0; i < nshards; ++i) {
    uint64_t until = bu_now_ns() + 10000000000u;
    while (waitpid(sh[i].pid, NULL, WNOHANG) == 0) {
      if (bu_now_ns() > until) {
        kill(sh[i].pid, SIGKILL);
        waitpid(sh[i].pid, NULL, 0);
        break;
      }
      bu_sleep(0.01);
    }
  }
  free(sh);
}

/* -- command line ------------------------------------------------------------------------- */

static double watchdog_seconds;

static void* watchdog(void* arg) {
  (void)arg;
  bu_sleep(watchdog_seconds);
  fflush(stdout);
  fprintf(stderr, "va_bench_libvirt: deadline of %.0f s reached, giving up\n", watchdog_seconds);
  _exit(3);
  return NULL;
}

static void usage(FILE* out) {
  fprintf(out,
          "usage: va_bench_libvirt MODE [options]\n"
          "modes:\n"
          "  calls      closed-loop small calls, one connection per thread\n"
          "  connect    open + close connections in a loop\n"
          "  lifecycle  define, start, suspend, resume, destroy, undefine\n"
          "  idle       hold connections in stages, one call over each\n"
          "  echo       the calls' load shape against va_bench_echo (the floor)\n"
          "options:\n"
          "  --uri URI          connection URI (all modes but echo)\n"
          "  --socket PATH      va_bench_echo's socket (echo)\n"
          "  --op getinfo|listall  the call of calls and echo (default getinfo)\n"
          "  --clients N        threads, one connection each (default 1);\n"
          "                     idle: ascending stages, e.g. 1000,5000,10000\n"
          "  --openers N        idle: threads that open and call (default 8)\n"
          "  --warmup S         seconds before measuring (default 0.5)\n"
          "  --duration S       measured seconds (default 2); idle: the window of\n"
          "                     calls over all held connections at each stage that\n"
          "                     gives the daemon's CPU per call (0: none)\n"
          "  --daemon-pid PID   the daemon whose CPU time and RSS are read\n"
          "  --deadline S       end the process after S seconds (default 300)\n");
}

static int parse_stages(struct options* o, const char* text) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  o->nstages = 0;
  long last = 0;
  for (char* save = NULL, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    long v = bu_parse_count(tok);
    if (v <= last || o->nstages == 16)
      return -1;
    o->stages[o->nstages++] = last = v;
  }
  if (o->nstages == 0)
    return -1;
  o->clients = o->stages[0];
  return 0;
}

static int parse_seconds(const char* text, double* out) {
  char* end = NULL;
  double v = strtod(text, &end);
  if (!*text || *end || v < 0 || v > 86400)
    return -1;
  *out = v;
  return 0;
}

static int parse_options(int argc, char** argv, struct options* o) {
  if (argc < 2)
    return -1;
  const char* m = argv[1];
  if (!strcmp(m, "calls"))
    o->mode = mode_calls;
  else if (!strcmp(m, "connect"))
    o->mode = mode_connect;
  else if (!strcmp(m, "lifecycle"))
    o->mode = mode_lifecycle;
  else if (!strcmp(m, "idle"))
    o->mode = mode_idle;
  else if (!strcmp(m, "echo"))
    o->mode = mode_echo;
  else
    return -1;
  static const struct option longopts[] = {
    {"uri", required_argument, NULL, 'u'},      {"socket", required_argument, NULL, 's'},
    {"op", required_argument, NULL, 'o'},       {"clients", required_argument, NULL, 'c'},
    {"openers", required_argument, NULL, 'O'},  {"warmup", required_argument, NULL, 'w'},
    {"duration", required_argument, NULL, 'd'}, {"daemon-pid", required_argument, NULL, 'p'},
    {"deadline", required_argument, NULL, 'D'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
      case 'u':
        o->uri = optarg;
        break;
      case 's':
        o->socket_path = optarg;
        break;
      case 'o':
        if (!strcmp(optarg, "getinfo"))
          o->op = op_getinfo;
        else if (!strcmp(optarg, "listall"))
          o->op = op_listall;
        else
          return -1;
        break;
      case 'c':
        if (o->mode == mode_idle) {
          if (parse_stages(o, optarg) != 0)
            return -1;
        } else if ((o->clients = bu_parse_count(optarg)) < 1 || o->clients > 100000) {
          return -1;
        }
        break;
      case 'O':
        if ((o->openers = bu_parse_count(optarg)) < 1 || o->openers > 1024)
          return -1;
        break;
      case 'w':
        if (parse_seconds(optarg, &o->warmup) != 0)
          return -1;
        break;
      case 'd':
        if (parse_seconds(optarg, &o->duration) != 0)
          return -1;
        break;
      case 'D':
        if (parse_seconds(optarg, &o->deadline) != 0 || o->deadline < 1)
          return -1;
        break;
      case 'p': {
        long pid = bu_parse_count(optarg);
        if (pid < 1 || pid > 0x7fffffff)
          return -1;
        o->daemon_pid = (pid_t)pid;
        break;
      }
      case 'h':
        usage(stdout);
        exit(0);
      default:
        return -1;
    }
  }
  if (optind != argc)
    return -1;
  if (o->mode == mode_echo ? !o->socket_path : !o->uri)
    return -1;
  return 0;
}

int main(int argc, char** argv) {
  static struct bench b;
  b.opt.op = op_getinfo;
  b.opt.clients = 1;
  b.opt.stages[0] = 1;
  b.opt.nstages = 1;
  b.opt.openers = 8;
  b.opt.warmup = 0.5;
  b.opt.duration = 2;
  b.opt.deadline = 300;
  if (parse_options(argc, argv, &b.opt) != 0) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  pthread_mutex_init(&b.mtx, NULL);
  pthread_cond_init(&b.cv, NULL);
  atomic_store(&b.phase, phase_setup);
  virSetErrorFunc(NULL, quiet_errors);
  if (b.opt.mode == mode_idle) {
    /* The shards fork before any thread starts and initialise libvirt on
     * their own; the parent's reads all carry deadlines. */
    run_idle(&b);
    return 0;
  }
  /* libvirt's remote client takes up to three descriptors per connection. */
  long want = b.opt.clients * 3 + 256;
  if (bu_raise_nofile(want < 1024 ? 1024 : want) < want)
    fprintf(stderr, "va_bench_libvirt: descriptor limit below %ld\n", want);
  if (virInitialize() < 0) {
    fprintf(stderr, "va_bench_libvirt: virInitialize failed\n");
    return 1;
  }
  watchdog_seconds = b.opt.deadline;
  pthread_t wd;
  pthread_create(&wd, NULL, watchdog, NULL);
  pthread_detach(wd);
  run_closed_loop(&b);
  fflush(stdout);
  return 0;
}
