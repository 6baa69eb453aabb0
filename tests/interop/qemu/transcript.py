#!/usr/bin/python3
"""Transcript comparison of two daemons serving qemu:///system.

A sequence file (lifecycle.txt) of virsh commands runs against a URI, each
command a virsh process of its own, while `virsh event --all --loop` holds a
second connection. The transcript records every command's stdout, stderr and
exit status, the directives' outcomes, then every event the held connection
saw. Two transcripts compare equal once the named masks (qharness.Masks) hide
what cannot match (run folders, domain ids, CPU time, pty paths, generated
uuids and MACs, pids, the 2-or-3 REBOOT events of one reset).

  transcript.py compare [--sut libvirtd|PATH] [--sequence FILE]... [--check-catches]
      starts the reference daemon (libvirtd) and the system under test, each
      privately, runs the sequence against both at once, stops them, diffs
      the masked transcripts. Exit 0 when equal, 1 when they differ (the
      transcripts are then kept), 77 when the host cannot run it.
  transcript.py recheck DIR
      judges the transcripts a compare kept again, without running anything.
  transcript.py run --uri URI --out FILE
      runs the sequence against a daemon that already runs; writes FILE (raw)
      and FILE.masked.

See docs/qemu-interop.md.
"""

import argparse
import difflib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qharness as qh  # noqa: E402

PYTHON = "/usr/bin/python3"
DEFAULT_SEQUENCE = os.path.join(qh.HERE, "lifecycle.txt")
EVENTS_HEADER = "== events seen by the held connection"


def sequence_path(path):
    """A sequence file: as given, or by name in this folder (restart.txt)."""
    if not os.path.exists(path) and os.path.exists(os.path.join(qh.HERE, path)):
        return os.path.join(qh.HERE, path)
    return path


def parse_sequence(path):
    """[(line number, words)] of a sequence file, comments and blanks dropped."""
    path = sequence_path(path)
    steps = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = shlex.split(line, comments=True)
            if words:
                steps.append((n, words))
    return steps


def show(words):
    """Words as the sequence file would spell them (double quotes where needed)."""
    return " ".join(w if re.fullmatch(r"[\w@%+=:,./-]+", w) else f'"{w}"' for w in words)


