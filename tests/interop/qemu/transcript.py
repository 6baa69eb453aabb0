#!/usr/bin/python3
"""Transcript comparison of two daemons serving qemu:///system.

A sequence file (lifecycle.txt) of virsh commands runs against a URI, each
command a virsh process of its own, while `virsh event --all --loop` holds a
second connection. The transcript records every command's stdout, stderr and
exit status, the directives' outcomes, then every event the held connection
saw. Two transcripts compare equal once the named masks (qharness.Masks) hide
what cannot match (run folders, domain ids, CPU time, pty paths, generated
uuids and MACs, pids, the 2-or-3 REBOOT events of one reset).

  transcript.py compare [--sut libvirtd|PATH] [--ref libvirtd|PATH] [--check-catches]
      starts the reference daemon, runs the sequence, stops it; the same for
      the system under test; diffs the masked transcripts. Exit 0 when equal,
      1 when they differ, 77 when the host cannot run it.
  transcript.py run --uri URI --out FILE
      runs the sequence against a daemon that already runs; writes FILE (raw)
      and FILE.masked.

See docs/qemu-interop.md.
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qharness as qh  # noqa: E402

PYTHON = "/usr/bin/python3"
EVENTS_HEADER = "== events seen by the held connection"


def parse_sequence(path):
    """[(line number, words)] of a sequence file, comments and blanks dropped."""
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


class Run:
    """One run of a sequence against one URI."""

    def __init__(self, uri, workdir, sequence):
        self.uri = uri
        self.workdir = workdir
        self.sequence = sequence
        self.out = []
        self.xml = []
        self.mark = 0  # events seen when the last command started
        self.timings = []  # (seconds, step): not part of the transcript

    def record(self, title, rc, stdout, stderr):
        self.out.append(title)
        lines = stdout.split("\n")
        if lines[-1] == "":
            lines.pop()
        self.out.extend(lines)
        for line in stderr.splitlines():
            self.out.append(f"! {line}")
        self.out.append(f"exit {rc}")

    def step(self, n, words):
        head, args = words[0], words[1:]
        if head == "@xml":
            self.render_xml(n, args)
        elif head == "@wait-state":
            self.wait_state(n, args)
        elif head == "@wait-events":
            self.wait_events(n, args)
        elif head == "@wait-boot":
            self.wait_boot(n, args)
        elif head == "@python":
            self.python(args)
        elif head.startswith("@"):
            raise ValueError(f"{self.sequence}:{n}: unknown directive {head}")
        else:
            self.mark = len(self.watcher.lines())
            rc, out, err = qh.virsh(self.uri, words, cwd=self.workdir)
            self.record(f"$ virsh {shlex.join(words)}", rc, out, err)

    def render_xml(self, n, args):
        if len(args) < 2:
            raise ValueError(f"{self.sequence}:{n}: @xml FILE NAME [uuid=U] [mac=M] [memory=MiB]")
        opts = dict(a.split("=", 1) for a in args[2:])
        text = qh.domain_xml(self.workdir, args[1], memory_mib=int(opts.get("memory", 64)),
                             uuid=opts.get("uuid"), mac=opts.get("mac"))
        with open(os.path.join(self.workdir, args[0]), "w") as f:
            f.write(text)
        self.xml.append(text)

    def wait_state(self, n, args):
        name, want = args[0], args[1]
        seconds = float(args[2]) if len(args) > 2 else 60
        state = qh.wait_until(lambda: (lambda s: s if s.startswith(want) else None)(
            qh.domstate(self.uri, name)), seconds, step=0.1)
        self.out.append(f"@ wait-state {name} {want!r}")
        self.out.append(f"reached: {state}" if state else
                        f"timed out after {seconds:g} s in: {qh.domstate(self.uri, name)}")

    def wait_boot(self, n, args):
        name = args[0]
        seconds = float(args[1]) if len(args) > 1 else 60
        booted = qh.wait_until(lambda: qh.guest_booted(self.uri, name), seconds, step=0.1)
        self.out.append(f"@ wait-boot {name}")
        self.out.append("booted" if booted else f"timed out after {seconds:g} s")

    def wait_events(self, n, args):
        count, text = int(args[0]), args[1]
        seconds = float(args[2]) if len(args) > 2 else 60
        seen = qh.wait_until(lambda: self.watcher.count(text, self.mark) >= count, seconds)
        self.out.append(f"@ wait-events {count} {text!r}")
        self.out.append("seen" if seen else
                        f"timed out after {seconds:g} s, saw {self.watcher.count(text, self.mark)}")

    def python(self, args):
        script = os.path.join(qh.DATA, args[0])
        self.mark = len(self.watcher.lines())
        try:
            cp = subprocess.run([PYTHON, script, self.uri] + args[1:], cwd=self.workdir,
                                capture_output=True, text=True, timeout=qh.VIRSH_TIMEOUT)
            rc, out, err = cp.returncode, cp.stdout, cp.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        self.record(f"$ python3 {shlex.join(args)}", rc, out, err)

    def run(self):
        steps = parse_sequence(self.sequence)
        self.watcher = qh.EventWatcher(self.uri, os.path.join(self.workdir, "events.txt"),
                                       self.workdir).start()
        try:
            if not self.watcher.ready():
                raise RuntimeError(f"the event watcher on {self.uri} saw no event:\n"
                                   + "\n".join(self.watcher.all_lines()))
            for n, words in steps:
                t0 = time.monotonic()
                self.step(n, words)
                self.timings.append((time.monotonic() - t0, shlex.join(words)))
            # Every event the sequence caused precedes the marker's.
            end = self.watcher.marker()
            events = self.watcher.lines()
            if end is None:
                self.out.append(EVENTS_HEADER + " (the end marker never arrived)")
            else:
                events = events[:end]
                self.out.append(EVENTS_HEADER)
            self.out.extend(events)
        finally:
            self.watcher.stop()
        return "\n".join(self.out) + "\n"


def masks_for(daemon_dir, workdir, xml_texts, disabled):
    uuids, macs = qh.fixed_values(xml_texts)
    return qh.Masks({"<daemon-dir>": daemon_dir, "<work-dir>": workdir}, uuids, macs, disabled)


def run_on_daemon(label, exe, root, sequence, disabled):
    """Starts a private daemon, runs the sequence, stops it; returns
    (raw transcript, masks, problems)."""
    daemon = qh.PrivateDaemon(os.path.join(root, f"{label}-daemon"), exe, label)
    workdir = os.path.join(root, f"{label}-work")
    os.makedirs(workdir)
    os.chmod(workdir, 0o755)
    qh.log(f"{label}: starting {daemon.name} in {daemon.dir}")
    daemon.start()
    problems = []
    try:
        started = time.monotonic()
        run = Run(daemon.uri, workdir, sequence)
        raw = run.run()
        qh.log(f"{label}: sequence done in {time.monotonic() - started:.1f} s")
        with open(os.path.join(root, f"{label}.timings"), "w") as f:
            f.writelines(f"{s:7.2f} s  {step}\n" for s, step in run.timings)
        if not daemon.alive():
            problems.append(f"{label}: {daemon.name} died during the sequence:\n{daemon.log_tail()}")
    finally:
        leak = daemon.stop()
        if leak:
            problems.append(f"{label}: {leak}")
    return raw, masks_for(daemon.dir, workdir, run.xml, disabled), problems


# What the reference transcript must show, so that equal transcripts mean
# something (the guest really booted, shut down, rebooted; events flowed).
REFERENCE_MUST_SHOW = [
    "event 'lifecycle' for domain 'vm': Started Booted",
    "event 'lifecycle' for domain 'vm': Suspended Paused",
    "event 'lifecycle' for domain 'vm': Shutdown Finished after guest request",
    "event 'lifecycle' for domain 'vm': Stopped Shutdown",
    "event 'lifecycle' for domain 'vm': Stopped Destroyed",
    "event 'reboot' for domain 'vm'",
    "event 'lifecycle' for domain 'vm': Undefined Removed",
    "event 'lifecycle' for domain 'scratch': Started Booted",
    "reached: shut off (shutdown)",
    "error: Domain is already active",
    "event vm: Stopped detail=1",
]

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


def judge(root, ref_raw, ref_masks, sut_raw, sut_masks, problems, args):
    """Compares two raw transcripts under their masks; prints the verdict, the
    diff, the checks; keeps everything in ROOT. True when all is well."""
    ref_masked, sut_masked = ref_masks.apply(ref_raw), sut_masks.apply(sut_raw)
    for name, text in (("reference.txt", ref_raw), ("sut.txt", sut_raw),
                       ("reference.masked", ref_masked), ("sut.masked", sut_masked)):
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    problems = list(problems) + [f"the reference transcript lacks \"{w}\""
                                 for w in REFERENCE_MUST_SHOW if w not in ref_raw]
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
    caught = check_catches(ref_masked, sut_raw, sut_masks) if args.check_catches else True
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
    root = qh.new_dir("va-qemu-transcript.")
    ok = False
    try:
        ref_raw, ref_masks, problems = run_on_daemon("reference", ref, root, args.sequence, args.unmask)
        sut_raw, sut_masks, more = run_on_daemon("sut", sut, root, args.sequence, args.unmask)
        ok = judge(root, ref_raw, ref_masks, sut_raw, sut_masks, problems + more, args)
    finally:
        if args.keep:
            print(f"transcripts kept in {root} (transcript.py recheck {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


def recheck(args):
    """Judges the transcripts a `compare --keep` left in ROOT again (after a
    change to the masks or the checks), without running any daemon."""
    root = os.path.abspath(args.root)
    args.sut_name, args.ref_name = "sut", "reference"
    loaded = []
    for label in ("reference", "sut"):
        with open(os.path.join(root, f"{label}.txt")) as f:
            raw = f.read()
        workdir = os.path.join(root, f"{label}-work")
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
    run = Run(args.uri, workdir, args.sequence)
    raw = run.run()
    with open(args.out, "w") as f:
        f.write(raw)
    with open(args.out + ".masked", "w") as f:
        f.write(masks_for(args.daemon_dir, workdir, run.xml, args.unmask).apply(raw))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    default_seq = os.path.join(qh.HERE, "lifecycle.txt")
    c = sub.add_parser("compare", help="reference daemon against the system under test")
    c.add_argument("--sut", default=os.environ.get("VA_QEMU_SUT", "libvirtd"),
                   help="libvirtd or the path of a daemon started like it (virtactord); "
                        "default $VA_QEMU_SUT or libvirtd")
    c.add_argument("--ref", default="libvirtd", help="the reference daemon (libvirtd)")
    c.add_argument("--check-catches", action="store_true",
                   help="also show that deliberately wrong transcripts are caught")
    c.add_argument("--keep", action="store_true", help="keep the temp folder with the transcripts")
    c.add_argument("--show", action="store_true", help="print the masked reference transcript")
    k = sub.add_parser("recheck", help="judge the transcripts a compare --keep left again")
    k.add_argument("root")
    k.add_argument("--check-catches", action="store_true")
    k.add_argument("--show", action="store_true")
    k.add_argument("--unmask", action="append", default=[], metavar="MASK")
    r = sub.add_parser("run", help="run the sequence against a running daemon")
    r.add_argument("--uri", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--workdir")
    r.add_argument("--daemon-dir", help="the daemon's folder, masked as <daemon-dir>")
    for sp in (c, r):
        sp.add_argument("--sequence", default=default_seq)
        sp.add_argument("--unmask", action="append", default=[], metavar="MASK",
                        help=f"turn a mask off ({', '.join(qh.Masks.NAMES)})")
    args = p.parse_args()
    try:
        return {"compare": compare, "recheck": recheck, "run": run_only}[args.cmd](args)
    except qh.Skip as e:
        print(f"skipped: {e}")
        return qh.SKIP


if __name__ == "__main__":
    sys.exit(main())
