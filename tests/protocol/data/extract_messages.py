#!/usr/bin/env python3
"""Splits a loopback capture of libvirt RPC traffic into messages and writes a
selection of them as test vectors (hex text), see README.md.

usage: extract_messages.py PCAP PORT PROCEDURE_NUMBERS_CPP OUTDIR [CORPUSDIR]
                           [--labels LABELFILE]

Each TCP connection's bytes are put back together per direction (in frame
order: loopback has no loss or reordering) and cut at the length words. The
first message of each kind (program, procedure, type, status) is kept; for
lifecycle events (procedure 318) the first of each event kind. A kept message
goes to OUTDIR/<name>.hex and, as raw bytes, to CORPUSDIR/<name>.bin.
"""

import os
import re
import struct
import subprocess
import sys

REMOTE = 0x20008086
KEEPALIVE = 0x6B656570
TYPES = ["call", "reply", "message", "stream", "call_with_fds", "reply_with_fds", "stream_hole"]
STATUSES = ["ok", "error", "continue"]
EVENTS = ["defined", "undefined", "started", "suspended", "resumed", "stopped",
          "shutdown", "pmsuspended", "crashed"]


def proc_names(cpp_path):
    text = open(cpp_path).read()
    return {int(n): name.lower() for n, name in re.findall(r'case (\d+):\s*return "(\w+)";', text)}


def read_streams(pcap, port):
    """Returns {(stream, to_server): bytearray} and the stream order."""
    fields = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.stream", "-e", "tcp.dstport",
         "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    data = {}
    for line in fields.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[2]:
            continue
        key = (int(parts[0]), int(parts[1]) == port)
        data.setdefault(key, bytearray()).extend(bytes.fromhex(parts[2].replace(":", "")))
    return data


def split_messages(buf):
    pos = 0
    while pos + 4 <= len(buf):
        (length,) = struct.unpack_from(">I", buf, pos)
        if length < 28 or pos + length > len(buf):
            raise SystemExit(f"extract_messages: bad or cut message at offset {pos}")
        yield bytes(buf[pos:pos + length])
        pos += length
    if pos != len(buf):
        raise SystemExit("extract_messages: trailing bytes in a stream")


def event_name(msg):
    """The lifecycle event of a proc 318 message: callbackID, dom, event."""
    off = 28 + 4
    (name_len,) = struct.unpack_from(">I", msg, off)
    off += 4 + (name_len + 3) // 4 * 4 + 16 + 4
    (event,) = struct.unpack_from(">i", msg, off)
    return EVENTS[event] if 0 <= event < len(EVENTS) else f"event{event}"


def describe(msg, names):
    prog, vers, proc, mtype, serial, status = struct.unpack_from(">IIiiIi", msg, 4)
    if prog == REMOTE:
        prog_name, proc_name = "remote", names.get(proc, f"proc{proc}")
    elif prog == KEEPALIVE:
        prog_name, proc_name = "keepalive", {1: "ping", 2: "pong"}.get(proc, f"proc{proc}")
    else:
        prog_name, proc_name = f"prog{prog:08x}", f"proc{proc}"
    type_name = TYPES[mtype] if 0 <= mtype < len(TYPES) else f"type{mtype}"
    status_name = STATUSES[status] if 0 <= status < len(STATUSES) else f"status{status}"
    name = f"{prog_name}-{proc:03d}-{proc_name}-{type_name}"
    if status != 0:
        name += f"-{status_name}"
    if prog == REMOTE and proc == 318 and mtype == 2:
        name += f"-{event_name(msg)}"
    summary = (f"{prog_name.upper()} {proc_name.upper()} ({proc}) {type_name.upper()} "
               f"serial={serial} {status_name.upper()}, {len(msg)} bytes")
    return name, summary


def write_hex(path, comment_lines, msg):
    with open(path, "w") as f:
        for line in comment_lines:
            f.write(f"# {line}\n")
        for i in range(0, len(msg), 32):
            chunk = msg[i:i + 32]
            f.write(" ".join(chunk[j:j + 4].hex() for j in range(0, len(chunk), 4)) + "\n")


def main(argv):
    labels = []
    if "--labels" in argv:
        i = argv.index("--labels")
        labels = [l.rstrip("\n") for l in open(argv[i + 1])]
        del argv[i:i + 2]
    if len(argv) not in (5, 6):
        raise SystemExit(__doc__)
    pcap, port, cpp, outdir = argv[1], int(argv[2]), argv[3], argv[4]
    corpus = argv[5] if len(argv) == 6 else None
    names = proc_names(cpp)
    streams = read_streams(pcap, port)
    kept = {}
    # Calls come only from the client and replies only from the server, so
    # walking each connection's client side, then its server side, finds the
    # same first occurrences as walking the messages in time order.
    for stream in sorted({s for s, _ in streams}):
        label = labels[stream] if stream < len(labels) else f"connection {stream}"
        for to_server in (True, False):
            direction = "client -> server" if to_server else "server -> client"
            for msg in split_messages(streams.get((stream, to_server), b"")):
                name, summary = describe(msg, names)
                if name in kept:
                    continue
                kept[name] = (msg, [summary, f"{direction}, captured from: {label}"])
    os.makedirs(outdir, exist_ok=True)
    for name, (msg, comments) in sorted(kept.items()):
        write_hex(os.path.join(outdir, name + ".hex"), comments, msg)
        if corpus:
            os.makedirs(corpus, exist_ok=True)
            with open(os.path.join(corpus, name + ".bin"), "wb") as f:
                f.write(msg)
    print(f"extract_messages: {len(kept)} messages written to {outdir}")


if __name__ == "__main__":
    main(sys.argv)