class Run:
    """One run of a sequence against one URI. With the daemon (a
    qharness.PrivateDaemon) the fault directives work too: @kill-qemu,
    @daemon stop|start, @wait-monitor-pending."""

    def __init__(self, uri, workdir, sequence, daemon=None):
        self.uri = uri
        self.workdir = workdir
        self.sequence = sequence
        self.daemon = daemon
        self.out = []
        self.xml = []
        self.events = []  # events of watchers that ended (daemon restarts)
        self.watcher = None
        self.watchers = 0
        self.mark = 0  # events seen when the last command started
        self.timings = []  # (seconds, step): not part of the transcript
        self.observations = []  # (what, outcome): not part of the transcript
        self.background = {}  # id: (process, start time, words)

    def record(self, title, rc, stdout, stderr):
        self.out.append(title)
        lines = stdout.split("\n")
        if lines[-1] == "":
            lines.pop()
        self.out.extend(lines)
        for line in stderr.splitlines():
            self.out.append(f"! {line}")
        self.out.append(f"exit {rc}")

    def note(self, directive, outcome):
        self.out.append(f"@ {show(directive)}")
        self.out.append(outcome)

    def step(self, n, words):
        head, args = words[0], words[1:]
        directives = {
            "@xml": self.render_xml,
            "@wait-state": self.wait_state,
            "@wait-events": self.wait_events,
            "@wait-boot": self.wait_boot,
            "@python": self.python,
            "@timed": self.timed,
            "@kill-qemu": self.kill_qemu,
            "@daemon": self.daemon_ctl,
            "@background": self.start_background,
            "@join": self.join,
            "@wait-monitor-pending": self.wait_monitor_pending,
            "@reference-shows": lambda args: None,  # checked by judge()
        }
        if head.startswith("@"):
            if head not in directives:
                raise ValueError(f"{self.sequence}:{n}: unknown directive {head}")
            try:
                directives[head](args)
            except (IndexError, ValueError) as e:
                raise ValueError(f"{self.sequence}:{n}: {show(words)}: {e}") from e
        else:
            self.virsh(words)

    def virsh(self, words):
        self.mark = len(self.watcher.lines())
        rc, out, err = qh.virsh(self.uri, words, cwd=self.workdir)
        self.record(f"$ virsh {show(words)}", rc, out, err)
        return rc

    def render_xml(self, args):
        """@xml FILE NAME [uuid=U] [mac=M] [memory=MiB]"""
        opts = dict(a.split("=", 1) for a in args[2:])
        text = qh.domain_xml(self.workdir, args[1], memory_mib=int(opts.get("memory", 64)),
                             uuid=opts.get("uuid"), mac=opts.get("mac"))
        with open(os.path.join(self.workdir, args[0]), "w") as f:
            f.write(text)
        self.xml.append(text)

    def wait_state(self, args):
        """@wait-state NAME STATE [SECONDS]"""
        name, want = args[0], args[1]
        seconds = float(args[2]) if len(args) > 2 else 60
        state = qh.wait_until(lambda: (lambda s: s if s.startswith(want) else None)(
            qh.domstate(self.uri, name)), seconds, step=0.1)
        self.note(["wait-state"] + args[:2], f"reached: {state}" if state else
                  f"timed out after {seconds:g} s in: {qh.domstate(self.uri, name)}")

    def wait_boot(self, args):
        """@wait-boot NAME [SECONDS]"""
        seconds = float(args[1]) if len(args) > 1 else 60
        booted = qh.wait_until(lambda: qh.guest_booted(self.uri, args[0]), seconds, step=0.1)
        self.note(["wait-boot", args[0]], "booted" if booted else f"timed out after {seconds:g} s")

    def wait_events(self, args):
        """@wait-events COUNT TEXT [SECONDS]"""
        count, text = int(args[0]), args[1]
        seconds = float(args[2]) if len(args) > 2 else 60
        seen = qh.wait_until(lambda: self.watcher.count(text, self.mark) >= count, seconds)
        self.note(["wait-events"] + args[:2], "seen" if seen else
                  f"timed out after {seconds:g} s, saw {self.watcher.count(text, self.mark)}")

    def python(self, args):
        """@python SCRIPT ARGS..."""
        script = os.path.join(qh.DATA, args[0])
        self.mark = len(self.watcher.lines())
        try:
            cp = subprocess.run([PYTHON, script, self.uri] + args[1:], cwd=self.workdir,
                                capture_output=True, text=True, timeout=qh.VIRSH_TIMEOUT)
            rc, out, err = cp.returncode, cp.stdout, cp.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        self.record(f"$ python3 {show(args)}", rc, out, err)

    def timed(self, args):
        """@timed VIRSH-ARGS...: a virsh command whose duration is observed."""
        started = time.monotonic()
        rc = self.virsh(args)
        self.observations.append((show(args), f"{time.monotonic() - started:.3f} s (exit {rc})"))

    def need_daemon(self):
        if self.daemon is None:
            raise ValueError("this directive needs the daemon (run it with transcript.py compare, "
                             "or run --daemon-dir)")
        return self.daemon

    def kill_qemu(self, args):
        """@kill-qemu NAME SIGNAL: a signal to the domain's QEMU, behind the
        daemon's back (KILL, STOP, CONT, TERM)."""
        name, sig = args[0], args[1].upper().removeprefix("SIG")
        pid = self.need_daemon().qemu_pids().get(name)
        if pid is None:
            self.note(["kill-qemu"] + args, f"no QEMU runs for {name}")
            return
        os.kill(pid, getattr(signal, f"SIG{sig}"))
        self.note(["kill-qemu"] + args, f"SIG{sig} sent")

    def daemon_ctl(self, args):
        """@daemon stop: SIGTERM to the daemon alone, its domains keep running;
        @daemon start: start it again (it reattaches) with a new watcher."""
        d = self.need_daemon()
        if args[0] == "stop":
            self.close_watcher()
            self.before = d.qemu_pids()
            err = d.stop(daemon_only=True)
            self.note(["daemon", "stop"], err or f"stopped; QEMUs running: {' '.join(sorted(self.before)) or 'none'}")
        elif args[0] == "start":
            d.start()
            self.open_watcher()
            now = d.qemu_pids()
            same = sorted(n for n in now if self.before.get(n) == now[n])
            self.note(["daemon", "start"], f"started; the same QEMU processes run for: {' '.join(same) or 'none'}")
        else:
            raise ValueError("stop or start")

    def start_background(self, args):
        """@background ID VIRSH-ARGS...: a virsh command left running (one that
        waits on a frozen QEMU); @join ID collects it."""
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        self.mark = len(self.watcher.lines())
        proc = subprocess.Popen(["virsh", "-c", self.uri] + args[1:], cwd=self.workdir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.background[args[0]] = (proc, time.monotonic(), args[1:])
        self.note(["background"] + args, "started")

    def join(self, args):
        """@join ID [SECONDS]: waits for a background command; its output and
        duration are observed, not compared."""
        proc, started, words = self.background.pop(args[0])
        seconds = float(args[1]) if len(args) > 1 else 60
        try:
            out, err = proc.communicate(timeout=seconds)
            outcome = "finished"
            what = f"exit {proc.returncode} after {time.monotonic() - started:.3f} s"
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            outcome = f"still running after {seconds:g} s more (killed)"
            what = outcome
        text = " | ".join(line for line in (out + err).splitlines() if line.strip())
        self.observations.append((f"{show(words)} (background)", f"{what}: {text}"))
        self.note(["join", args[0]], outcome)

    def wait_monitor_pending(self, args):
        """@wait-monitor-pending NAME [SECONDS]: waits until the daemon has
        written to the QEMU monitor of NAME bytes that QEMU has not read (a
        frozen QEMU: a command waits for its answer)."""
        pid = self.need_daemon().qemu_pids().get(args[0])
        seconds = float(args[1]) if len(args) > 1 else 60
        pending = pid is not None and qh.wait_until(lambda: qh.unread_socket_bytes(pid) > 0, seconds)
        self.note(["wait-monitor-pending", args[0]], "a command waits in QEMU's monitor" if pending
                  else f"timed out after {seconds:g} s")

    def open_watcher(self):
        self.watchers += 1
        path = os.path.join(self.workdir, f"events-{self.watchers}.txt")
        self.watcher = qh.EventWatcher(self.uri, path, self.workdir).start()
        self.mark = 0
        if not self.watcher.ready():
            lines = self.watcher.all_lines()
            self.watcher.stop()
            raise RuntimeError(f"the event watcher on {self.uri} saw no event:\n" + "\n".join(lines))

    def close_watcher(self):
        """Every event the sequence caused so far precedes the marker's."""
        end = self.watcher.marker()
        events = self.watcher.lines()
        self.watcher.stop()
        if self.events:
            self.events.append("-- (the daemon restarted; a new connection watches)")
        self.events.extend(events[:end] if end is not None else
                           events + ["-- (the end marker never arrived)"])

    def run(self):
        steps = parse_sequence(self.sequence)
        try:
            self.open_watcher()
            for n, words in steps:
                started = time.monotonic()
                self.step(n, words)
                self.timings.append((time.monotonic() - started, show(words)))
            self.close_watcher()
        finally:
            if self.watcher:
                self.watcher.stop()
            for proc, _, _ in self.background.values():
                proc.kill()
                proc.wait()
        self.out.append(EVENTS_HEADER)
        self.out.extend(self.events)
        return "\n".join(self.out) + "\n"


def masks_for(daemon_dir, workdir, xml_texts, disabled):
    uuids, macs = qh.fixed_values(xml_texts)
    return qh.Masks({"<daemon-dir>": daemon_dir, "<work-dir>": workdir}, uuids, macs, disabled)


def run_on_daemon(label, exe, root, sequence, disabled):
    """Starts a private daemon, runs the sequence, stops it; returns
    (raw transcript, masks, problems)."""
    daemon = qh.PrivateDaemon(os.path.join(root, f"{label}-daemon"), exe, label)
    # The disks live under the daemon's folder, so that qemu-pids.sh finds
    # its QEMUs by their command line whatever files the daemon keeps open.
    workdir = os.path.join(daemon.dir, "work")
    os.makedirs(workdir)
    qh.log(f"{label}: starting {daemon.name} in {daemon.dir}")
    daemon.start()
    os.chmod(workdir, 0o755)
    problems = []
    run = None
    try:
        started = time.monotonic()
        run = Run(daemon.uri, workdir, sequence, daemon)
        raw = run.run()
        qh.log(f"{label}: sequence done in {time.monotonic() - started:.1f} s")
        with open(os.path.join(root, f"{label}.timings"), "w") as f:
            f.writelines(f"{s:7.2f} s  {step}\n" for s, step in run.timings)
        with open(os.path.join(root, f"{label}.observations"), "w") as f:
            json.dump(run.observations, f)
        if not daemon.alive():
            problems.append(f"{label}: {daemon.name} died during the sequence:\n{daemon.log_tail()}")
    finally:
        leak = daemon.stop()
        if leak:
            problems.append(f"{label}: {leak}")
    return raw, masks_for(daemon.dir, workdir, run.xml, disabled), problems


# Deliberately wrong transcripts: each edit (a regular expression and its
# replacement, applied once) of the system under test's raw transcript must
# make the comparison fail; each harmless edit (a value a mask hides) must not.
WRONG = [
    ("a wrong state reason", r"reached: shut off \(shutdown\)", "reached: shut off (destroyed)"),
    ("a wrong exit status", r"(\$ virsh start vm\nDomain 'vm' started\n\n)exit 0", r"\1exit 1"),
    ("another error message", r"error: Domain is already active", "error: domain is already running"),
    ("an event missing", r"event 'lifecycle' for domain 'vm': Stopped Shutdown\n", ""),
    ("one REBOOT event where libvirtd sends several",
     r"(event 'reboot' for domain 'vm'\n)+", "event 'reboot' for domain 'vm'\n"),
    ("two events swapped",
     r"(event 'lifecycle' for domain 'vm': Resumed Unpaused)\n(event 'lifecycle' for domain 'vm': Started Booted)",
     r"\2\n\1"),
]
HARMLESS = [
    ("the CPU time", r"CPU time:\s+\S+", "CPU time:       99.9s"),
    ("the pty number", r"/dev/pts/\d+", "/dev/pts/77"),
    ("a domain id", r"<domain type='qemu' id='\d+'>", "<domain type='qemu' id='42'>"),
    ("a generated uuid", r"(\$ virsh dumpxml scratch\n<domain type='qemu' id='\d+'>\n  <name>scratch</name>\n"
     r"  <uuid>)[0-9a-f-]+", r"\g<1>00000000-0000-4000-8000-000000000000"),
]


def check_catches(ref_masked, sut_raw, sut_masks):
    """Shows that wrong transcripts are caught and masked values are not."""
    ok = True
    for kind, edits, want_equal in (("wrong", WRONG, False), ("harmless", HARMLESS, True)):
        for what, pattern, new in edits:
            edited, n = re.subn(pattern, new, sut_raw, count=1)
            if n == 0:
                print(f"check: cannot apply {kind} edit '{what}' (no match)")
                ok = False
                continue
            equal = sut_masks.apply(edited) == ref_masked
            if want_equal:
                print(f"check: with {what} changed, the transcript still compares "
                      f"{'equal' if equal else 'UNEQUAL'}")
            else:
                print(f"check: a transcript with {what} is {'NOT caught' if equal else 'caught'}")
            ok &= equal == want_equal
    return ok


def observe(root):
    """Prints the observations (timings, outcomes of waiting calls) of both
    runs side by side: measured, never compared."""
    obs = {}
    for label in ("reference", "sut"):
        try:
            with open(os.path.join(root, f"{label}.observations")) as f:
                obs[label] = dict(json.load(f))
        except OSError:
            obs[label] = {}
    keys = list(dict.fromkeys(list(obs["reference"]) + list(obs["sut"])))
    if not keys:
        return
    width = max(len(k) for k in keys)
    print(f"observations (not compared): {'call':{width}} | reference | sut")
    for k in keys:
        print(f"  {k:{width}} | {obs['reference'].get(k, '-')} | {obs['sut'].get(k, '-')}")


def judge(root, ref_raw, ref_masks, sut_raw, sut_masks, problems, args):
    """Compares two raw transcripts under their masks; prints the verdict, the
    diff, the checks; keeps everything in ROOT. True when all is well."""
    ref_masked, sut_masked = ref_masks.apply(ref_raw), sut_masks.apply(sut_raw)
    for name, text in (("reference.txt", ref_raw), ("sut.txt", sut_raw),
                       ("reference.masked", ref_masked), ("sut.masked", sut_masked)):
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    observe(root)
    # What the reference must show, so that equal transcripts mean something.
    must = [w[1] for _, w in parse_sequence(args.current) if w[0] == "@reference-shows"]
    problems = list(problems) + [f"the reference transcript lacks \"{w}\""
                                 for w in must if w not in ref_raw]
    if ref_masked == sut_masked:
        commands = sum(1 for line in ref_raw.splitlines() if line.startswith("$ "))
        events = sum(1 for line in ref_raw.splitlines() if line.startswith("event "))
        print(f"{args.sut_name} (sut) and {args.ref_name} (reference): identical masked "
              f"transcripts ({commands} commands, {events} events)")
        same = True
    else:
        print(f"{args.sut_name} (sut) differs from {args.ref_name} (reference):")
        sys.stdout.writelines(difflib.unified_diff(
            ref_masked.splitlines(True), sut_masked.splitlines(True),
            "reference (masked)", "sut (masked)"))
        same = False
    # The deliberate edits are written for lifecycle.txt.
    caught = True
    if args.check_catches and os.path.basename(args.current) == os.path.basename(DEFAULT_SEQUENCE):
        caught = check_catches(ref_masked, sut_raw, sut_masks)
    for p in problems:
        print(f"problem: {p}")
    if args.show:
        print(ref_masked)
    return same and caught and not problems


def compare(args):
    qh.check_host()
    qh.guest_image()
    sut = None if args.sut in ("", "libvirtd") else os.path.abspath(args.sut)
    ref = None if args.ref in ("", "libvirtd") else os.path.abspath(args.ref)
    args.sut_name = os.path.basename(sut) if sut else "libvirtd"
    args.ref_name = os.path.basename(ref) if ref else "libvirtd"
    top = qh.new_dir("va-qemu-transcript.")
    ok = False
    verdicts = []
    try:
        for sequence in map(sequence_path, args.sequence or [DEFAULT_SEQUENCE]):
            name = os.path.splitext(os.path.basename(sequence))[0]
            root = os.path.join(top, name)
            os.mkdir(root)
            os.chmod(root, 0o755)
            print(f"== {name}: {args.sut_name} (sut) against {args.ref_name} (reference)", flush=True)
            # Both daemons run the sequence at once, each in its own folders.
            results = {}

            def one(label, exe):
                try:
                    results[label] = run_on_daemon(label, exe, root, sequence, args.unmask)
                except Exception as e:  # reported below, after the other run ended
                    results[label] = e

            runs = [threading.Thread(target=one, args=(label, exe))
                    for label, exe in (("reference", ref), ("sut", sut))]
            for t in runs:
                t.start()
                if args.serial:
                    t.join()
            for t in runs:
                t.join()
            for label in ("reference", "sut"):
                if isinstance(results[label], Exception):
                    raise results[label]
            (ref_raw, ref_masks, p1), (sut_raw, sut_masks, p2) = results["reference"], results["sut"]
            args.current = sequence
            verdicts.append(judge(root, ref_raw, ref_masks, sut_raw, sut_masks, p1 + p2, args))
        ok = all(verdicts)
    finally:
        if args.keep or not ok:
            print(f"transcripts kept in {top} (transcript.py recheck {top}/NAME)")
        else:
            shutil.rmtree(top, ignore_errors=True)
    return 0 if ok else 1


def recheck(args):
    """Judges the transcripts a `compare --keep` left in ROOT again (after a
    change to the masks or the checks), without running any daemon."""
    root = os.path.abspath(args.root)
    args.sut_name, args.ref_name = "sut", "reference"
    # compare keeps each sequence's files in a folder named after it.
    args.current = args.sequence or sequence_path(os.path.basename(root) + ".txt")
    loaded = []
    for label in ("reference", "sut"):
        with open(os.path.join(root, f"{label}.txt")) as f:
            raw = f.read()
        workdir = os.path.join(root, f"{label}-daemon", "work")
        xml = []
        for name in sorted(os.listdir(workdir)):
            if name.endswith(".xml"):
                with open(os.path.join(workdir, name)) as f:
                    xml.append(f.read())
        loaded.append((raw, masks_for(os.path.join(root, f"{label}-daemon"), workdir, xml, args.unmask)))
    (ref_raw, ref_masks), (sut_raw, sut_masks) = loaded
    return 0 if judge(root, ref_raw, ref_masks, sut_raw, sut_masks, [], args) else 1


def run_only(args):
    workdir = args.workdir or qh.new_dir("va-qemu-run.")
    daemon = None
    if args.daemon_dir:
        exe = None if args.daemon in ("", "libvirtd") else os.path.abspath(args.daemon)
        daemon = qh.PrivateDaemon(args.daemon_dir, exe)
    run = Run(args.uri, workdir, sequence_path(args.sequence), daemon)
    raw = run.run()
    with open(args.out, "w") as f:
        f.write(raw)
    with open(args.out + ".masked", "w") as f:
        f.write(masks_for(args.daemon_dir, workdir, run.xml, args.unmask).apply(raw))
    return 0


def as_root():
    """Not root: run again through passwordless sudo when there is one (a CI
    runner), else go on and let check_host() skip."""
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        env = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("VA_")]
        os.execvp("sudo", ["sudo", "-n", "env"] + env + [PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare", help="reference daemon against the system under test")
    c.add_argument("--sut", default=os.environ.get("VA_QEMU_SUT", "libvirtd"),
                   help="libvirtd or the path of a daemon started like it (virtactord); "
                        "default $VA_QEMU_SUT or libvirtd")
    c.add_argument("--ref", default="libvirtd", help="the reference daemon (libvirtd)")
    c.add_argument("--check-catches", action="store_true",
                   help="also show that deliberately wrong transcripts are caught (lifecycle.txt)")
    c.add_argument("--keep", action="store_true", help="keep the temp folder with the transcripts")
    c.add_argument("--show", action="store_true", help="print the masked reference transcript")
    k = sub.add_parser("recheck", help="judge the transcripts a compare --keep left again")
    k.add_argument("root")
    k.add_argument("--check-catches", action="store_true")
    k.add_argument("--show", action="store_true")
    k.add_argument("--unmask", action="append", default=[], metavar="MASK")
    k.add_argument("--sequence", help="the sequence the transcripts ran (default: the folder's name)")
    r = sub.add_parser("run", help="run the sequence against a running daemon")
    r.add_argument("--uri", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--workdir")
    r.add_argument("--daemon-dir", help="the folder of a daemon started by start-qemu-daemon.sh: "
                   "masked as <daemon-dir>, and the fault directives work")
    r.add_argument("--daemon", default="libvirtd", help="that daemon's binary (libvirtd)")
    c.add_argument("--sequence", action="append", metavar="FILE",
                   help="a sequence file, repeatable (default lifecycle.txt); fresh daemons for each")
    c.add_argument("--serial", action="store_true",
                   help="run the reference, then the system under test (default: both at once)")
    r.add_argument("--sequence", default=DEFAULT_SEQUENCE)
    for sp in (c, r):
        sp.add_argument("--unmask", action="append", default=[], metavar="MASK",
                        help=f"turn a mask off ({', '.join(qh.Masks.NAMES)})")
    args = p.parse_args()
    if args.cmd == "compare" and os.geteuid() != 0:
        as_root()
    try:
        return {"compare": compare, "recheck": recheck, "run": run_only}[args.cmd](args)
    except qh.Skip as e:
        print(f"skipped: {e}")
        return qh.SKIP


if __name__ == "__main__":
    sys.exit(main())
