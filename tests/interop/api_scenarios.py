#!/usr/bin/python3
"""python3-libvirt scenarios for interop tests: one scenario, one URI, one transcript.

usage: api_scenarios.py SCENARIO URI [--read-only]

Runs SCENARIO against URI with the real python3-libvirt bindings and prints a
transcript on stdout: one JSON array per line, ["key", {"ok": value}] or
["key", {"error": [code, domain, message]}]. The interop tests run the same
scenario against the in-process test:///default and against virtactord, each
in a fresh process, and compare the transcripts line by line. Values that
differ between two runs of the same driver (cpu time, which grows) are reduced
to what is stable (cpu time > 0). --read-only opens with openReadOnly().

Exit status: 0 when the scenario ran to its end (errors of single calls are
part of the transcript), 1 when it could not (the reason goes to stderr),
2 on bad usage.
"""

import json
import sys
import threading

import libvirt

# libvirt prints every error to stderr by default; the transcript has them.
libvirt.registerErrorHandler(lambda ctx, err: None, None)

DOMAIN_UUID = "a4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f01"
DOMAIN_XML = """<domain type='test'>
  <name>va-interop</name>
  <uuid>%s</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
""" % DOMAIN_UUID

TRANSIENT_XML = DOMAIN_XML.replace("va-interop", "va-transient").replace(
    DOMAIN_UUID, "a4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f02")
SENTINEL_XML = DOMAIN_XML.replace("va-interop", "va-sentinel").replace(
    DOMAIN_UUID, "a4d2c1f0-0b4e-4c1e-9a51-5a0d1c3e7f03")

NETWORK_XML = """<network>
  <name>va-net</name>
  <uuid>b5e3d2a1-1c5f-4d2f-8b62-6b1e2d4f8a01</uuid>
  <forward mode='nat'/>
  <bridge name='virbr42' stp='on' delay='0'/>
  <mac address='52:54:00:aa:bb:01'/>
  <ip address='192.168.142.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.142.2' end='192.168.142.254'/>
    </dhcp>
  </ip>
</network>
"""

POOL_XML = """<pool type='dir'>
  <name>va-pool</name>
  <uuid>c6f4e3b2-2d6a-4e3a-9c73-7c2f3e5a9b01</uuid>
  <target>
    <path>/va-pool</path>
  </target>
</pool>
"""

VOLUME_XML = """<volume>
  <name>va-vol.img</name>
  <capacity unit='bytes'>1073741824</capacity>
  <allocation unit='bytes'>0</allocation>
  <target>
    <format type='raw'/>
  </target>
</volume>
"""

MISSING_UUID = "00000000-0000-0000-0000-00000000abcd"


class Transcript:
    """Collects observations and prints them in the order they were made."""

    def __init__(self):
        self.lines = []

    def ok(self, key, value):
        self.lines.append(json.dumps([key, {"ok": value}], sort_keys=True))

    def error(self, key, err):
        self.lines.append(json.dumps(
            [key, {"error": [err.get_error_code(), err.get_error_domain(),
                             err.get_error_message()]}], sort_keys=True))

    def call(self, key, fn, *args):
        """Records fn(*args) (or its libvirt error); returns the value or None."""
        try:
            value = fn(*args)
        except libvirt.libvirtError as err:
            self.error(key, err)
            return None
        self.ok(key, plain(value))
        return value

    def dump(self):
        for line in self.lines:
            print(line)


