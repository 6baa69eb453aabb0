#!/usr/bin/python3
"""The qemu driver benchmark: the system under test (virtactord, by default)
and the real libvirtd 9.0 qemu driver, side by side in one run.

Both daemons serve qemu:///system privately (tests/interop/qemu/
start-qemu-daemon.sh: a private mount namespace, all state in a temp dir),
and run the ACPI test guest as 64 MiB TCG domains. Runs alternate between the
daemons (the order flips every run); every figure is the median of --runs
runs with its spread (half the range, in percent of the median). Calls go
through python3-libvirt, one connection per client thread.

  start latency      define to running; the start call alone
  destroy latency    the destroy call; until the QEMU process is gone
  frozen among N     N running domains, one QEMU stopped by SIGSTOP with a
                     suspend waiting on its monitor: p99 of getinfo calls on
                     the others (before and during), getinfo on the frozen
                     one, destroy of the frozen one
  domstats over M    getAllDomainStats with M running, one of them frozen as
                     above (and without --nowait's help)

Prints a table per scenario and issue 9's targets with met/missed. Needs
root, libvirtd's qemu driver, qemu-system-x86, and the test guest built
(bench/qemu/run.sh builds it and virtactord). See docs/benchmarks.md.
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(SRC, "tests", "interop", "qemu"))
import qharness as qh  # noqa: E402

# The statistics and table formatting of bench/run.py.
_spec = importlib.util.spec_from_file_location("va_bench_run", os.path.join(SRC, "bench", "run.py"))
_bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench_run)
fmt_num, print_table, summary = _bench_run.fmt_num, _bench_run.print_table, _bench_run.summary

try:
    import libvirt  # python3-libvirt
except ImportError:
    libvirt = None

CAP = 90  # seconds: a call still blocked after this is reported as such


def log(msg):
    print(f"[bench-qemu] {msg}", file=sys.stderr, flush=True)


def fmt_time(s):
    """A time summary: ms below a second, with its spread."""
    if s is None:
        return "-"
    med, spread, _ = s
    text = f"{fmt_num(med * 1000)} ms" if med < 1 else f"{fmt_num(med)} s"
    return f"{text} ±{spread:.0f}%"


def fmt_secs(v):
    return f"{fmt_num(v * 1000)} ms" if v < 1 else f"{fmt_num(v)} s"


def p99(values):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))]


class Timed:
    """A libvirt call on a thread of its own, so that a call that blocks (on
    a frozen QEMU) cannot stall the benchmark: result after at most cap
    seconds, or 'still blocked'."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = None
        self.error = None
        self.value = None
        self.done = threading.Event()
        self.started = time.monotonic()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            self.value = self.fn()
        except libvirt.libvirtError as e:
            self.error = e.get_error_message()
        self.seconds = time.monotonic() - self.started
        self.done.set()

    def wait(self, cap=CAP):
        self.done.wait(max(0.0, cap - (time.monotonic() - self.started)))
        return self.done.is_set()


def timed(fn, cap=CAP):
    t = Timed(fn)
    t.wait(cap)
    return t


