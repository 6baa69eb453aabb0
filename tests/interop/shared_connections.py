#!/usr/bin/python3
"""Clients of one virtactord that open the same URI share one driver
connection inside the daemon (daemon/session.cpp, driver_link). This script
checks, with the real python3-libvirt, that sharing is invisible to them.

usage: shared_connections.py RW_URI RO_URI

Prints one line per check, "ok NAME" or "FAIL NAME: why", and exits 1 when a
check failed (2 on bad usage).
"""

import sys
import threading
import time

import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)

XML = """<domain type='test'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>
"""
X = ("va-shared-x", "c4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f11")
Y = ("va-shared-y", "c4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f12")

failures = []


def check(name, cond, why=""):
    if cond:
        print("ok " + name)
    else:
        print("FAIL %s: %s" % (name, why))
        failures.append(name)


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rw, ro = sys.argv[1], sys.argv[2]
    libvirt.virEventRegisterDefaultImpl()
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()

    a = libvirt.open(rw)
    b = libvirt.open(rw)
    seen_a, seen_b = [], []
    # A: every domain; B: only Y.
    id_a = a.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, ev, det, o: seen_a.append((d.name(), ev)), None)
    dx = a.defineXML(XML % X)
    a.defineXML(XML % Y)
    id_b = b.domainEventRegisterAny(
        b.lookupByName(Y[0]), libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, ev, det, o: seen_b.append((d.name(), ev)), None)
    check("each client's callback works", id_a >= 0 and id_b >= 0, (id_a, id_b))

    # One state behind both: B sees what A defined.
    names_b = sorted(d.name() for d in b.listAllDomains())
    check("the second client sees the first's definitions",
          X[0] in names_b and Y[0] in names_b, names_b)

    dx.create()
    dx.destroy()
    b.lookupByName(Y[0]).create()
    del dx  # a domain object holds its connection open
    check("the first client hears every domain",
          wait_for(lambda: (X[0], libvirt.VIR_DOMAIN_EVENT_STARTED) in seen_a and
                   (Y[0], libvirt.VIR_DOMAIN_EVENT_STARTED) in seen_a), seen_a)
    check("the second client hears only the domain it asked for",
          wait_for(lambda: (Y[0], libvirt.VIR_DOMAIN_EVENT_STARTED) in seen_b) and
          all(n == Y[0] for n, _ in seen_b), seen_b)
    n_b = len(seen_b)

    # A leaves; B's connection and subscription stay.
    a.domainEventDeregisterAny(id_a)
    check("the first client really closes (no object holds it)", a.close() == 0)
    ydom = b.lookupByName(Y[0])
    ydom.destroy()
    check("after the first client closed, the second still calls",
          ydom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF, ydom.info())
    check("after the first client closed, the second still hears its events",
          wait_for(lambda: len(seen_b) > n_b and
                   seen_b[-1] == (Y[0], libvirt.VIR_DOMAIN_EVENT_STOPPED)), seen_b)

    # A read-only client on the same socket: its own rules, whatever B may do.
    r = libvirt.openReadOnly(rw)
    try:
        r.defineXML(XML % ("va-shared-z", "c4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f13"))
        check("a read-only client is refused changes", False, "define succeeded")
    except libvirt.libvirtError as e:
        check("a read-only client is refused changes",
              e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e.get_error_message())
    check("a read-write client beside it still changes things",
          b.lookupByName(Y[0]).setAutostart(1) == 0)
    del ydom
    r.close()
    ro_conn = libvirt.open(ro)
    try:
        ro_conn.lookupByName(Y[0]).create()
        check("the read-only socket stays read-only", False, "create succeeded")
    except libvirt.libvirtError as e:
        check("the read-only socket stays read-only",
              e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e.get_error_message())

    # Everyone leaves: the shared connection closes with its last client, and
    # the test driver drops its state with it (libvirt's test driver does).
    b.domainEventDeregisterAny(id_b)
    check("every client really closes", b.close() == 0 and ro_conn.close() == 0)
    c = libvirt.open(rw)
    names_c = sorted(d.name() for d in c.listAllDomains())
    check("the state went with the last client", X[0] not in names_c and Y[0] not in names_c,
          names_c)
    c.close()
    stop.set()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
