"""Defines qemu domains through python3-libvirt, as fast as it can, for the
kill -9 persistence test (persistence_test.cpp).

  define_loop.py URI loop ROUND   define p<ROUND>-<i> (64 MiB + i KiB) and
                                  redefine p<ROUND>-<i-1> with 1 KiB more;
                                  prints "try NAME KIB" before and
                                  "ok NAME KIB" after each call, until the
                                  daemon goes away
  define_loop.py URI list         prints "NAME KIB" for every domain
"""
import sys
import uuid

import libvirt

XML = """<domain type='qemu'>
  <name>%s</name>
  <uuid>%s</uuid>
  <memory unit='KiB'>%d</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>"""


def quiet(_ctx, _err):
    pass


def main():
    uri, mode = sys.argv[1], sys.argv[2]
    libvirt.registerErrorHandler(quiet, None)
    conn = libvirt.open(uri)
    if mode == "list":
        for dom in conn.listAllDomains(0):
            print(dom.name(), dom.maxMemory(), flush=True)
        return 0
    rnd = int(sys.argv[3])
    i = 0
    try:
        while True:
            for name, kib in (("p%d-%d" % (rnd, i), 65536 + i),
                              ("p%d-%d" % (rnd, i - 1), 65536 + i)):
                if i == 0 and name.endswith("--1"):
                    continue
                print("try", name, kib, flush=True)
                conn.defineXML(XML % (name, uuid.uuid5(uuid.NAMESPACE_DNS, name), kib))
                print("ok", name, kib, flush=True)
            i += 1
    except libvirt.libvirtError as e:
        print("end", e.get_error_message(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
