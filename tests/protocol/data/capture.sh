#!/bin/bash
# Re-makes the captured test vectors in this directory: real virsh (libvirt
# 9.0) talking to a real libvirtd 9.0 over loopback TCP, recorded by tshark,
# split into messages, one hex file per message. See README.md.
#
# usage: capture.sh [OUTDIR [CORPUSDIR]]
#   OUTDIR     where the .hex vectors go (default: this script's directory)
#   CORPUSDIR  where the same messages go as raw bytes, the fuzz seed corpus
#              (default: ../corpus next to this script)
#
# Needs root (tshark on lo), libvirtd, virsh, tshark (with the libvirt
# dissector from libvirt-wireshark, used for the live progress only) and
# python3. Takes about 10 s: it waits for a keepalive PING/PONG, which
# virsh and libvirtd send after 5 s of idle time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
out=${1:-$here}
corpus=${2:-$here/../corpus}
mkdir -p "$out" "$corpus"

work=$(mktemp -d /tmp/va-capture.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
uri="test+tcp://127.0.0.1:$port/default"
tshark_pid=
events_pid=

cleanup() {
  [ -n "$events_pid" ] && kill "$events_pid" 2>/dev/null || true
  [ -n "$tshark_pid" ] && kill -INT "$tshark_pid" 2>/dev/null && wait "$tshark_pid" 2>/dev/null || true
  "$src/tests/interop/stop-libvirtd.sh" "$work" || true
  rm -rf "$work"
}
trap cleanup EXIT

# Polls (every 0.1 s, at most $1 s) until the command in $2... succeeds.
wait_for() {
  local limit=$(($1 * 10)) i=0
  shift
  until "$@"; do
    i=$((i + 1))
    if [ $i -gt $limit ]; then
      echo "capture.sh: timed out waiting for: $*" >&2
      return 1
    fi
    sleep 0.1
  done
}
count_live() { # count_live PROG PROC TYPE -> number of such messages seen
  awk -F'\t' -v p="$1" -v n="$2" -v t="$3" '$1==p && $2==n && $3==t {c++} END {print c+0}' "$work/live.tsv"
}
at_least() { [ "$(count_live "$1" "$2" "$3")" -ge "$4" ]; }

"$src/tests/interop/start-libvirtd.sh" "$work" "$port"

# tshark writes the pcap and, line by line, what it sees (for the waits).
tshark -i lo -f "tcp port $port" -d "tcp.port==$port,libvirt" -w "$work/capture.pcap" \
  -P -l -T fields -e libvirt.program -e libvirt.procedure -e libvirt.type \
  >"$work/live.tsv" 2>"$work/tshark.err" &
tshark_pid=$!
wait_for 10 grep -q 'Capture started' "$work/tshark.err"

cat >"$work/demo.xml" <<'XML'
<domain type='test'>
  <name>demo</name>
  <uuid>b359a94f-d926-4f5d-938e-6dc94a790027</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
  </os>
</domain>
XML

# Each virsh run is one TCP connection; labels.txt names them in order.
v() {
  echo "virsh -c test+tcp://127.0.0.1:PORT/default ${*//$work\//}" >>"$work/labels.txt"
  virsh -q -c "$uri" "$@" >>"$work/virsh.out" 2>&1
}

# One-shot commands: each is a whole connection (prologue, calls, epilogue).
v list --all
v dominfo test
v nodeinfo
v domstate test
v net-list --all
v pool-list --all
v dominfo nosuch || true # error reply: unknown domain

# A listener holds the connection (and so the test driver's state) open,
# gets the lifecycle events of the commands below, and idles long enough
# for a keepalive PING/PONG in both directions.
echo "virsh -c test+tcp://127.0.0.1:PORT/default event --all --loop" >>"$work/labels.txt"
virsh -c "$uri" event --all --loop --timeout 30 >"$work/events.out" 2>&1 &
events_pid=$!
wait_for 10 at_least 0x20008086 316 1 27 # all 27 registrations answered
v define "$work/demo.xml"
v start demo
v suspend demo
v resume demo
v destroy demo
v undefine demo
wait_for 10 at_least 0x20008086 318 2 6   # 6 lifecycle events delivered
wait_for 15 at_least 0x6b656570 2 2 1     # a PONG
kill -INT "$events_pid" # virsh deregisters (317), then closes (361, 2)
wait "$events_pid" 2>/dev/null || true
events_pid=
# Every connection has closed (CONNECT_CLOSE replied) before tshark stops:
# tshark drops what it has not read yet when interrupted.
wait_for 10 at_least 0x20008086 2 1 "$(wc -l <"$work/labels.txt")"

kill -INT "$tshark_pid"
wait "$tshark_pid" 2>/dev/null || true
tshark_pid=

rm -f "$out"/*.hex "$corpus"/*.bin
python3 "$here/extract_messages.py" --labels "$work/labels.txt" "$work/capture.pcap" \
  "$port" "$src/protocol/procedure_numbers.cpp" "$out" "$corpus"
