"""Shared pieces of the qemu interop harness (tests/interop/qemu/) and of the
qemu benchmark (bench/qemu/): a private daemon serving qemu:///system, the
test guest's disks and domain XML, virsh runs, the event watcher, the QEMU
processes of a run, and the named masks that hide what cannot match between
two daemons.

Runs under /usr/bin/python3 (python3-libvirt is only needed by the callers
that import libvirt themselves). Every wait polls with a deadline.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START = os.path.join(HERE, "start-qemu-daemon.sh")
STOP = os.path.join(HERE, "stop-qemu-daemon.sh")
PIDS = os.path.join(HERE, "qemu-pids.sh")
DATA = os.path.join(HERE, "data")
SKIP = 77


class Skip(Exception):
    """This host cannot run the harness (not root, a package missing)."""


def log(msg):
    print(f"[qemu-harness] {msg}", file=sys.stderr, flush=True)


def wait_until(pred, seconds, step=0.05):
    """Polls pred() until it returns a true value or the deadline passes;
    returns the last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def guest_image():
    """The ACPI test guest's qcow2 (built by CMake, target qemu_test_guest):
    VA_QEMU_GUEST_QCOW2, else the build tree's tests/drivers/qemu/guest/."""
    path = os.environ.get("VA_QEMU_GUEST_QCOW2")
    if not path:
        build = os.environ.get("VA_BINARY_DIR", "build")
        path = os.path.join(build, "tests", "drivers", "qemu", "guest", "disk.qcow2")
    if not os.path.isfile(path):
        raise Skip(f"the test guest {path} is not built (cmake --build ... --target qemu_test_guest)")
    return os.path.abspath(path)


def check_host():
    """Raises Skip unless this host can run private qemu daemons."""
    if os.geteuid() != 0:
        raise Skip("needs root (a private mount namespace, qemu:///system)")
    for tool in ("virsh", "unshare", "qemu-system-x86_64", "qemu-img", "ss"):
        if shutil.which(tool) is None:
            raise Skip(f"{tool} is not installed")