class Target:
    """One daemon under measurement: a private daemon and its connections."""

    def __init__(self, label, exe, root):
        self.label = label
        self.daemon = qh.PrivateDaemon(os.path.join(root, label), exe, label)
        self.conn = None
        self.problem = None

    def start(self):
        try:
            self.daemon.start()
            self.conn = libvirt.open(self.daemon.uri)
        except (RuntimeError, libvirt.libvirtError) as e:
            self.problem = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            log(f"{self.label}: not measured: {self.problem}")
            self.daemon.stop()
        return self

    def open(self):
        return libvirt.open(self.daemon.uri)

    def xml(self, name):
        return qh.domain_xml(self.daemon.dir, name)

    def start_domains(self, names, threads=3):
        """Defines and starts the domains, a few at a time."""
        todo = list(names)
        errors = []
        lock = threading.Lock()

        def worker():
            conn = self.open()
            try:
                while True:
                    with lock:
                        if not todo:
                            return
                        name = todo.pop()
                    try:
                        conn.defineXML(self.xml(name)).create()
                    except libvirt.libvirtError as e:
                        errors.append(f"{name}: {e.get_error_message()}")
            finally:
                conn.close()

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if errors:
            raise RuntimeError(f"{self.label}: start failed: {'; '.join(errors)}")

    def remove_domains(self, names):
        """Destroys (when running) and undefines the domains."""
        for name in names:
            try:
                dom = self.conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            try:
                if dom.isActive():
                    timed(dom.destroy).wait()
                dom.undefine()
            except libvirt.libvirtError as e:
                log(f"{self.label}: cleanup of {name}: {e.get_error_message()}")

    def stop(self):
        if self.conn:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None
        leak = self.daemon.stop()
        if leak:
            log(f"{self.label}: {leak}")


