#!/usr/bin/env python3
"""Checks virtactor's wire structs against libvirt 9.0's own description of
them: the libvirt Wireshark dissector (package libvirt-wireshark), which
libvirt generates from remote_protocol.x.

usage: dissector_layout.py PROTOCOL_LAYOUT_SAMPLES [WORKDIR]

Runs the sample generator (protocol_layout_samples), wraps its messages in a
pcap as one TCP stream to port 16509, dissects it with tshark -T pdml, and
compares, message by message, the offset and size of every leaf field the
dissector shows with the ones our structs put there. A field in the wrong
order, of the wrong XDR type, or an array with the wrong maximum shows up as
a difference. Exits 77 (CTest: skipped) when tshark or the dissector is
missing, 1 on a difference.
"""

import os
import re
import struct
import subprocess
import sys
import tempfile

SKIP = 77
PORT = 16509
SEGMENT = 60000

# The 9.0 dissector gets these wrong itself: it registers the non-null string
# fields named `type` (remote_connect_get_type_ret.type,
# remote_domain_get_os_type_ret.type) as numbers, reads their length word
# only, and stops. (The optional `type` of CONNECT_GET_MAX_VCPUS is fine.)
DISSECTOR_BUGS = ("connect_get_type reply", "domain_get_os_type reply")


def ip_checksum(header):
    total = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path, payload):
    """One TCP stream 40000 -> PORT carrying `payload` in segments."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        seq = 1
        for i in range(0, len(payload), SEGMENT):
            chunk = payload[i:i + SEGMENT]
            tcp = struct.pack(">HHIIBBHHH", 40000, PORT, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
            total = 20 + len(tcp) + len(chunk)
            ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0,
                                       bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])))
            struct.pack_into(">H", ip, 10, ip_checksum(bytes(ip)))
            eth = b"\x00" * 12 + b"\x08\x00"
            frame = eth + bytes(ip) + tcp + chunk
            f.write(struct.pack("<IIII", i // SEGMENT, 0, len(frame), len(frame)))
            f.write(frame)
            seq += len(chunk)


def container_fields():
    """Names of the dissector's FT_NONE fields (structs, arrays): not leaves."""
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) > 3 and parts[0] == "F" and parts[2].startswith("libvirt") \
                and parts[3] == "FT_NONE":
            names.add(parts[2])
    return names


FIELD = re.compile(rb'<field name="([^"]*)"[^>]*? size="(\d+)" pos="(\d+)"')
PROTO = re.compile(rb'<proto name="libvirt"[^>]*? pos="(\d+)"')


def dissected(pcap, containers):
    """Yields, per libvirt PDU, the list of (name, offset, size) of its leaves.

    Reads tshark's PDML line by line (one element per line): a field written
    as <field .../> has no children, a leaf. Much faster than an XML parser
    on the hundreds of megabytes the 16384-element arrays make."""
    containers = {c.encode() for c in containers}
    proc = subprocess.Popen(["tshark", "-r", pcap, "-T", "pdml"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    leaves = None
    base = 0
    for line in proc.stdout:
        line = line.lstrip()
        if leaves is None:
            m = PROTO.match(line)
            if m:
                leaves, base = [], int(m.group(1))
            continue
        if line.startswith(b"</proto>"):
            yield leaves
            leaves = None
            continue
        if not line.startswith(b"<field") or not line.rstrip().endswith(b"/>"):
            continue
        m = FIELD.match(line)
        if m and m.group(1) not in containers:
            leaves.append((m.group(1).decode(), int(m.group(3)) - base, int(m.group(2))))
    proc.wait()


def main(argv):
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    try:
        fields = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True)
    except FileNotFoundError:
        print("dissector_layout: tshark not installed: skipped")
        return SKIP
    if "\tlibvirt.remote_error\t" not in fields.stdout:
        print("dissector_layout: the libvirt dissector (libvirt-wireshark) is missing: skipped")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        work = argv[2] if len(argv) == 3 else tmp
        os.makedirs(work, exist_ok=True)
        if subprocess.run([argv[1], work]).returncode != 0:
            print("dissector_layout: our own decoder disagrees with a sample (see above)")
            return 1
        expected = []
        for line in open(os.path.join(work, "expect.tsv")):
            index, name, mode, leaves = line.rstrip("\n").split("\t")
            pairs = [tuple(map(int, x.split(":"))) for x in leaves.split(",") if x]
            expected.append((name, mode, pairs))
        payload = open(os.path.join(work, "messages.bin"), "rb").read()
        pcap = os.path.join(work, "samples.pcap")
        write_pcap(pcap, payload)
        got = list(dissected(pcap, container_fields()))
    if len(got) != len(expected):
        print(f"dissector_layout: {len(expected)} messages sent, the dissector saw {len(got)}")
        return 1
    failures = checked = skipped = 0
    for (name, mode, want), leaves in zip(expected, got):
        if name.startswith(DISSECTOR_BUGS):
            skipped += 1
            continue
        checked += 1
        # Where it gives up, the dissector shows the rest as one "unknown"
        # field (strings) or nothing (arrays): only the fields before count.
        if mode == "prefix":
            while leaves and leaves[-1][0] == "libvirt.unknown":
                leaves.pop()
        have = [(off, size) for _, off, size in leaves]
        if have != want:
            failures += 1
            if failures <= 20:
                first = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b),
                             min(len(have), len(want)))
                print(f"DIFF {name} ({mode}): first difference at leaf {first}: "
                      f"dissector {have[first:first + 3]} ours {want[first:first + 3]} "
                      f"({len(have)} vs {len(want)} leaves)")
    print(f"dissector_layout: {checked} messages checked, {skipped} skipped "
          f"(dissector bugs), {failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