class PrivateDaemon:
    """A daemon serving qemu:///system on DIR/libvirt-sock, started and stopped
    by start-qemu-daemon.sh / stop-qemu-daemon.sh: libvirtd, or the binary
    exe (virtactord) started the same way."""

    def __init__(self, dir, exe=None, label=None):
        self.dir = os.path.abspath(dir)
        self.exe = exe
        self.name = os.path.basename(exe) if exe else "libvirtd"
        self.label = label or self.name

    @property
    def uri(self):
        return f"qemu+unix:///system?socket={self.dir}/libvirt-sock"

    # virtactord keeps its qemu driver's state in folders of its own
    # (/etc/virtactor/qemu ...); these keys put them under DIR, beside what
    # the mount namespace gives libvirtd, so that runs never share state.
    VIRTACTORD_CONF = "\n".join([
        'qemu_config_dir = "@DIR@/etc/qemu"',
        'qemu_run_dir = "@DIR@/run/qemu"',
        'qemu_lib_dir = "@DIR@/lib/qemu"',
        'qemu_log_dir = "@DIR@/log/qemu"',
    ])

    def _env(self):
        env = dict(os.environ)
        if self.exe:
            env["LIBVIRTD"] = self.exe
            if self.name == "virtactord" and "VA_QEMU_DAEMON_CONF" not in env:
                env["VA_QEMU_DAEMON_CONF"] = self.VIRTACTORD_CONF
        else:
            env.pop("LIBVIRTD", None)
        return env

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        cp = subprocess.run(["sh", START, self.dir], env=self._env(),
                            capture_output=True, text=True)
        if cp.returncode == SKIP:
            raise Skip(cp.stderr.strip())
        if cp.returncode != 0:
            why = cp.stderr.strip().split("\n")[0].replace(f"{START}: ", "") or f"exit {cp.returncode}"
            raise RuntimeError(f"{self.label} did not start: {why}\n{cp.stderr}")
        return self

    def stop(self, daemon_only=False):
        """Stops the daemon (and, unless daemon_only, every QEMU of the run);
        returns stop-qemu-daemon.sh's stderr ('' when all went away)."""
        argv = ["sh", STOP] + (["--daemon-only"] if daemon_only else []) + [self.dir, self.name]
        cp = subprocess.run(argv, capture_output=True, text=True)
        return cp.stderr.strip() if cp.returncode != 0 else ""

    def pid(self):
        try:
            with open(os.path.join(self.dir, f"{self.name}.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def alive(self):
        pid = self.pid()
        if pid is None:
            return False
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(") ")[1][0] != "Z"
        except OSError:
            return False

    def qemu_pids(self):
        """{domain name: QEMU pid} of this run's live QEMU processes."""
        cp = subprocess.run(["sh", PIDS, self.dir], capture_output=True, text=True, check=True)
        pids = {}
        for line in cp.stdout.splitlines():
            pid, _, name = line.partition(" ")
            pids[name] = int(pid)
        return pids

    def log_tail(self, chars=3000):
        try:
            with open(os.path.join(self.dir, "libvirtd.log"), errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""


def pid_gone(pid):
    """True once pid has exited (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] == "Z"
    except OSError:
        return True


def unread_socket_bytes(pid):
    """Bytes waiting unread in the receive queues of pid's unix stream
    sockets (`ss -x -p`): a frozen QEMU leaves a monitor command there."""
    cp = subprocess.run(["ss", "-x", "-p", "-H"], capture_output=True, text=True)
    total = 0
    for line in cp.stdout.splitlines():
        if f"pid={pid}," in line:
            fields = line.split()
            if len(fields) > 2 and fields[2].isdigit():
                total += int(fields[2])
    return total


# --- domain XML and disks -------------------------------------------------

def render(template, **values):
    """Reads data/TEMPLATE and replaces every @KEY@ by values[key]."""
    with open(os.path.join(DATA, template)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"{template}: no value for {', '.join(sorted(set(left)))}")
    return text


def make_disk(workdir, name, image=None):
    """A private copy of the test guest for domain name: WORKDIR/images/NAME.qcow2."""
    images = os.path.join(workdir, "images")
    os.makedirs(images, exist_ok=True)
    os.chmod(workdir, 0o755)
    path = os.path.join(images, f"{name}.qcow2")
    shutil.copyfile(image or guest_image(), path)
    return path


def domain_xml(workdir, name, memory_mib=64, uuid=None, mac=None, image=None):
    """Domain XML of the test guest (data/domain.xml.in) with its own disk.
    Without uuid or mac the daemon generates them."""
    disk = make_disk(workdir, name, image)
    extra_uuid = f"<uuid>{uuid}</uuid>" if uuid else ""
    extra_mac = f"<mac address='{mac}'/>" if mac else ""
    return render("domain.xml.in", name=name, uuid=extra_uuid, memory=memory_mib * 1024,
                  disk=disk, mac=extra_mac)


# --- virsh ----------------------------------------------------------------

VIRSH_TIMEOUT = 120


def virsh(uri, args, cwd=None, timeout=VIRSH_TIMEOUT):
    """Runs `virsh -c URI ARGS...`; returns (exit status, stdout, stderr).
    A run past the timeout is killed and reported with status 'timeout'."""
    if isinstance(args, str):
        args = shlex.split(args)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    env.pop("VIRSH_DEFAULT_CONNECT_URI", None)
    try:
        cp = subprocess.run(["virsh", "-c", uri] + args, cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
        return cp.returncode, cp.stdout, cp.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return "timeout", out, err


def domstate(uri, name):
    """`virsh domstate --reason NAME`, stripped ('' on failure)."""
    rc, out, _ = virsh(uri, ["domstate", "--reason", name], timeout=60)
    return out.strip() if rc == 0 else ""


def guest_booted(uri, name):
    """True once the guest has read its boot sector (domstats block.0.rd.reqs
    > 0): the boot sector arms the ACPI power button a few instructions later.
    A power button pressed before that is lost (QEMU's PIIX4 drops it while
    PWRBTN_EN is clear), so shutdown and reboot wait for this."""
    rc, out, _ = virsh(uri, ["domstats", "--block", name], timeout=60)
    m = re.search(r"block\.0\.rd\.reqs=(\d+)", out)
    return rc == 0 and m is not None and int(m.group(1)) > 0


class EventWatcher:
    """`virsh event --all --loop` on a connection of its own, writing every
    event line to a file. ready() proves it is registered by defining and
    undefining a probe domain until its events show up (the probe's lines stay
    out of lines())."""

    def __init__(self, uri, path, workdir):
        self.uri = uri
        self.path = path
        self.workdir = workdir
        self.proc = None
        self.skip = 0

    def start(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen(["virsh", "-c", self.uri, "event", "--all", "--loop"],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        return self

    def all_lines(self):
        with open(self.path, errors="replace") as f:
            return [line.rstrip("\n") for line in f if line.strip()]

    def lines(self):
        return self.all_lines()[self.skip:]

    def count(self, text, since=0):
        return sum(1 for line in self.lines()[since:] if text in line)

    def marker(self, seconds=60):
        """Defines and undefines the probe domain and waits until its
        Undefined event arrives: every event the daemon queued before has
        then reached the watcher. Returns the index in lines() where the
        marker's own events start, or None when they never came."""
        probe = os.path.join(self.workdir, "probe.xml")
        if not os.path.exists(probe):
            with open(probe, "w") as f:
                f.write(domain_xml(self.workdir, "probe"))
        start = len(self.lines())
        virsh(self.uri, ["define", probe])
        virsh(self.uri, ["undefine", "probe"])
        seen = wait_until(lambda: self.count("'probe': Undefined", start) > 0, seconds)
        if not seen:
            return None
        lines = self.lines()
        for i in range(start, len(lines)):
            if "'probe'" in lines[i]:
                return i
        return None

    def ready(self, seconds=60):
        """Waits until the watcher sees events; later lines() start after."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.marker(seconds=5) is not None:
                self.skip = len(self.all_lines())
                return True
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.out.close()
        self.proc = None


# --- masks ------------------------------------------------------------------

UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MAC_RE = r"52:54:00(?::[0-9a-f]{2}){3}"


def _mask_domain_id(line):
    line = re.sub(r"^(Id:\s+)\d+$", r"\1<id>", line)  # dominfo
    line = re.sub(r"^(domain id: )\d+$", r"\1<id>", line)  # pycycle.py
    line = re.sub(r"(<domain type='\w+' id=')\d+'", r"\1<id>'", line)  # dumpxml
    # a row of virsh list: " ID   NAME   STATE"
    return re.sub(r"^ \d+(?=\s+\S+\s+(running|idle|paused|in shutdown|shut off|crashed|"
                  r"pmsuspended)$)", " <id>", line)


def _mask_cpu_time(line):
    return re.sub(r"^(CPU time:\s+|cpu time: ).*$", r"\1<time>", line)


class Masks:
    """The named masks: each hides one kind of value that cannot match between
    two daemons (or two runs of one daemon). They apply line by line, in the
    order of NAMES, then "repeated reboot events" collapses event lines.
    UUIDs and MACs that the domain XML gives are never masked; run folders are
    named by their role (<daemon-dir>, <work-dir>)."""

    NAMES = [
        "run folders",             # temp folders: the daemon's state, the disks and XML
        "domain id",               # ids come from a daemon-wide counter
        "cpu time",                # CPU time used so far (dominfo, python's info())
        "pty path",                # the pty the serial console got
        "generated uuid",          # uuids the daemon made up (XML without <uuid>)
        "generated mac",           # MACs the daemon made up (interface without <mac>)
        "pid",                     # QEMU and daemon pids
        "repeated reboot events",  # 2 or 3 REBOOT events per reset, see collapse_repeats
    ]

    def __init__(self, paths=None, fixed_uuids=(), fixed_macs=(), disabled=()):
        # paths: {placeholder: path}; longest paths first (one may hold another).
        self.paths = sorted(((p, k) for k, p in (paths or {}).items() if p),
                            key=lambda pk: len(pk[0]), reverse=True)
        self.fixed_uuids = set(fixed_uuids)
        self.fixed_macs = set(fixed_macs)
        self.disabled = set(disabled)
        unknown = self.disabled - set(self.NAMES)
        if unknown:
            raise ValueError(f"unknown mask(s): {', '.join(sorted(unknown))}; "
                             f"masks: {', '.join(self.NAMES)}")

    def _line(self, line):
        on = lambda name: name not in self.disabled  # noqa: E731
        if on("run folders"):
            for path, placeholder in self.paths:
                line = line.replace(path, placeholder)
        if on("domain id"):
            line = _mask_domain_id(line)
        if on("cpu time"):
            line = _mask_cpu_time(line)
        if on("pty path"):
            line = re.sub(r"/dev/pts/\d+", "/dev/pts/<n>", line)
        if on("generated uuid"):
            line = re.sub(UUID_RE, lambda m: m.group(0) if m.group(0) in self.fixed_uuids
                          else "<uuid>", line)
        if on("generated mac"):
            line = re.sub(MAC_RE, lambda m: m.group(0) if m.group(0) in self.fixed_macs
                          else "<mac>", line)
        if on("pid"):
            line = re.sub(r"\b(pid[ =:]+)\d+", r"\1<pid>", line)
        return line

    def apply(self, text):
        lines = [self._line(line) for line in text.split("\n")]
        if "repeated reboot events" not in self.disabled:
            lines = collapse_repeats(lines)
        return "\n".join(lines)


def collapse_repeats(lines):
    """Mask "repeated reboot events": one system_reset gives 2 or 3 RESET
    events (SeaBIOS resets the machine again), so libvirtd itself sends 2 or 3
    REBOOT events from run to run. A run of identical reboot event lines
    becomes one line marked (repeated)."""
    out = []
    for line in lines:
        if line.startswith("event 'reboot'") and out and out[-1].split(" (repeated)")[0] == line:
            if not out[-1].endswith(" (repeated)"):
                out[-1] += " (repeated)"
            continue
        out.append(line)
    return out


def fixed_values(xml_texts):
    """The uuids and MACs domain XML files give explicitly (never masked)."""
    uuids, macs = set(), set()
    for text in xml_texts:
        uuids.update(re.findall(r"<uuid>(" + UUID_RE + r")</uuid>", text))
        macs.update(re.findall(r"<mac address='(" + MAC_RE + r")'", text))
    return uuids, macs


def new_dir(prefix, root=None):
    path = tempfile.mkdtemp(prefix=prefix, dir=root or os.environ.get("TMPDIR", "/tmp"))
    os.chmod(path, 0o755)
    return path
