#!/usr/bin/python3
"""virtactor's benchmark harness: the same load against virtactord and a real
libvirtd, side by side, with a bare epoll echo server as the floor.

Both daemons serve test:///default on private sockets in a temp directory
(unix sockets, plus TCP on loopback), with their own configs, a raised
descriptor limit and max_clients set high. Every figure is the median of
--runs short runs, printed with its spread (half the range, in percent of the
median). Daemons are stopped by PID. bench/run.sh builds the tools first;
see docs/benchmarks.md.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

DAEMONS = ("virtactord", "libvirtd")
NOFILE = 65536


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    """In the child before exec: the same descriptor limit for every daemon."""
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def unix_accepts(path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(path)
        return True
    except OSError:
        return False


def tcp_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Daemon:
    """One private daemon (virtactord or libvirtd), started in the foreground
    so that its PID is ours to read and to stop."""

    def __init__(self, kind, exe, root, transport):
        self.kind = kind
        self.exe = exe
        self.root = root
        self.transport = transport
        self.proc = None
        self.dir = None
        self.port = None

    @property
    def pid(self):
        return self.proc.pid

    @property
    def uri(self):
        if self.transport == "tcp":
            return f"test+tcp://127.0.0.1:{self.port}/default"
        return f"test+unix:///default?socket={self.dir}/libvirt-sock"

    def config(self):
        lines = [
            f'unix_sock_dir = "{self.dir}"',
            'unix_sock_rw_perms = "0770"',
            'unix_sock_ro_perms = "0777"',
            'auth_unix_rw = "none"',
            'auth_unix_ro = "none"',
            "listen_tls = 0",
            "listen_tcp = 1",
            'listen_addr = "127.0.0.1"',
            f'tcp_port = "{self.port}"',
            'auth_tcp = "none"',
            # High limits on both: the idle-connection stages go to 19,000,
            # under this machine's hard limit of 20,000 descriptors (each
            # daemon raises its soft limit to it; see raise_nofile).
            "max_clients = 20000",
            "max_anonymous_clients = 20000",
        ]
        if self.kind == "libvirtd":
            # libvirtd's listen backlog (max_queued_clients, 1000 by default)
            # and its workers; it needs one descriptor per client as we do.
            lines += ["max_queued_clients = 4096", "max_workers = 20"]
        if self.kind == "libvirtd":
            lines.append(f'log_outputs = "3:file:{self.dir}/daemon.log"')
        return "\n".join(lines) + "\n"

    def start(self):
        self.dir = tempfile.mkdtemp(prefix=f"{self.kind}-", dir=self.root)
        self.port = free_port()
        conf = os.path.join(self.dir, "daemon.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        env = dict(os.environ)
        if self.kind == "libvirtd":
            # Only the drivers built into libvirt.so (the test driver among
            # them): no host driver module loads.
            os.mkdir(os.path.join(self.dir, "no-drivers"))
            env["LIBVIRT_DRIVER_DIR"] = os.path.join(self.dir, "no-drivers")
        argv = [self.exe, "--listen", "-f", conf, "--pid-file", os.path.join(self.dir, "pid")]
        self.out = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=raise_nofile)
        sock = os.path.join(self.dir, "libvirt-sock")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(sock) and unix_accepts(sock) and tcp_accepts(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not come up; its output:\n{self.output()}")

    def output(self):
        text = ""
        for name in ("stderr", "daemon.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()[-4000:]
        return text

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.proc = None


class EchoServer:
    """The floor: va_bench_echo on a unix socket."""

    def __init__(self, exe, root):
        self.exe = exe
        self.path = os.path.join(root, "echo.sock")
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.proc = subprocess.Popen([self.exe, self.path], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.path) and unix_accepts(self.path):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("va_bench_echo did not come up")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def run_tool(argv, deadline):
    """Runs a load generator; its last JSON line, or a failure record."""
    argv = argv + ["--deadline", str(int(deadline))]
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=deadline + 30)
    except subprocess.TimeoutExpired:
        return {"ok": False, "first_error": "no answer by the deadline"}
    for line in reversed(cp.stdout.splitlines()):
        if line.startswith("{"):
            try:
                res = json.loads(line)
            except json.JSONDecodeError:
                break
            if cp.returncode != 0:
                res["ok"] = False
                res.setdefault("first_error", "")
                res["first_error"] += f" (exit {cp.returncode}: {cp.stderr.strip()[-300:]})"
            return res
    return {"ok": False, "first_error": f"exit {cp.returncode}: {cp.stderr.strip()[-500:]}"}


# -- statistics and formatting ------------------------------------------------------------

def summary(values):
    """(median, spread in percent of the median) of the runs, or None."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    med = statistics.median(values)
    spread = (max(values) - min(values)) / 2 / med * 100 if med else 0.0
    return med, spread, len(values)


