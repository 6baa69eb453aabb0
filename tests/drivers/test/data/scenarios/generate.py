#!/usr/bin/python3
"""Runs a scenario against libvirt's real test driver and prints what the
scenario test compares with: one line per operation, then its events.
Usage: /usr/bin/python3 generate.py lifecycle.txt > lifecycle.expected"""
import sys, threading, time
import libvirt

libvirt.registerErrorHandler(lambda *a: None, None)
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open("test:///default")
events = []
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                            lambda c, d, e, det, o: events.append((d.name(), d.ID(), e, det)), None)

def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()

handles = {}

def dom(name):
    try:
        handles[name] = conn.lookupByName(name)
    except libvirt.libvirtError:
        pass
    return handles[name]

def net(name):
    try:
        handles["net:" + name] = conn.networkLookupByName(name)
    except libvirt.libvirtError:
        pass
    return handles["net:" + name]

def pool(name):
    try:
        handles["pool:" + name] = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        pass
    return handles["pool:" + name]

def vol(p, name):
    try:
        handles["vol:" + p + "/" + name] = pool(p).storageVolLookupByName(name)
    except libvirt.libvirtError:
        pass
    return handles["vol:" + p + "/" + name]

def network_xml(name, uuid, bridge):
    return ("<network><name>%s</name><uuid>%s</uuid><bridge name='%s'/></network>"
            % (name, uuid, bridge))

def pool_xml(name, uuid, path):
    return ("<pool type='dir'><name>%s</name><uuid>%s</uuid><target><path>%s</path></target>"
            "</pool>" % (name, uuid, path))

def volume_xml(name, capacity, allocation):
    return ("<volume><name>%s</name><capacity unit='bytes'>%s</capacity>"
            "<allocation unit='bytes'>%s</allocation></volume>" % (name, capacity, allocation))

def domain_xml(name, uuid, vcpus, mem):
    return ("<domain type='test'><name>%s</name><uuid>%s</uuid><memory>%s</memory>"
            "<vcpu>%s</vcpu><os><type>hvm</type></os></domain>" % (name, uuid, mem, vcpus))