def plain(value):
    """A JSON-able form of a libvirt return value (objects become their names)."""
    if isinstance(value, (libvirt.virDomain, libvirt.virNetwork, libvirt.virStoragePool)):
        return {"name": value.name(), "uuid": value.UUIDString()}
    if isinstance(value, libvirt.virStorageVol):
        return {"name": value.name(), "key": value.key(), "path": value.path()}
    if isinstance(value, libvirt.virConnect):
        return "connection"
    if isinstance(value, (list, tuple)):
        return [plain(x) for x in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def domain_info(dom):
    """virDomainGetInfo without the raw cpu time, which grows between runs."""
    state, max_mem, mem, vcpus, cpu_time = dom.info()
    return [state, max_mem, mem, vcpus, cpu_time > 0]


def by_name(objects):
    return sorted(plain(objects), key=lambda x: x["name"])


DOMAIN_LIST_FLAGS = {
    "all": 0,
    "active": libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE,
    "inactive": libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE,
    "persistent": libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
    "transient": libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
    "running": libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING,
    "paused": libvirt.VIR_CONNECT_LIST_DOMAINS_PAUSED,
    "shutoff": libvirt.VIR_CONNECT_LIST_DOMAINS_SHUTOFF,
    "other": libvirt.VIR_CONNECT_LIST_DOMAINS_OTHER,
    "autostart": libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
    "no_autostart": libvirt.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART,
    "managedsave": libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE,
    "no_managedsave": libvirt.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE,
    "has_snapshot": libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT,
    "no_snapshot": libvirt.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT,
    "active|persistent": libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
    | libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
}


def record_domain_lists(t, conn, tag):
    for name, flags in DOMAIN_LIST_FLAGS.items():
        t.call("%s listAllDomains(%s)" % (tag, name),
               lambda f=flags: by_name(conn.listAllDomains(f)))
    t.call(tag + " numOfDomains", conn.numOfDomains)
    t.call(tag + " listDomainsID", lambda: sorted(conn.listDomainsID()))
    t.call(tag + " numOfDefinedDomains", conn.numOfDefinedDomains)
    t.call(tag + " listDefinedDomains", lambda: sorted(conn.listDefinedDomains()))


def record_domain(t, dom, tag):
    t.call(tag + " name", dom.name)
    t.call(tag + " ID", dom.ID)
    t.call(tag + " UUIDString", dom.UUIDString)
    t.call(tag + " info", domain_info, dom)
    t.call(tag + " state", dom.state, 0)
    t.call(tag + " maxMemory", dom.maxMemory)
    t.call(tag + " OSType", dom.OSType)
    t.call(tag + " isActive", dom.isActive)
    t.call(tag + " isPersistent", dom.isPersistent)
    t.call(tag + " isUpdated", dom.isUpdated)
    t.call(tag + " autostart", dom.autostart)
    t.call(tag + " vcpusFlags(0)", dom.vcpusFlags, 0)
    t.call(tag + " XMLDesc(0)", dom.XMLDesc, 0)
    t.call(tag + " XMLDesc(INACTIVE)", dom.XMLDesc, libvirt.VIR_DOMAIN_XML_INACTIVE)


# --- scenarios -------------------------------------------------------------------


def scenario_connect(t, conn, uri):
    t.call("getType", conn.getType)
    t.call("getVersion", conn.getVersion)
    t.call("getLibVersion", conn.getLibVersion)
    t.call("getHostname", conn.getHostname)
    t.call("getMaxVcpus(None)", conn.getMaxVcpus, None)
    t.call("getInfo", conn.getInfo)
    t.call("getFreeMemory", conn.getFreeMemory)
    t.call("getCellsFreeMemory", conn.getCellsFreeMemory, 0, 8)
    t.call("getSecurityModel", conn.getSecurityModel)
    t.call("getCapabilities", conn.getCapabilities)
    t.call("getSysinfo", conn.getSysinfo, 0)
    t.call("isAlive", conn.isAlive)
    t.call("isEncrypted", conn.isEncrypted)
    t.call("isSecure", conn.isSecure)
    t.call("getURI is the URI opened", lambda: conn.getURI() == uri)


def scenario_domains(t, conn, uri):
    record_domain_lists(t, conn, "initial")
    dom = t.call("lookupByName(test)", conn.lookupByName, "test")
    if dom is None:
        raise RuntimeError("the test domain is missing")
    record_domain(t, dom, "test")
    t.call("lookupByUUIDString", conn.lookupByUUIDString, dom.UUIDString())
    t.call("lookupByUUID", conn.lookupByUUID, dom.UUID())
    t.call("lookupByID", conn.lookupByID, dom.ID())


def scenario_lifecycle(t, conn, uri):
    dom = t.call("defineXML", conn.defineXML, DOMAIN_XML)
    if dom is None:
        raise RuntimeError("defineXML failed")
    record_domain(t, dom, "defined")
    record_domain_lists(t, conn, "defined")
    t.call("create", dom.create)
    record_domain(t, dom, "started")
    record_domain_lists(t, conn, "started")
    t.call("lookupByID(started)", lambda: conn.lookupByID(dom.ID()))
    t.call("suspend", dom.suspend)
    t.call("suspended state", dom.state, 0)
    t.call("suspended info", domain_info, dom)
    record_domain_lists(t, conn, "suspended")
    t.call("resume", dom.resume)
    t.call("resumed state", dom.state, 0)
    t.call("setMemory(262144)", dom.setMemory, 262144)
    t.call("after setMemory info", domain_info, dom)
    t.call("setMemoryFlags(393216, CONFIG)", dom.setMemoryFlags, 393216,
           libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    t.call("setVcpus(2)", dom.setVcpus, 2)
    t.call("after setVcpus info", domain_info, dom)
    t.call("vcpusFlags(LIVE)", dom.vcpusFlags, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    t.call("vcpusFlags(CONFIG)", dom.vcpusFlags, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    t.call("setVcpusFlags(3, CONFIG)", dom.setVcpusFlags, 3, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    t.call("vcpusFlags(CONFIG) after", dom.vcpusFlags, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    t.call("setMaxMemory(786432) running", dom.setMaxMemory, 786432)
    t.call("setAutostart(1)", dom.setAutostart, 1)
    t.call("autostart after set", dom.autostart)
    record_domain_lists(t, conn, "autostart")
    t.call("setAutostart(0)", dom.setAutostart, 0)
    t.call("autostart after clear", dom.autostart)
    record_domain(t, dom, "changed")
    t.call("destroy", dom.destroy)
    record_domain(t, dom, "destroyed")
    t.call("setMaxMemory(786432) inactive", dom.setMaxMemory, 786432)
    t.call("maxMemory after setMaxMemory", dom.maxMemory)
    t.call("undefine", dom.undefine)
    t.call("lookupByName after undefine", conn.lookupByName, "va-interop")
    record_domain_lists(t, conn, "undefined")

    transient = t.call("createXML", conn.createXML, TRANSIENT_XML, 0)
    if transient is not None:
        record_domain(t, transient, "transient")
        record_domain_lists(t, conn, "transient")
        t.call("transient setAutostart(1)", transient.setAutostart, 1)
        t.call("transient destroy", transient.destroy)
        t.call("lookupByName after transient destroy", conn.lookupByName, "va-transient")

    test = conn.lookupByName("test")
    t.call("test shutdown", test.shutdown)
    t.call("test state after shutdown", test.state, 0)
    t.call("test create again", test.create)
    t.call("test reboot", test.reboot, 0)
    t.call("test state after reboot", test.state, 0)
    t.call("test reset", test.reset, 0)
    t.call("test state after reset", test.state, 0)
    record_domain_lists(t, conn, "final")


def scenario_errors(t, conn, uri):
    t.call("lookupByName missing", conn.lookupByName, "nope")
    t.call("lookupByUUIDString missing", conn.lookupByUUIDString, MISSING_UUID)
    t.call("lookupByID missing", conn.lookupByID, 999)
    t.call("defineXML no name", conn.defineXML, "<domain type='test'><memory>1024</memory></domain>")
    t.call("defineXML wrong root", conn.defineXML, "<network><name>x</name></network>")
    t.call("createXML not XML", conn.createXML, "this is not xml", 0)
    test = conn.lookupByName("test")
    t.call("create running", test.create)
    t.call("resume running", test.resume)
    t.call("setMemory above max", test.setMemory, 1 << 40)
    t.call("setVcpus 0", test.setVcpus, 0)
    t.call("setVcpus above max", test.setVcpus, 1000)
    t.call("XMLDesc bad flag", test.XMLDesc, 1 << 20)
    t.call("listAllDomains bad flag", conn.listAllDomains, 1 << 30)
    dom = conn.defineXML(DOMAIN_XML)
    t.call("destroy inactive", dom.destroy)
    t.call("suspend inactive", dom.suspend)
    t.call("resume inactive", dom.resume)
    t.call("shutdown inactive", dom.shutdown)
    t.call("reboot inactive", dom.reboot, 0)
    t.call("reset inactive", dom.reset, 0)
    t.call("reset unknown flag", dom.reset, 1)
    t.call("lookupByID inactive", conn.lookupByID, -1)
    t.call("undefine", dom.undefine)
    t.call("undefine twice", dom.undefine)
    t.call("info undefined", dom.info)
    t.call("create undefined", dom.create)
    t.call("networkLookupByName missing", conn.networkLookupByName, "nope")
    t.call("networkLookupByUUIDString missing", conn.networkLookupByUUIDString, MISSING_UUID)
    net = conn.networkLookupByName("default")
    t.call("network create active", net.create)
    t.call("storagePoolLookupByName missing", conn.storagePoolLookupByName, "nope")
    t.call("storagePoolLookupByUUIDString missing", conn.storagePoolLookupByUUIDString,
           MISSING_UUID)
    pool = conn.storagePoolLookupByName("default-pool")
    t.call("storageVolLookupByName missing", pool.storageVolLookupByName, "nope")
    t.call("storageVolLookupByPath missing", conn.storageVolLookupByPath, "/nope")
    t.call("storageVolLookupByKey missing", conn.storageVolLookupByKey, "/nope")
    t.call("pool create active", pool.create, 0)
    vol = t.call("createXML vol", pool.createXML, VOLUME_XML, 0)
    t.call("createXML vol duplicate", pool.createXML, VOLUME_XML, 0)
    if vol is not None:
        vol.delete(0)
    t.call("vol info deleted", lambda: vol.info() if vol else None)


def scenario_xml_errors(t, conn, uri):
    """Documents that are not well-formed XML: libxml2's messages, caret included."""
    t.call("defineXML unterminated tag", conn.defineXML, "<domain")
    t.call("defineXML unclosed element", conn.defineXML, "<domain type='test'>")
    t.call("defineXML mismatched end tag", conn.defineXML, "<domain></network>")
    t.call("defineXML empty", conn.defineXML, "")
    t.call("networkDefineXML unterminated tag", conn.networkDefineXML, "<network")
    pool = conn.storagePoolLookupByName("default-pool")
    t.call("vol createXML unterminated tag", pool.createXML, "<volume", 0)
    t.call("storagePoolDefineXML garbage", conn.storagePoolDefineXML, "<<<", 0)


def scenario_events(t, conn, uri):
    """Lifecycle events, seen through two callbacks: every domain, and `test` only."""
    seen = {"all": [], "test": []}
    done = threading.Event()

    def callback(_conn, dom, event, detail, label):
        seen[label].append([dom.name(), event, detail])
        if label == "all" and dom.name() == "va-sentinel" and \
                event == libvirt.VIR_DOMAIN_EVENT_UNDEFINED:
            done.set()

    test = conn.lookupByName("test")
    all_id = t.call("register all", conn.domainEventRegisterAny, None,
                    libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, callback, "all")
    test_id = t.call("register test", conn.domainEventRegisterAny, test,
                     libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, callback, "test")
    if all_id is None or test_id is None:
        raise RuntimeError("event registration failed")

    dom = t.call("defineXML", conn.defineXML, DOMAIN_XML)
    t.call("create", dom.create)
    t.call("suspend", dom.suspend)
    t.call("resume", dom.resume)
    t.call("destroy", dom.destroy)
    t.call("undefine", dom.undefine)
    transient = t.call("createXML", conn.createXML, TRANSIENT_XML, 0)
    t.call("transient destroy", transient.destroy)
    t.call("test suspend", test.suspend)
    t.call("test resume", test.resume)
    t.call("test shutdown", test.shutdown)
    t.call("test create", test.create)
    t.call("test destroy", test.destroy)
    t.call("test create again", test.create)

    # Events arrive in order: the sentinel's UNDEFINED is the last of them.
    sentinel = conn.defineXML(SENTINEL_XML)
    sentinel.undefine()
    if not done.wait(30):
        raise RuntimeError("the sentinel's events never arrived; saw %r" % seen)
    t.ok("events all", seen["all"])
    t.ok("events test", seen["test"])

    t.call("deregister test", conn.domainEventDeregisterAny, test_id)
    before = len(seen["all"])
    done.clear()
    seen["test"].clear()
    t.call("test suspend after deregister", test.suspend)
    t.call("test resume after deregister", test.resume)
    sentinel = conn.defineXML(SENTINEL_XML)
    sentinel.undefine()
    if not done.wait(30):
        raise RuntimeError("the second sentinel's events never arrived")
    t.ok("events all after deregister", seen["all"][before:])
    t.ok("events test after deregister", seen["test"])
    t.call("deregister all", conn.domainEventDeregisterAny, all_id)
    # The message of this one is the client library's own and differs between
    # the remote driver (any server) and the in-process driver: keep the codes.
    try:
        conn.domainEventDeregisterAny(all_id)
        t.ok("deregister twice", "accepted")
    except libvirt.libvirtError as err:
        t.ok("deregister twice", [err.get_error_code(), err.get_error_domain()])


def scenario_networks(t, conn, uri):
    t.call("listAllNetworks", lambda: by_name(conn.listAllNetworks(0)))
    t.call("listAllNetworks(ACTIVE)",
           lambda: by_name(conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)))
    t.call("listAllNetworks(INACTIVE)",
           lambda: by_name(conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_INACTIVE)))
    t.call("listNetworks", lambda: sorted(conn.listNetworks()))
    t.call("numOfNetworks", conn.numOfNetworks)
    t.call("listDefinedNetworks", lambda: sorted(conn.listDefinedNetworks()))
    t.call("numOfDefinedNetworks", conn.numOfDefinedNetworks)
    default = t.call("networkLookupByName(default)", conn.networkLookupByName, "default")
    t.call("networkLookupByUUIDString(default)", conn.networkLookupByUUIDString,
           default.UUIDString())
    t.call("networkLookupByUUID(default)", conn.networkLookupByUUID, default.UUID())

    def record(net, tag):
        t.call(tag + " name", net.name)
        t.call(tag + " UUIDString", net.UUIDString)
        t.call(tag + " bridgeName", net.bridgeName)
        t.call(tag + " isActive", net.isActive)
        t.call(tag + " isPersistent", net.isPersistent)
        t.call(tag + " autostart", net.autostart)
        t.call(tag + " XMLDesc", net.XMLDesc, 0)
        t.call(tag + " XMLDesc(INACTIVE)", net.XMLDesc, libvirt.VIR_NETWORK_XML_INACTIVE)

    record(default, "default")
    net = t.call("networkDefineXML", conn.networkDefineXML, NETWORK_XML)
    record(net, "defined")
    t.call("listDefinedNetworks after define", lambda: sorted(conn.listDefinedNetworks()))
    t.call("create", net.create)
    record(net, "started")
    t.call("listNetworks after create", lambda: sorted(conn.listNetworks()))
    t.call("setAutostart(1)", net.setAutostart, 1)
    t.call("autostart after set", net.autostart)
    t.call("listAllNetworks(AUTOSTART)",
           lambda: by_name(conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)))
    t.call("destroy", net.destroy)
    record(net, "destroyed")
    t.call("undefine", net.undefine)
    t.call("networkLookupByName after undefine", conn.networkLookupByName, "va-net")
    t.call("listAllNetworks at the end", lambda: by_name(conn.listAllNetworks(0)))
    transient = t.call("networkCreateXML", conn.networkCreateXML, NETWORK_XML)
    if transient is not None:
        record(transient, "transient")
        t.call("transient destroy", transient.destroy)
        t.call("networkLookupByName after transient destroy", conn.networkLookupByName, "va-net")


def scenario_storage(t, conn, uri):
    t.call("listAllStoragePools", lambda: by_name(conn.listAllStoragePools(0)))
    t.call("listStoragePools", lambda: sorted(conn.listStoragePools()))
    t.call("numOfStoragePools", conn.numOfStoragePools)
    t.call("listDefinedStoragePools", lambda: sorted(conn.listDefinedStoragePools()))
    pool = t.call("storagePoolLookupByName", conn.storagePoolLookupByName, "default-pool")
    t.call("storagePoolLookupByUUIDString", conn.storagePoolLookupByUUIDString,
           pool.UUIDString())

    def record(p, tag):
        t.call(tag + " info", p.info)
        t.call(tag + " isActive", p.isActive)
        t.call(tag + " isPersistent", p.isPersistent)
        t.call(tag + " autostart", p.autostart)
        t.call(tag + " XMLDesc", p.XMLDesc, 0)
        t.call(tag + " numOfVolumes", p.numOfVolumes)
        t.call(tag + " listVolumes", lambda: sorted(p.listVolumes()))
        t.call(tag + " listAllVolumes", lambda: sorted(plain(p.listAllVolumes(0)),
                                                       key=lambda v: v["name"]))

    record(pool, "default-pool")
    vol = t.call("createXML vol", pool.createXML, VOLUME_XML, 0)
    record(pool, "with volume")
    t.call("vol info", vol.info)
    t.call("vol XMLDesc", vol.XMLDesc, 0)
    t.call("vol path", vol.path)
    t.call("vol key", vol.key)
    t.call("storageVolLookupByName", pool.storageVolLookupByName, "va-vol.img")
    t.call("storageVolLookupByPath", conn.storageVolLookupByPath, vol.path())
    t.call("storageVolLookupByKey", conn.storageVolLookupByKey, vol.key())
    t.call("vol storagePoolLookupByVolume", vol.storagePoolLookupByVolume)
    t.call("vol delete", vol.delete, 0)
    record(pool, "after delete")

    defined = t.call("storagePoolDefineXML", conn.storagePoolDefineXML, POOL_XML, 0)
    record(defined, "va-pool defined")
    t.call("va-pool create", defined.create, 0)
    record(defined, "va-pool started")
    t.call("listAllStoragePools after create", lambda: by_name(conn.listAllStoragePools(0)))
    t.call("va-pool destroy", defined.destroy)
    t.call("va-pool undefine", defined.undefine)
    t.call("storagePoolLookupByName after undefine", conn.storagePoolLookupByName, "va-pool")


def scenario_read_only(t, conn, uri):
    """Reads work, every change is refused: compared with openReadOnly(test:///default)."""
    t.call("getType", conn.getType)
    t.call("listAllDomains", lambda: by_name(conn.listAllDomains(0)))
    test = t.call("lookupByName", conn.lookupByName, "test")
    t.call("info", domain_info, test)
    t.call("XMLDesc", test.XMLDesc, 0)
    t.call("defineXML", conn.defineXML, DOMAIN_XML)
    t.call("createXML", conn.createXML, TRANSIENT_XML, 0)
    t.call("suspend", test.suspend)
    t.call("resume", test.resume)
    t.call("destroy", test.destroy)
    t.call("shutdown", test.shutdown)
    t.call("reboot", test.reboot, 0)
    t.call("reset", test.reset, 0)
    t.call("create", test.create)
    t.call("undefine", test.undefine)
    t.call("setMemory", test.setMemory, 262144)
    t.call("setVcpus", test.setVcpus, 1)
    t.call("setAutostart", test.setAutostart, 1)
    t.call("state after refusals", test.state, 0)
    net = t.call("networkLookupByName", conn.networkLookupByName, "default")
    t.call("network XMLDesc", net.XMLDesc, 0)
    t.call("networkDefineXML", conn.networkDefineXML, NETWORK_XML)
    t.call("network destroy", net.destroy)
    t.call("network setAutostart", net.setAutostart, 1)
    pool = t.call("storagePoolLookupByName", conn.storagePoolLookupByName, "default-pool")
    t.call("pool info", pool.info)
    t.call("vol createXML", pool.createXML, VOLUME_XML, 0)
    t.call("pool destroy", pool.destroy)
    t.call("storagePoolDefineXML", conn.storagePoolDefineXML, POOL_XML, 0)
    t.call("listAllDomains at the end", lambda: by_name(conn.listAllDomains(0)))


CONNECTIONS = 50


def scenario_many_connections(t, conn, uri):
    """CONNECTIONS connections open at once, each making calls from its own thread."""
    opened = []
    results = [None] * CONNECTIONS
    errors = []
    lock = threading.Lock()
    all_open = threading.Barrier(CONNECTIONS)

    def worker(i):
        try:
            c = libvirt.open(uri)
        except libvirt.libvirtError as err:
            with lock:
                errors.append("open %d: %s" % (i, err.get_error_message()))
            all_open.abort()
            return
        with lock:
            opened.append(c)
        try:
            all_open.wait(60)
            out = []
            for _ in range(5):
                dom = c.lookupByName("test")
                out.append([c.getType(), by_name(c.listAllDomains(0)), domain_info(dom),
                            dom.state(0), c.networkLookupByName("default").name(),
                            c.storagePoolLookupByName("default-pool").info(),
                            c.getInfo()])
            results[i] = out
        except (libvirt.libvirtError, threading.BrokenBarrierError) as err:
            with lock:
                errors.append("worker %d: %s" % (i, err))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    t.ok("errors", errors)
    t.ok("connections opened", len(opened))
    distinct = []
    for r in results:
        if r not in distinct:
            distinct.append(r)
    t.ok("distinct results", len(distinct))
    t.ok("result", distinct[0] if distinct else None)
    t.ok("alive", sum(1 for c in opened if c.isAlive() == 1))
    for c in opened:
        c.close()
    t.call("original connection still answers", lambda: by_name(conn.listAllDomains(0)))


SCENARIOS = {
    "connect": scenario_connect,
    "domains": scenario_domains,
    "lifecycle": scenario_lifecycle,
    "errors": scenario_errors,
    "xml_errors": scenario_xml_errors,
    "events": scenario_events,
    "networks": scenario_networks,
    "storage": scenario_storage,
    "read_only": scenario_read_only,
    "many_connections": scenario_many_connections,
}


def run_event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    read_only = "--read-only" in argv[1:]
    if len(args) != 2 or args[0] not in SCENARIOS:
        sys.stderr.write("usage: %s {%s} URI [--read-only]\n"
                         % (argv[0], "|".join(sorted(SCENARIOS))))
        return 2
    name, uri = args
    if name == "events":
        # Before the first open, so that the remote driver sees an event loop.
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=run_event_loop, daemon=True).start()
    t = Transcript()
    try:
        conn = libvirt.openReadOnly(uri) if read_only else libvirt.open(uri)
    except libvirt.libvirtError as err:
        sys.stderr.write("cannot open %s: %s\n" % (uri, err.get_error_message()))
        return 1
    try:
        SCENARIOS[name](t, conn, uri)
    except Exception as err:  # the transcript so far helps to find the cause
        t.dump()
        sys.stderr.write("scenario %s stopped: %s: %s\n" % (name, type(err).__name__, err))
        return 1
    finally:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
    t.dump()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