def fmt_num(v):
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt(s, unit=""):
    if s is None:
        return "-"
    med, spread, _ = s
    return f"{fmt_num(med)}{unit} ±{spread:.0f}%"


def ratio(a, b):
    if a is None or b is None or not b[0]:
        return "-"
    return f"{a[0] / b[0]:.2f}x"


class Results:
    """Every raw result, keyed by (section, daemon or client, parameter)."""

    def __init__(self):
        self.raw = {}
        self.failures = []

    def add(self, key, res, what):
        self.raw.setdefault(key, []).append(res)
        if not res.get("ok", False):
            self.failures.append(f"{what}: {res.get('first_error', '')}")

    def values(self, key, fn):
        out = []
        for r in self.raw.get(key, []):
            if not r.get("ok", False):
                continue
            try:
                v = fn(r)
            except (KeyError, ZeroDivisionError, TypeError, IndexError):
                v = None
            if v is not None:
                out.append(v)
        return summary(out)


def per_cpu(r):
    return r["ops"] / r["daemon_cpu_s"] if r["daemon_cpu_s"] > 0 else None


def client_kib_per_conn(r):
    return (r["client_rss_loaded_kib"] - r["client_rss_before_kib"]) / r["clients"]


def stage(n, field):
    def get(r):
        for s in r["stages"]:
            if s["n"] == n and s["finished"]:
                return s[field]
        return None
    return get