class Bench:
    def __init__(self, args):
        self.a = args
        self.root = qh.new_dir("va-bench-qemu.")
        sut_exe = None if args.sut == "libvirtd" else args.sut
        sut_name = os.path.basename(args.sut)
        self.labels = (f"{sut_name} (sut)" if sut_name == "libvirtd" else sut_name,
                       "libvirtd (reference)" if sut_name == "libvirtd" else "libvirtd")
        self.targets = [Target("sut", sut_exe, self.root), Target("reference", None, self.root)]
        self.raw = {}  # (metric, target label) -> [value per run]
        self.notes = []

    def add(self, metric, t, value):
        self.raw.setdefault((metric, t.label), []).append(value)

    def note(self, t, text):
        self.notes.append(f"{self.labels[0] if t.label == 'sut' else self.labels[1]}: {text}")
        log(f"{t.label}: {text}")

    # -- scenarios --

    def warm_up(self, t):
        """One untimed start/destroy: the first start probes QEMU's capabilities."""
        t.start_domains(["warm"])
        t.remove_domains(["warm"])

    def latency(self, t, run):
        starts, calls, destroys, gones = [], [], [], []
        for s in range(self.a.samples):
            name = f"lat-{run}-{s}"
            xml = t.xml(name)
            t0 = time.monotonic()
            dom = t.conn.defineXML(xml)
            t1 = time.monotonic()
            dom.create()
            t2 = time.monotonic()
            running = qh.wait_until(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, 60, 0.005)
            t3 = time.monotonic()
            if not running:
                self.note(t, f"{name} never reached running")
                continue
            starts.append(t3 - t0)
            calls.append(t2 - t1)
            pid = t.daemon.qemu_pids().get(name)
            t4 = time.monotonic()
            d = timed(dom.destroy)
            if not d.done.is_set() or d.error:
                self.note(t, f"destroy of {name}: {d.error or 'still blocked'}")
            t5 = time.monotonic()
            gone = pid is None or qh.wait_until(lambda: qh.pid_gone(pid), 60, 0.002)
            t6 = time.monotonic()
            destroys.append(t5 - t4)
            if gone:
                gones.append(t6 - t4)
            dom.undefine()
        for metric, values in (("start: define to running", starts), ("start: the start call", calls),
                               ("destroy: the call", destroys), ("destroy: until QEMU is gone", gones)):
            if values:
                self.add(metric, t, statistics.median(values))

    def call_window(self, t, names, seconds):
        """Closed loops of getinfo on the named domains (one connection per
        thread) for the given time: the latencies and the number of errors."""
        lat, errors = [], []
        lock = threading.Lock()
        conns = [t.open() for _ in range(self.a.threads)]
        stop_at = time.monotonic() + seconds

        def loop(conn, k):
            doms = [conn.lookupByName(n) for n in names]
            i = k
            mine = []
            while time.monotonic() < stop_at:
                dom = doms[i % len(doms)]
                i += 1
                c0 = time.monotonic()
                try:
                    dom.info()
                    mine.append(time.monotonic() - c0)
                except libvirt.libvirtError as e:
                    with lock:
                        errors.append(e.get_error_message())
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=loop, args=(c, k)) for k, c in enumerate(conns)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for c in conns:
            c.close()
        return lat, errors

    def freeze(self, t, name):
        """SIGSTOP to name's QEMU, then a suspend left waiting on its monitor
        (on a connection of its own). Returns (pid, pending call)."""
        pid = t.daemon.qemu_pids()[name]
        os.kill(pid, signal.SIGSTOP)
        conn = t.open()
        pending = Timed(lambda: conn.lookupByName(name).suspend())
        pending.conn = conn
        if not qh.wait_until(lambda: qh.unread_socket_bytes(pid) > 0 or pending.done.is_set(), 30):
            self.note(t, "the suspend on the frozen QEMU never reached its monitor")
        elif pending.done.is_set():
            self.note(t, f"the suspend on the frozen QEMU returned at once: {pending.error or 'ok'}")
        return pid, pending

    def thaw(self, t, pid, pending, metric):
        """Makes sure the frozen QEMU and the waiting suspend are gone."""
        if not qh.pid_gone(pid):
            os.kill(pid, signal.SIGKILL)
            qh.wait_until(lambda: qh.pid_gone(pid), 30)
        if pending.wait(60):
            self.add(metric, t, pending.seconds)
            if pending.error:
                self.note(t, f"the waiting suspend failed: {pending.error}")
        try:
            pending.conn.close()
        except libvirt.libvirtError:
            pass

    def destroy_frozen(self, t, name, metric):
        d = timed(t.conn.lookupByName(name).destroy)
        if d.done.is_set() and not d.error:
            self.add(metric, t, d.seconds)
        else:
            self.note(t, f"destroy of the frozen {name}: {d.error or f'blocked over {CAP} s'}")

    def frozen(self, t, run):
        n = self.a.frozen_domains
        names = [f"fz-{i}" for i in range(n)]
        t.start_domains(names)
        try:
            others = names[1:]
            lat, err = self.call_window(t, others, self.a.window)
            before = p99(lat)
            self.add(f"frozen among {n}: p99 getinfo on the other {n - 1}, before", t, before)
            pid, pending = self.freeze(t, names[0])
            try:
                lat, err = self.call_window(t, others, self.a.window)
                during = p99(lat)
                self.add(f"frozen among {n}: p99 getinfo on the other {n - 1}, during", t, during)
                if before and during:
                    # Within one run, so that machine load between runs cancels out.
                    self.add(f"frozen among {n}: p99 during / p99 before (ratio)", t, during / before)
                if err:
                    self.note(t, f"{len(err)} getinfo calls on the other domains failed: {err[0]}")
                frozen_dom = t.conn.lookupByName(names[0])
                infos = [timed(frozen_dom.info) for _ in range(5)]
                if all(i.done.is_set() and not i.error for i in infos):
                    self.add(f"frozen among {n}: getinfo on the frozen one", t,
                             statistics.median(i.seconds for i in infos))
                else:
                    bad = next(i for i in infos if not i.done.is_set() or i.error)
                    self.note(t, f"getinfo on the frozen domain: {bad.error or f'blocked over {CAP} s'}")
                self.destroy_frozen(t, names[0], f"frozen among {n}: destroy of the frozen one")
            finally:
                self.thaw(t, pid, pending, f"frozen among {n}: the waiting suspend ended after")
        finally:
            t.remove_domains(names)

    def domstats(self, t, run):
        m = self.a.stats_domains
        names = [f"st-{i}" for i in range(m)]
        t.start_domains(names)
        try:
            base = [timed(lambda: t.conn.getAllDomainStats(0, 0)) for _ in range(3)]
            if all(b.done.is_set() and not b.error for b in base):
                self.add(f"domstats over {m}, none frozen", t, statistics.median(b.seconds for b in base))
            pid, pending = self.freeze(t, names[0])
            try:
                s = timed(lambda: t.conn.getAllDomainStats(0, 0))
                if s.done.is_set() and not s.error:
                    self.add(f"domstats over {m}, one frozen", t, s.seconds)
                    self.add(f"domstats over {m}, one frozen: records", t, len(s.value))
                else:
                    self.note(t, f"domstats with one frozen: {s.error or f'no answer within {CAP} s'}")
                nw = timed(lambda: t.conn.getAllDomainStats(
                    0, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT))
                if nw.done.is_set() and not nw.error:
                    self.add(f"domstats --nowait over {m}, one frozen", t, nw.seconds)
                self.destroy_frozen(t, names[0], f"domstats over {m}: destroy of the frozen one")
            finally:
                self.thaw(t, pid, pending, f"domstats over {m}: the waiting suspend ended after")
        finally:
            t.remove_domains(names)

    # -- the run --

    def run(self):
        for t in self.targets:
            log(f"{t.label}: starting")
            t.start()
        live = [t for t in self.targets if t.problem is None]
        try:
            for t in live:
                self.warm_up(t)
            for scenario in (self.latency, self.frozen, self.domstats):
                for run in range(self.a.runs):
                    order = live if run % 2 == 0 else list(reversed(live))
                    for t in order:
                        log(f"{scenario.__name__}, run {run + 1}/{self.a.runs}: {t.label}")
                        try:
                            scenario(t, run)
                        except (RuntimeError, KeyError, libvirt.libvirtError) as e:
                            self.note(t, f"{scenario.__name__} run {run + 1} failed: {e}")
            for t in live:
                if not t.daemon.alive():
                    self.note(t, f"the daemon died during the run:\n{t.daemon.log_tail()}")
        finally:
            for t in self.targets:
                t.stop()

    # -- the report --

    def value(self, metric, label):
        return summary(self.raw.get((metric, label), []))

    def report(self):
        metrics = list(dict.fromkeys(m for m, _ in self.raw))
        rows = []
        for m in metrics:
            a, b = self.value(m, "sut"), self.value(m, "reference")
            if m.endswith("records"):
                cell = lambda s: "-" if s is None else fmt_num(s[0])  # noqa: E731
            elif m.endswith("(ratio)"):
                cell = lambda s: "-" if s is None else f"{s[0]:.2f}x ±{s[1]:.0f}%"  # noqa: E731
            else:
                cell = fmt_time
            rows.append([m, cell(a), cell(b),
                         "-" if a is None or b is None or not b[0] else f"{a[0] / b[0]:.2f}x"])
        for t, label in zip(self.targets, self.labels):
            if t.problem:
                rows.append([f"{label}: not measured", t.problem.removeprefix(f"{t.label} did not start: "),
                             "", ""])
        print_table(f"qemu driver: {self.labels[0]} vs {self.labels[1]} (qemu:///system, TCG, "
                    f"64 MiB guests; median of {self.a.runs} runs ±half the range; "
                    f"ratio = sut/reference)", ["metric", self.labels[0], self.labels[1], "ratio"], rows)
        n, m = self.a.frozen_domains, self.a.stats_domains
        sut = lambda metric: self.value(metric, "sut")  # noqa: E731
        ref = lambda metric: self.value(metric, "reference")  # noqa: E731
        verdicts = []

        def verdict(name, ok, figures):
            verdicts.append([name, "not measured" if ok is None else ("met" if ok else "missed"), figures])

        def both(metric, test, text):
            a, b = sut(metric), ref(metric)
            if a is None or b is None:
                verdict(text, None, "")
            else:
                verdict(text, test(a[0], b[0]), f"{fmt_secs(a[0])} vs {fmt_secs(b[0])}")

        def alone(metric, test, text):
            a = sut(metric)
            verdict(text, None if a is None else test(a[0]), "" if a is None else fmt_secs(a[0]))

        both("start: define to running", lambda x, y: x <= y / 3,
             "start (define to running) at most 1/3 of libvirtd's")
        alone("destroy: the call", lambda x: x < 0.1, "destroy under 0.1 s")
        change = sut(f"frozen among {n}: p99 during / p99 before (ratio)")
        verdict(f"frozen among {n}: p99 on the other {n - 1} unchanged (at most 1.5x before)",
                None if change is None else change[0] <= 1.5,
                "" if change is None else f"{change[0]:.2f}x (median over runs)")
        alone(f"frozen among {n}: getinfo on the frozen one", lambda x: x < 0.010,
              f"frozen among {n}: getinfo on the frozen one under 10 ms")
        alone(f"frozen among {n}: destroy of the frozen one", lambda x: x < 1.0,
              f"frozen among {n}: destroy of the frozen one under 1 s")
        alone(f"domstats over {m}, one frozen", lambda x: x <= self.a.qmp_deadline,
              f"domstats over {m} with one frozen within the QMP deadline ({self.a.qmp_deadline:g} s)")
        print_table(f"targets (issue 9), for {self.labels[0]}", ["target", "verdict", "figures"], verdicts)
        if self.notes:
            print("\nnotes:")
            for note in dict.fromkeys(self.notes):
                print(f"  {note}")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(SRC, "build-bench"),
                   help="where virtactord and the test guest were built")
    p.add_argument("--sut", default="virtactord",
                   help="virtactord (the build's), libvirtd (the harness against itself), or a path")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (median), at least 3 for real figures")
    p.add_argument("--samples", type=int, default=3, help="start/destroy samples per run (their median counts)")
    p.add_argument("--frozen-domains", type=int, default=10)
    p.add_argument("--stats-domains", type=int, default=20)
    p.add_argument("--threads", type=int, default=4, help="client threads of the getinfo loops")
    p.add_argument("--window", type=float, default=3.0, help="seconds of each getinfo loop")
    p.add_argument("--qmp-deadline", type=float, default=5.0,
                   help="the system under test's QMP deadline, for the domstats target")
    p.add_argument("--json", help="also write every raw figure here")
    p.add_argument("--smoke", action="store_true",
                   help="a tiny run that checks the harness (1 run, 3 and 4 domains): no real figures")
    a = p.parse_args(argv)
    if a.smoke:
        a.runs, a.samples, a.frozen_domains, a.stats_domains, a.window = 1, 1, 3, 4, 0.5
    if a.runs < 1 or a.samples < 1 or a.frozen_domains < 2 or a.stats_domains < 2:
        p.error("runs and samples must be positive, scenarios need at least 2 domains")
    if a.sut == "virtactord":
        a.sut = os.path.join(a.build_dir, "daemon", "virtactord")
    if a.sut != "libvirtd":
        a.sut = os.path.abspath(a.sut)
        if not os.access(a.sut, os.X_OK):
            p.error(f"{a.sut} is not built (bench/qemu/run.sh builds it)")
    return a


def main(argv):
    a = parse_args(argv)
    if libvirt is None:
        print("python3-libvirt is missing (run with /usr/bin/python3)", file=sys.stderr)
        return 2
    os.environ.setdefault("VA_QEMU_GUEST_QCOW2", os.path.join(
        a.build_dir, "tests", "drivers", "qemu", "guest", "disk.qcow2"))
    try:
        qh.check_host()
        qh.guest_image()
    except qh.Skip as e:
        print(f"cannot run: {e}", file=sys.stderr)
        return 2
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    bench = Bench(a)
    t0 = time.monotonic()
    try:
        bench.run()
    finally:
        bench.report()
        print(f"\nwhole run: {time.monotonic() - t0:.0f} s; host: {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f}")
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"args": vars(a), "labels": bench.labels, "notes": bench.notes,
                           "results": [{"metric": m, "target": t, "runs": v}
                                       for (m, t), v in bench.raw.items()]}, f, indent=1)
        shutil.rmtree(bench.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
