#!/usr/bin/python3
"""The probes of issue 12, as a measuring tool (not a test): each starts a
private daemon (virtactord, or libvirtd with --libvirtd) on a temp directory,
attacks it the way the issue describes and prints what it cost.

usage: probes.py DAEMON [PROBE...]      (run as root; DAEMON = path to the binary)
       probes.py --libvirtd [PROBE...]  (the host's libvirtd, for comparison)

Probes: len32 flood flood_caps flood_ro disclosure sparse fifo churn keepalive
pidfile group. VA_PROBE_CONFIG adds config lines ("\\n" between lines), e.g.
VA_PROBE_CONFIG='allow_test_driver_files = 1'. docs/security.md records what
they printed before and after the fixes.
"""
import os
import pwd
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

REMOTE = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE = 0, 1, 2
PROC_OPEN, PROC_CLOSE, PROC_GET_VERSION, PROC_SUPPORTS_FEATURE = 1, 2, 4, 60
PROC_LIST_ALL_DOMAINS = 273
PROC_GET_CAPABILITIES = 7


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def frame(prog, proc, typ, serial, body=b""):
    hdr = struct.pack(">IIiiIi", prog, 1, proc, typ, serial, 0)
    return struct.pack(">I", 4 + len(hdr) + len(body)) + hdr + body


def open_args(uri, flags=0):
    return struct.pack(">I", 1) + xdr_string(uri) + struct.pack(">I", flags)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def settle_rss(pid, timeout=10.0):
    """RSS once it stopped changing for 0.5 s (or at the deadline)."""
    end = time.time() + timeout
    last = rss_kib(pid)
    stable_since = time.time()
    while time.time() < end:
        time.sleep(0.1)
        now = rss_kib(pid)
        if abs(now - last) > 256:
            last = now
            stable_since = time.time()
        elif time.time() - stable_since > 0.5:
            break
    return last


class Conn:
    def __init__(self, path_or_port):
        if isinstance(path_or_port, int):
            self.s = socket.create_connection(("127.0.0.1", path_or_port))
        else:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(path_or_port)
        self.serial = 0
        self.buf = b""

    def send(self, proc, body=b"", prog=REMOTE, typ=CALL, serial=None):
        if serial is None:
            serial = self.serial
            self.serial += 1
        self.s.sendall(frame(prog, proc, typ, serial, body))
        return serial

    def read(self, timeout=30.0):
        self.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= n:
                    msg, self.buf = self.buf[:n], self.buf[n:]
                    prog, vers, proc, typ, serial, status = struct.unpack(">IIiiIi", msg[4:28])
                    if prog == KEEPALIVE and proc == 1:
                        self.send(2, prog=KEEPALIVE, typ=MESSAGE, serial=0)
                        continue
                    return proc, typ, serial, status, msg[28:]
            chunk = self.s.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk

    def call(self, proc, body=b"", timeout=30.0):
        serial = self.send(proc, body)
        while True:
            m = self.read(timeout)
            if m is None or (m[1] == REPLY and m[2] == serial):
                return m

    def close(self):
        self.s.close()


def error_text(body):
    """The message of a remote_error (code, domain, optional message...)."""
    if len(body) < 12 or struct.unpack(">I", body[8:12])[0] == 0:
        return ""
    (n,) = struct.unpack(">I", body[12:16])
    return body[16 : 16 + n].decode(errors="replace")