def print_table(title, header, rows):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    line = "-+-".join("-" * w for w in widths)
    print(f"\n{title}")
    print(" | ".join(str(h).ljust(widths[i]) for i, h in enumerate(header)))
    print(line)
    for row in rows:
        print(" | ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                         for i, c in enumerate(row)))


# -- the benchmark ------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.res = Results()
        b = args.build_dir
        self.tools = {
            "c": os.path.join(b, "bench", "va_bench_libvirt"),
            "async": os.path.join(b, "bench", "va_bench_async"),
            "echo": os.path.join(b, "bench", "va_bench_echo"),
            "virtactord": os.path.join(b, "daemon", "virtactord"),
            "libvirtd": args.libvirtd,
        }
        self.root = tempfile.mkdtemp(prefix="va-bench-")
        self.daemons = [d for d in DAEMONS if d in args.daemons]
        self.live = []

    def timing(self):
        return ["--warmup", str(self.a.warmup), "--duration", str(self.a.duration)]

    def deadline(self, n=1):
        return 60 + self.a.warmup + self.a.duration + n / 50

    def daemon(self, kind):
        d = Daemon(kind, self.tools[kind], self.root, self.a.transport).start()
        self.live.append(d)
        return d

    def stop(self, d):
        d.stop()
        self.live.remove(d)

    def cleanup(self):
        for d in list(self.live):
            d.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def c_tool(self, mode, target, extra, n=1):
        argv = [self.tools["c"], mode] + extra + ["--daemon-pid", str(target.pid)]
        argv += ["--socket", target.path] if isinstance(target, EchoServer) else ["--uri", target.uri]
        return run_tool(argv, self.deadline(n))

    # Each step alternates the daemons run by run, so that noise from other
    # work on the machine falls on both alike.

    def floor(self):
        echo = EchoServer(self.tools["echo"], self.root).start()
        try:
            for op in ("getinfo", "listall"):
                for c in self.a.clients:
                    for _ in range(self.a.runs):
                        r = self.c_tool("echo", echo, ["--op", op, "--clients", str(c)]
                                        + self.timing(), c)
                        self.res.add(("calls", "floor", op, c), r, f"floor {op} x{c}")
        finally:
            echo.stop()

    def idle_stages(self):
        """The idle stages plus the base of the CPU-per-call comparison."""
        return sorted(set(self.a.idle) | {self.a.cpu_base})

    def idle(self):
        stages = ",".join(str(n) for n in self.idle_stages())
        for _ in range(self.a.runs_idle):
            for kind in self.daemons:
                d = self.daemon(kind)  # fresh: no freed heap from earlier loads
                try:
                    # At each stage: the daemon's RSS, one call on every
                    # connection, then --idle-window seconds of calls spread
                    # over all of them (the daemon's CPU per call with n open).
                    r = self.c_tool("idle", d, ["--clients", stages, "--openers", "8",
                                                "--duration", str(self.a.idle_window)],
                                    sum(self.idle_stages()) * 4 + 100 * self.a.idle_window)
                    self.res.add(("idle", kind), r, f"idle {kind}")
                finally:
                    self.stop(d)

    def loads(self):
        ds = {kind: self.daemon(kind) for kind in self.daemons}
        try:
            for op in ("getinfo", "listall"):
                for c in self.a.clients:
                    for _ in range(self.a.runs):
                        for kind, d in ds.items():
                            r = self.c_tool("calls", d, ["--op", op, "--clients", str(c)]
                                            + self.timing(), c)
                            self.res.add(("calls", kind, op, c), r, f"{kind} {op} x{c}")
            for mode, c in (("connect", self.a.connect_clients),
                            ("lifecycle", self.a.lifecycle_clients)):
                for _ in range(self.a.runs):
                    for kind, d in ds.items():
                        r = self.c_tool(mode, d, ["--clients", str(c)] + self.timing(), c)
                        self.res.add((mode, kind), r, f"{kind} {mode} x{c}")
            n = self.a.client_conns
            for _ in range(self.a.runs):
                for kind, d in ds.items():
                    r = self.c_tool("calls", d, ["--op", "getinfo", "--clients", str(n)]
                                    + self.timing(), n)
                    self.res.add(("client", "c", kind), r, f"C client x{n} -> {kind}")
                    argv = [self.tools["async"], "calls", "--uri", d.uri, "--op", "getinfo",
                            "--clients", str(n), "--daemon-pid", str(d.pid)] + self.timing()
                    r = run_tool(argv, self.deadline(n))
                    self.res.add(("client", "async", kind), r, f"async client x{n} -> {kind}")
            for kind, d in ds.items():
                if not d.alive():
                    self.res.failures.append(f"{kind} died during the run:\n{d.output()}")
        finally:
            for d in ds.values():
                self.stop(d)

    def async_idle(self):
        """Our client holding connections to a fresh virtactord from one process."""
        if "virtactord" not in self.daemons or not self.a.async_idle:
            return
        d = self.daemon("virtactord")
        try:
            argv = [self.tools["async"], "idle", "--uri", d.uri, "--clients",
                    ",".join(str(n) for n in self.a.async_idle), "--daemon-pid", str(d.pid)]
            r = run_tool(argv, self.deadline(sum(self.a.async_idle) * 4))
            self.res.add(("async_idle", "virtactord"), r, "async idle")
        finally:
            self.stop(d)

    # -- the report --

    def report(self):
        R = self.res
        rows = []

        def row(name, key_of, fn, unit="", floor=True):
            va = R.values(key_of("virtactord"), fn)
            lv = R.values(key_of("libvirtd"), fn)
            fl = R.values(key_of("floor"), fn) if floor else None
            rows.append([name, fmt(va, unit), fmt(lv, unit), ratio(va, lv),
                         fmt(fl, unit) if floor else ""])
            return va, lv

        self.verdicts = []
        for op, label in (("getinfo", "domain get info"), ("listall", "list all domains")):
            for c in self.a.clients:
                row(f"{label}, {c} clients: calls/s", lambda k: ("calls", k, op, c),
                    lambda r: r["rate"])
            for c in self.a.clients:
                row(f"{label}, {c} clients: calls per daemon CPU-s",
                    lambda k: ("calls", k, op, c), per_cpu)
            for c in (8, 32):
                name = f"{label}: calls per daemon CPU-s at {c} clients >= 4x libvirtd's, every run"
                if c in self.a.clients:
                    self.verdict_every_run(name, ("calls", "virtactord", op, c),
                                           ("calls", "libvirtd", op, c), per_cpu, 4.0)
                else:
                    self.verdicts.append((name, "not measured", f"no run at {c} clients"))
            c32 = 32 if 32 in self.a.clients else self.a.clients[-1]
            row(f"{label}, {c32} clients: p50 latency", lambda k: ("calls", k, op, c32),
                lambda r: r["p50_us"], " µs")
            va, lv = row(f"{label}, {c32} clients: p99 latency", lambda k: ("calls", k, op, c32),
                         lambda r: r["p99_us"], " µs")
            self.verdict(f"{label}: p99 latency at {c32} clients <= half of libvirtd's", va, lv,
                         lambda x, y: x <= y / 2)
        row(f"connect+open+close, {self.a.connect_clients} clients: per s",
            lambda k: ("connect", k), lambda r: r["rate"], floor=False)
        row(f"lifecycle mix, {self.a.lifecycle_clients} clients: ops/s",
            lambda k: ("lifecycle", k), lambda r: r["rate"], floor=False)
        cpu_rows = {}
        for n in self.idle_stages():
            if n in self.a.idle:
                va, lv = row(f"daemon KiB per idle connection at {n:,}", lambda k: ("idle", k),
                             stage(n, "daemon_kib_per_conn"), floor=False)
                name = f"daemon memory per idle connection at {n:,} <= half of libvirtd's"
                if n <= 10000:
                    self.verdict(name, va, lv, lambda x, y: x <= y / 2)
                else:  # reported, not judged (issue 10 judges 1,000 to 10,000)
                    self.verdicts.append((f"daemon memory per idle connection at {n:,} "
                                          "(reported)", "-", self.versus(va, lv)))
                rows.append([f"connections held at {n:,}, one call on each: calls ok",
                             self.held(("idle", "virtactord"), n),
                             self.held(("idle", "libvirtd"), n), "", ""])
            if self.a.idle_window > 0:
                cpu_rows[n] = row(f"daemon CPU per call with {n:,} open (calls over all)",
                                  lambda k: ("idle", k), stage(n, "cpu_us_per_call"), " µs",
                                  floor=False)
        print_table(f"virtactord vs libvirtd (test:///default over {self.a.transport}; "
                    f"median of {self.a.runs} runs ±half the range; ratio = virtactord/libvirtd)",
                    ["metric", "virtactord", "libvirtd", "ratio", "floor (epoll echo)"], rows)

        n = self.a.client_conns
        crows = []
        for kind in self.daemons:
            for label, fn, unit in (("calls/s", lambda r: r["rate"], ""),
                                    ("client KiB per connection", client_kib_per_conn, ""),
                                    ("p99 latency", lambda r: r["p99_us"], " µs")):
                a = R.values(("client", "async", kind), fn)
                c = R.values(("client", "c", kind), fn)
                crows.append([f"{n:,} connections -> {kind}: {label}", fmt(a, unit), fmt(c, unit),
                              ratio(a, c)])
                if kind == "virtactord" and label == "calls/s":
                    self.verdict(f"async client at {n:,} connections: calls/s >= libvirt's "
                                 "C client's", a, c, lambda x, y: x >= y)
        ai = R.raw.get(("async_idle", "virtactord"))
        if ai:
            for s in ai[-1].get("stages", []):
                crows.append([f"async client holding {s['n']:,} connections to virtactord: "
                              f"client KiB/conn, calls ok",
                              f"{s['client_kib_per_conn']:.1f}", "",
                              f"{s['call_ok']:,}/{s['n']:,}"])
        print_table(f"client side: one process, {n:,} connections, closed loop "
                    "(ratio = ours/libvirt's)",
                    ["metric", "virtactor async client", "libvirt C client (threads)", "ratio"],
                    crows)
        big = max(self.a.idle)
        held = self.held(("idle", "virtactord"), big)
        ok = held != "-" and held.split("/")[0] == held.split("/")[1]
        self.verdicts.append((f"{big:,} connections held by one virtactord, each a call "
                              "without error", "met" if ok else "missed",
                              f"{held} (libvirtd: {self.held(('idle', 'libvirtd'), big)})"))
        base = self.a.cpu_base
        if self.a.idle_window > 0 and base in cpu_rows and big in cpu_rows:
            (vb, lb), (vt, lt) = cpu_rows[base], cpu_rows[big]
            name = f"daemon CPU per call with {big:,} open <= 1.5x of {base:,} open"
            if vb is None or vt is None or not vb[0]:
                self.verdicts.append((name, "not measured", ""))
            else:
                lib = (f"; libvirtd {lt[0] / lb[0]:.2f}x" if lb and lt and lb[0] else "")
                self.verdicts.append((name, "met" if vt[0] <= 1.5 * vb[0] else "missed",
                                      f"{fmt_num(vt[0])} vs {fmt_num(vb[0])} µs = "
                                      f"{vt[0] / vb[0]:.2f}x{lib}"))
        if self.a.async_idle:
            top = max(self.a.async_idle)
            got = None
            for s in (ai[-1].get("stages", []) if ai else []):
                if s["n"] == top:
                    got = s["call_ok"] if s.get("calls_finished") else 0
            self.verdicts.append((f"async client: {top:,} connections from one process, "
                                  "each a call", "met" if got == top else
                                  ("not measured" if got is None else "missed"),
                                  "-" if got is None else f"{got:,}/{top:,}"))
        print_table("targets", ["target", "verdict", "figures"],
                    [list(v) for v in self.verdicts])
        if R.failures:
            print("\nfailures:")
            for f in R.failures:
                print(f"  {f}")

    def held(self, key, n):
        """"ok/n" of the best run at stage n (every run must hold them all to count)."""
        best = None
        for r in self.res.raw.get(key, []):
            for s in r.get("stages", []):
                if s["n"] == n:
                    got = s["call_ok"] if s["finished"] else 0
                    best = got if best is None else min(best, got)
        if best is None:
            # The stage was never reached: report how far the last run got.
            for r in self.res.raw.get(key, []):
                st = r.get("stages", [])
                if st:
                    return f"{st[-1]['opened']:,} opened of {st[-1]['n']:,}"
            return "-"
        return f"{best:,}/{n:,}"

    def verdict(self, name, va, lv, test):
        if va is None or lv is None:
            self.verdicts.append((name, "not measured", ""))
            return
        self.verdicts.append((name, "met" if test(va[0], lv[0]) else "missed",
                              self.versus(va, lv)))

    @staticmethod
    def versus(va, lv):
        if va is None or lv is None:
            return "-"
        return f"{fmt_num(va[0])} vs {fmt_num(lv[0])}" + (
            f" = {va[0] / lv[0]:.2f}x" if lv[0] else "")

    def verdict_every_run(self, name, key_va, key_lv, fn, factor):
        """Met only if virtactord/libvirtd >= factor in every run, the runs
        paired in the order they ran (the daemons alternate run by run)."""
        def per_run(key):
            out = []
            for r in self.res.raw.get(key, []):
                try:
                    out.append(fn(r) if r.get("ok", False) else None)
                except (KeyError, ZeroDivisionError, TypeError):
                    out.append(None)
            return out
        ratios = [a / b if a is not None and b else None
                  for a, b in zip(per_run(key_va), per_run(key_lv))]
        if not ratios or any(x is None for x in ratios):
            self.verdicts.append((name, "not measured" if not ratios else "missed",
                                  "a run failed" if ratios else ""))
            return
        med = statistics.median(ratios)
        low = min(ratios)
        self.verdicts.append((name, "met" if low >= factor else "missed",
                              f"median {med:.2f}x, lowest run {low:.2f}x "
                              f"({', '.join(f'{x:.2f}' for x in ratios)})"))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--build-dir", default=os.path.join(os.path.dirname(here), "build-bench"))
    p.add_argument("--libvirtd", default=shutil.which("libvirtd") or "/usr/sbin/libvirtd")
    p.add_argument("--daemons", default="virtactord,libvirtd",
                   help="comma-separated subset of virtactord,libvirtd")
    p.add_argument("--transport", choices=("unix", "tcp"), default="unix")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    p.add_argument("--runs-idle", type=int, default=2, help="runs of the idle stages")
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--duration", type=float, default=2.0, help="measured seconds per run")
    p.add_argument("--clients", default="1,8,32,256")
    p.add_argument("--idle", default="1000,5000,10000,19000", help="idle connection stages")
    p.add_argument("--cpu-base", type=int, default=100,
                   help="the stage whose CPU per call the largest stage is compared with")
    p.add_argument("--idle-window", type=float, default=2.0,
                   help="seconds of calls over all held connections at each idle stage, "
                        "for the daemon's CPU per call (0: none)")
    p.add_argument("--connect-clients", type=int, default=8)
    p.add_argument("--lifecycle-clients", type=int, default=8)
    p.add_argument("--client-conns", type=int, default=1000)
    p.add_argument("--async-idle", default="1000,10000,19000",
                   help="stages of our client holding connections to virtactord ('' skips)")
    p.add_argument("--parts", default="floor,idle,loads,async-idle",
                   help="which parts to run: floor, idle (held connections, each daemon), "
                        "loads (calls, connect, lifecycle, client side), async-idle")
    p.add_argument("--json", help="also write every raw result here")
    p.add_argument("--smoke", action="store_true",
                   help="a tiny bounded run that checks the harness works (no real figures)")
    a = p.parse_args(argv)
    if a.smoke:
        a.runs, a.runs_idle, a.warmup, a.duration = 1, 1, 0.1, 0.3
        a.clients, a.idle, a.async_idle = "1,4", "10,20", "10"
        a.cpu_base, a.idle_window = 5, 0.3
        a.connect_clients = a.lifecycle_clients = 2
        a.client_conns = 10
    try:
        a.clients = [int(x) for x in a.clients.split(",")]
        a.idle = [int(x) for x in a.idle.split(",")]
        a.async_idle = [int(x) for x in a.async_idle.split(",") if x]
    except ValueError:
        p.error("--clients and --idle take comma-separated numbers")
    if (any(x < 1 for x in a.clients + a.idle + [a.cpu_base]) or a.idle != sorted(set(a.idle))
            or a.runs < 1 or a.idle_window < 0):
        p.error("counts must be positive, idle stages ascending")
    a.parts = [x for x in a.parts.split(",") if x]
    if not a.parts or any(x not in ("floor", "idle", "loads", "async-idle") for x in a.parts):
        p.error("--parts takes floor, idle, loads and/or async-idle")
    a.daemons = [d for d in a.daemons.split(",") if d]
    if not a.daemons or any(d not in DAEMONS for d in a.daemons):
        p.error("--daemons takes virtactord and/or libvirtd")
    return a


def main(argv):
    a = parse_args(argv)
    bench = Bench(a)
    missing = [t for k, t in bench.tools.items()
               if (k != "libvirtd" or "libvirtd" in a.daemons) and not os.access(t, os.X_OK)]
    if missing:
        print("missing tools (run bench/run.sh, which builds them): " + ", ".join(missing),
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        if "floor" in a.parts:
            log("floor: epoll echo server")
            bench.floor()
        if "idle" in a.parts:
            log("idle connections, fresh daemons")
            bench.idle()
        if "loads" in a.parts:
            log("small calls, connect rate, lifecycle, client side")
            bench.loads()
        if "async-idle" in a.parts:
            log("our async client holding connections, a fresh virtactord")
            bench.async_idle()
    finally:
        bench.cleanup()
    bench.report()
    print(f"\nwhole run: {time.monotonic() - t0:.0f} s; host: {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(a).items()},
                       "results": [{"name": "/".join(str(x) for x in k), "runs": v}
                                   for k, v in bench.res.raw.items()],
                       "failures": bench.res.failures}, f, indent=1)
    return 1 if bench.res.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