def run(op, a):
    if op == "state": return "%d %d" % tuple(dom(a[0]).state())
    if op == "info":
        i = dom(a[0]).info()
        return "%d %d %d %d" % (i[0], i[1], i[2], i[3])
    if op == "lookup":
        d = conn.lookupByName(a[0])
        handles[a[0]] = d
        return "%s %d" % (d.name(), d.ID())
    if op in ("suspend", "resume", "create", "destroy", "shutdown", "undefine"):
        getattr(dom(a[0]), op)()
        return "ok"
    if op == "reboot": dom(a[0]).reboot(0); return "ok"
    if op == "createflags": dom(a[0]).createWithFlags(int(a[1])); return "ok"
    if op == "undefineflags": dom(a[0]).undefineFlags(int(a[1])); return "ok"
    if op == "setmem": dom(a[0]).setMemory(int(a[1])); return "ok"
    if op == "setmaxmem": dom(a[0]).setMaxMemory(int(a[1])); return "ok"
    if op == "setmemflags": dom(a[0]).setMemoryFlags(int(a[1]), int(a[2])); return "ok"
    if op == "setvcpus": dom(a[0]).setVcpus(int(a[1])); return "ok"
    if op == "setvcpusflags": dom(a[0]).setVcpusFlags(int(a[1]), int(a[2])); return "ok"
    if op == "vcpusflags": return str(dom(a[0]).vcpusFlags(int(a[1])))
    if op == "maxvcpus": return str(dom(a[0]).maxVcpus())
    if op == "maxmem": return str(dom(a[0]).maxMemory())
    if op == "seclabel":
        l = dom(a[0]).securityLabel()
        return "'%s' %d" % (l[0], l[1])
    if op == "getautostart": return str(dom(a[0]).autostart())
    if op == "autostart": dom(a[0]).setAutostart(int(a[1])); return "ok"
    if op == "persistent": return str(dom(a[0]).isPersistent())
    if op == "active": return str(dom(a[0]).isActive())
    if op == "xml": return dom(a[0]).XMLDesc(int(a[1])).replace("\n", "|")
    if op == "list": return " ".join(sorted(d.name() for d in conn.listAllDomains(int(a[0]))))
    if op == "listids": return " ".join(str(i) for i in sorted(conn.listDomainsID()))
    if op == "listdefined": return " ".join(sorted(conn.listDefinedDomains()))
    if op == "numdomains": return str(conn.numOfDomains())
    if op == "numdefined": return str(conn.numOfDefinedDomains())
    if op == "define":
        d = conn.defineXML(domain_xml(*a))
        return "%s %d" % (d.name(), d.ID())
    if op == "createxml":
        d = conn.createXML(domain_xml(*a), 0)
        return "%s %d" % (d.name(), d.ID())
    # networks
    if op == "netstate":
        n = net(a[0])
        return "%d %d %d" % (n.isActive(), n.isPersistent(), n.autostart())
    if op == "netxml": return net(a[0]).XMLDesc(0).replace("\n", "|")
    if op == "netbridge": return net(a[0]).bridgeName()
    if op == "netstart": net(a[0]).create(); return "ok"
    if op == "netdestroy": net(a[0]).destroy(); return "ok"
    if op == "netundefine": net(a[0]).undefine(); return "ok"
    if op == "netautostart": net(a[0]).setAutostart(int(a[1])); return "ok"
    if op == "netdefine": return conn.networkDefineXML(network_xml(*a)).name()
    if op == "netcreatexml": return conn.networkCreateXML(network_xml(*a)).name()
    if op == "netlist":
        return " ".join(sorted(n.name() for n in conn.listAllNetworks(int(a[0]))))
    # pools and volumes
    if op == "poolinfo":
        p = pool(a[0])
        i = p.info()
        return "%d %d %d %d %d %d %d" % (i[0], i[1], i[2], i[3], p.isActive(), p.isPersistent(),
                                         p.autostart())
    if op == "poolxml": return pool(a[0]).XMLDesc(0).replace("\n", "|")
    if op == "poolstart": pool(a[0]).create(0); return "ok"
    if op == "pooldestroy": pool(a[0]).destroy(); return "ok"
    if op == "poolundefine": pool(a[0]).undefine(); return "ok"
    if op == "poolbuild": pool(a[0]).build(0); return "ok"
    if op == "pooldelete": pool(a[0]).delete(0); return "ok"
    if op == "poolrefresh": pool(a[0]).refresh(0); return "ok"
    if op == "poolautostart": pool(a[0]).setAutostart(int(a[1])); return "ok"
    if op == "pooldefine": return conn.storagePoolDefineXML(pool_xml(*a), 0).name()
    if op == "poolcreatexml": return conn.storagePoolCreateXML(pool_xml(*a), 0).name()
    if op == "poollist":
        return " ".join(sorted(p.name() for p in conn.listAllStoragePools(int(a[0]))))
    if op == "volcreate":
        v = pool(a[0]).createXML(volume_xml(a[1], a[2], a[3]), 0)
        handles["vol:" + a[0] + "/" + a[1]] = v
        return v.key()
    if op == "voldelete": vol(a[0], a[1]).delete(0); return "ok"
    if op == "volinfo":
        i = vol(a[0], a[1]).info()
        return "%d %d %d" % (i[0], i[1], i[2])
    if op == "volxml": return vol(a[0], a[1]).XMLDesc(0).replace("\n", "|")
    if op == "vollist": return " ".join(sorted(pool(a[0]).listVolumes()))
    raise SystemExit("unknown operation " + op)

for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    op, *args = line.split()
    try:
        out = run(op, args)
    except libvirt.libvirtError as e:
        out = "error %d %d %s" % (e.get_error_code(), e.get_error_domain(),
                                  e.get_error_message().replace("\n", "|"))
    time.sleep(0.05)
    print("%s -> %s" % (line, out))
    for e in events:
        print("  event %s %d %d %d" % e)
    events.clear()