class Daemon:
    def __init__(self, binary, config="", libvirtd=False, extra_env=None):
        self.dir = tempfile.mkdtemp(prefix="va-probe-")
        os.chmod(self.dir, 0o755)
        self.binary = binary
        self.pidfile = os.path.join(self.dir, "d.pid")
        self.port = free_port()
        conf = os.path.join(self.dir, "d.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\nlisten_tcp = 1\nlisten_tls = 0\n' % self.dir)
            f.write('listen_addr = "127.0.0.1"\ntcp_port = "%d"\nauth_tcp = "none"\n' % self.port)
            f.write('unix_sock_ro_perms = "0777"\n')
            if libvirtd:
                f.write('log_outputs = "3:file:%s/libvirtd.log"\n' % self.dir)
            f.write(config)
            f.write(os.environ.get("VA_PROBE_CONFIG", "").replace("\\n", "\n") + "\n")
        env = dict(os.environ)
        if libvirtd:
            os.makedirs(self.dir + "/no-drivers")
            env["LIBVIRT_DRIVER_DIR"] = self.dir + "/no-drivers"
        env.update(extra_env or {})
        self.err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            [binary, "--listen", "-f", conf, "--pid-file", self.pidfile],
            env=env, stdout=self.err, stderr=self.err)
        self.rw = os.path.join(self.dir, "libvirt-sock")
        self.ro = os.path.join(self.dir, "libvirt-sock-ro")
        end = time.time() + 20
        while not (os.path.exists(self.pidfile) and os.path.exists(self.rw)):
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError("daemon did not start: " + open(self.err.name).read())
            time.sleep(0.05)
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def as_nobody(fn):
    """Runs fn() in a child process with the uid/gid of 'nobody'; returns its result line."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        nb = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(nb.pw_gid)
        os.setuid(nb.pw_uid)
        try:
            out = str(fn())
        except Exception as e:  # report, never crash the probe run
            out = "exception: %r" % e
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    return data.decode()


def probe_len32(d):
    base = settle_rss(d.pid)
    out = []
    conns = []
    for target in (20, 60):
        while len(conns) < target:
            c = Conn(d.ro)
            c.s.sendall(struct.pack(">I", 33554436))
            conns.append(c)
        out.append("%d conns: +%.1f MB" % (target, (settle_rss(d.pid) - base) / 1024))
    for c in conns:
        c.close()
    out.append("after close: +%.1f MB" % ((settle_rss(d.pid) - base) / 1024))
    return "; ".join(out)


def flood(d, path, n, proc=PROC_GET_VERSION):
    """n calls without reading a reply; the daemon's peak RSS meanwhile."""
    import threading
    base = settle_rss(d.pid)
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], rss_kib(d.pid))
            except OSError:
                return
            time.sleep(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    c = Conn(path)
    c.call(PROC_OPEN, open_args("test:///default"))
    c.s.settimeout(5)
    sent = 0
    batch = b"".join(frame(REMOTE, proc, CALL, i) for i in range(1000))
    start = time.time()
    try:
        while sent < n:
            c.s.sendall(batch)
            sent += 1000
    except (socket.timeout, BrokenPipeError, ConnectionResetError) as e:
        end_reason = type(e).__name__
    else:
        end_reason = "all sent"
    time.sleep(2)
    done.set()
    sampler.join()
    c.close()
    return "sent %d of %d calls in %.1f s (%s), peak RSS +%.1f MB" % (
        sent, n, time.time() - start, end_reason, (peak[0] - base) / 1024)


def probe_flood(d):
    return flood(d, d.rw, 300000)


def probe_flood_caps(d):
    return flood(d, d.rw, 100000, PROC_GET_CAPABILITIES)


def probe_flood_ro(d):
    return as_nobody(lambda: flood(d, d.ro, 50000))


def probe_disclosure(d):
    def attempt():
        c = Conn(d.ro)
        m = c.call(PROC_OPEN, open_args("test:///proc/self/environ"))
        text = error_text(m[4]) if m[3] != 0 else "(opened!)"
        leaked = "PATH=" in text or "HOME=" in text
        shadow = Conn(d.ro).call(PROC_OPEN, open_args("test:///etc/shadow"))
        stext = error_text(shadow[4]) if shadow[3] != 0 else "(opened!)"
        return "environ leaked=%s (%r); shadow: %r" % (leaked, text[:100], stext[:100])
    return as_nobody(attempt)


def probe_sparse(d):
    path = os.path.join(d.dir, "sparse.xml")
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    os.chmod(path, 0o644)
    c = Conn(d.rw)
    start = time.time()
    m = c.call(PROC_OPEN, open_args("test://" + path), timeout=120)
    took = time.time() - start
    size = len(m[4]) if m else -1
    return "reply after %.2f s, %d bytes, status %s: %r" % (
        took, size, m[3] if m else None, error_text(m[4])[:120] if m else "")


def probe_fifo(d):
    path = os.path.join(d.dir, "fifo.xml")
    os.mkfifo(path)
    os.chmod(path, 0o666)
    a = Conn(d.rw)
    a.send(PROC_OPEN, open_args("test://" + path))
    time.sleep(0.5)
    b = Conn(d.rw)
    start = time.time()
    try:
        m = b.call(PROC_OPEN, open_args("test:///default"), timeout=10)
        other = "other client's open took %.3f s" % (time.time() - start)
    except socket.timeout:
        other = "other client's open stalled > 10 s"
    try:
        ma = a.read(timeout=10)
        first = "fifo open answered: %r" % (error_text(ma[4])[:100] if ma and ma[3] else ma and "ok")
    except socket.timeout:
        first = "fifo open unanswered after 10 s"
        # Unblock the daemon: open the FIFO for writing and close it.
        with open(path, "w"):
            pass
    return other + "; " + first


def probe_churn(d, n=10000):
    base = settle_rss(d.pid)
    start = time.time()
    for i in range(n):
        c = Conn(d.rw)
        c.call(PROC_OPEN, open_args("test:///default"))
        c.call(PROC_CLOSE)
        c.close()
    after = settle_rss(d.pid)
    return "%d cycles in %.1f s: RSS %.1f -> %.1f MB" % (n, time.time() - start, base / 1024, after / 1024)


def probe_keepalive(binary, libvirtd):
    d = Daemon(binary, "keepalive_interval = 2\nkeepalive_count = 3\n", libvirtd)
    try:
        c = Conn(d.rw)
        c.call(PROC_SUPPORTS_FEATURE, struct.pack(">i", 10))
        c.call(PROC_OPEN, open_args("test:///default"))
        start = time.time()
        pings = []
        c.s.settimeout(30)
        buf = b""
        while True:
            chunk = c.s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 28:
                (n,) = struct.unpack(">I", buf[:4])
                if len(buf) < n:
                    break
                pings.append(round(time.time() - start, 1))
                buf = buf[n:]
        silent = "silent peer dropped after %.1f s (pings at %s)" % (time.time() - start, pings)
        # A peer that asks for keepalive, queues replies and never reads.
        c2 = Conn(d.rw)
        c2.call(PROC_SUPPORTS_FEATURE, struct.pack(">i", 10))
        c2.call(PROC_OPEN, open_args("test:///default"))
        c2.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c2.s.settimeout(1)
        start = time.time()
        batch = b"".join(frame(REMOTE, PROC_GET_CAPABILITIES, CALL, i) for i in range(100))
        dropped = None
        while time.time() - start < 40:
            try:
                c2.s.sendall(batch)
            except socket.timeout:
                pass
            except (BrokenPipeError, ConnectionResetError):
                dropped = time.time() - start
                break
            # Dropped? A read-side check without reading any data.
            try:
                peek = c2.s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                if peek == b"":
                    dropped = time.time() - start
                    break
            except (BlockingIOError, socket.timeout):
                pass
            except ConnectionResetError:
                dropped = time.time() - start
                break
            time.sleep(0.2)
        stalled = ("non-reading peer dropped after %.1f s" % dropped) if dropped else \
            "non-reading peer still connected after 40 s, RSS %.1f MB" % (rss_kib(d.pid) / 1024)
        return silent + "; " + stalled
    finally:
        d.stop()


def probe_pidfile(binary, libvirtd):
    d = Daemon(binary, "", libvirtd)
    try:
        other = tempfile.mkdtemp(prefix="va-probe2-")
        conf = os.path.join(other, "d.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\n' % other)
        p = subprocess.run([binary, "-f", conf, "--pid-file", d.pidfile, "-t", "1"],
                           capture_output=True, text=True, timeout=30)
        alive = d.proc.poll() is None
        return "second daemon exit %d (%s); first alive=%s, pid file present=%s" % (
            p.returncode, p.stderr.strip()[:120], alive, os.path.exists(d.pidfile))
    finally:
        d.stop()


def probe_group(binary, libvirtd):
    out = []
    for group in ("nogroup", "nosuchgroup"):
        try:
            d = Daemon(binary, 'unix_sock_group = "%s"\nunix_sock_rw_perms = "0770"\n' % group, libvirtd)
        except RuntimeError as e:
            out.append("%s: refused (%s)" % (group, str(e).strip().splitlines()[-1][:120]))
            continue
        st = os.stat(d.rw)
        import grp
        out.append("%s: socket %s:%s %o" % (group, pwd.getpwuid(st.st_uid).pw_name,
                                            grp.getgrgid(st.st_gid).gr_name, st.st_mode & 0o7777))
        d.stop()
    return "; ".join(out)


PER_DAEMON = ["len32", "flood", "flood_caps", "flood_ro", "disclosure", "sparse", "fifo", "churn"]
OWN_DAEMON = ["keepalive", "pidfile", "group"]


def main():
    args = sys.argv[1:]
    libvirtd = False
    if args and args[0] == "--libvirtd":
        binary, libvirtd, args = "/usr/sbin/libvirtd", True, args[1:]
    elif args:
        binary, args = os.path.abspath(args[0]), args[1:]
    else:
        print(__doc__)
        return 2
    probes = args or PER_DAEMON + OWN_DAEMON
    for name in probes:
        start = time.time()
        if name in OWN_DAEMON:
            result = globals()["probe_" + name](binary, libvirtd)
        else:
            d = Daemon(binary, "", libvirtd)
            try:
                result = globals()["probe_" + name](d)
                if d.proc.poll() is not None:
                    result += " [daemon died: %s]" % d.proc.returncode
            finally:
                d.stop()
        print("%-10s %s  (%.0f s)" % (name, result, time.time() - start), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
