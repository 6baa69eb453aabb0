/* va_bench_echo: the floor of the benchmark. A single-threaded epoll server
 * on a unix socket that answers each length-prefixed request (libvirt's
 * framing: a 4-byte big-endian length that counts itself) with a reply whose
 * size the request's first body word names. No decoding, no allocation per
 * message: what the daemons do beyond this is their own cost.
 *
 * usage: va_bench_echo SOCKET_PATH    (runs until SIGTERM or SIGINT)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.h"

enum { max_frame = 65536, max_events = 256 };

struct conn {
  int fd;
  size_t in_len;
  char in[max_frame];
  size_t out_len;
  size_t out_sent;
  char* out;
  size_t out_cap;
  int want_out; /* registered for EPOLLOUT */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static uint32_t get_be32(const char* p) {
  const unsigned char* u = (const unsigned char*)p;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static int queue_reply(struct conn* c, uint32_t size) {
  if (c->out_len + size > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + size)
      cap *= 2;
    char* p = realloc(c->out, cap);
    if (!p)
      return -1;
    c->out = p;
    c->out_cap = cap;
  }
  char* p = c->out + c->out_len;
  memset(p, 0, size);
  p[0] = (char)(size >> 24);
  p[1] = (char)(size >> 16);
  p[2] = (char)(size >> 8);
  p[3] = (char)size;
  c->out_len += size;
  return 0;
}

/* Writes what is queued; returns -1 when the peer is gone. */
static int flush_out(struct conn* c) {
  while (c->out_sent < c->out_len) {
    ssize_t r = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    if (r <= 0)
      return -1;
    c->out_sent += (size_t)r;
  }
  c->out_len = c->out_sent = 0;
  return 0;
}

/* Reads what is there and answers every whole frame; -1 closes the connection. */
static int on_readable(struct conn* c) {
  for (;;) {
    ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (r <= 0)
      return -1;
    c->in_len += (size_t)r;
    size_t pos = 0;
    while (c->in_len - pos >= 8) {
      uint32_t len = get_be32(c->in + pos);
      uint32_t want = get_be32(c->in + pos + 4);
      if (len < 8 || len > max_frame || want < 4 || want > max_frame)
        return -1;
      if (c->in_len - pos < len)
        break;
      if (queue_reply(c, want) != 0)
        return -1;
      pos += len;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
  }
  return flush_out(c);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: va_bench_echo SOCKET_PATH\n");
    return 2;
  }
  bu_raise_nofile(65536);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof sa.sun_path) {
    fprintf(stderr, "va_bench_echo: socket path too long\n");
    return 2;
  }
  strcpy(sa.sun_path, argv[1]);
  unlink(argv[1]);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0) {
    fprintf(stderr, "va_bench_echo: cannot listen on %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_signal;
  sigaction(SIGTERM, &act, NULL);
  sigaction(SIGINT, &act, NULL);
  signal(SIGPIPE, SIG_IGN);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event events[max_events];
  while (!stopping) {
    int n = epoll_wait(ep, events, max_events, 200);
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          c = calloc(1, sizeof *c);
          if (!c) {
            close(fd);
            continue;
          }
          c->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      int rc = 0;
      if (events[i].events & EPOLLOUT)
        rc = flush_out(c);
      if (rc == 0 && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        rc = on_readable(c);
      if (rc == 0 && c->want_out != (c->out_len > 0)) {
        /* Wait for room only while replies are queued. */
        c->want_out = c->out_len > 0;
        struct epoll_event cev = {.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
      } else if (rc != 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c->out);
        free(c);
      }
    }
  }
  close(lfd);
  unlink(argv[1]);
  return 0;
}
