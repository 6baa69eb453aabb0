#!/usr/bin/python3
"""python3-libvirt drives a start/stop cycle of one defined (shut off) domain
of the ACPI test guest and prints what it sees: states and reasons, info(),
errors (code, domain, message) and the lifecycle events its own connection
receives (libvirt's default event loop on a thread).

usage: pycycle.py URI NAME
Every wait polls with a deadline. The domain ends shut off (destroyed).
"""

import sys
import threading
import time

import libvirt

uri, name = sys.argv[1:3]
DEADLINE = 60

EVENTS = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: "Defined",
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: "Undefined",
    libvirt.VIR_DOMAIN_EVENT_STARTED: "Started",
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: "Suspended",
    libvirt.VIR_DOMAIN_EVENT_RESUMED: "Resumed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED: "Stopped",
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: "Shutdown",
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: "PMSuspended",
    libvirt.VIR_DOMAIN_EVENT_CRASHED: "Crashed",
}

# Errors go to the printed lines, not to libvirt's default stderr handler.
libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()
stop_loop = False


def loop():
    while not stop_loop:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()

conn = libvirt.open(uri)
events = []
lock = threading.Lock()


def on_lifecycle(conn, dom, event, detail, opaque):
    with lock:
        events.append(f"{dom.name()}: {EVENTS.get(event, event)} detail={detail}")


callback = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
# A periodic timer keeps the default loop turning so that it notices the stop.
timer = libvirt.virEventAddTimeout(100, lambda timer, opaque: None, None)


def wait_for(pred, what):
    deadline = time.monotonic() + DEADLINE
    while not pred():
        if time.monotonic() > deadline:
            print(f"timed out waiting for {what}")
            return False
        time.sleep(0.05)
    return True


def show(label, dom):
    state, reason = dom.state()
    print(f"{label}: state={state} reason={reason} active={dom.isActive()} persistent={dom.isPersistent()}")


def attempt(label, fn):
    try:
        fn()
        print(f"{label}: ok")
    except libvirt.libvirtError as e:
        print(f"{label}: error code={e.get_error_code()} domain={e.get_error_domain()} "
              f"message={e.get_error_message()}")


dom = conn.lookupByName(name)
show("defined", dom)
attempt("create", dom.create)
show("after create", dom)
print(f"domain id: {dom.ID()}")
state, max_mem, memory, vcpus, cpu_time = dom.info()
print(f"info: state={state} maxMem={max_mem} memory={memory} nrVirtCpu={vcpus}")
print(f"cpu time: {cpu_time}")
attempt("create again", dom.create)
attempt("suspend", dom.suspend)
show("after suspend", dom)
attempt("resume", dom.resume)
# The guest arms the ACPI power button once it runs its boot sector (it has
# read it from disk); QEMU drops a button pressed before.
wait_for(lambda: conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BLOCK)[0][1]
         .get("block.0.rd.reqs", 0) > 0, "the guest to read its boot sector")
attempt("shutdown", dom.shutdown)
wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, "shut off")
show("after shutdown", dom)
attempt("create", dom.create)
attempt("destroy", dom.destroy)
show("after destroy", dom)
attempt("destroy again", dom.destroy)
attempt("lookup nosuch", lambda: conn.lookupByName("nosuch"))

# The last event this cycle causes is Stopped (destroyed).
wait_for(lambda: any("Stopped detail=1" in e for e in events), "the Stopped event")
with lock:
    for e in events:
        print(f"event {e}")
conn.domainEventDeregisterAny(callback)
libvirt.virEventRemoveTimeout(timer)
stop_loop = True
conn.close()
