#!/bin/sh
# The real virsh against virtactord: replays every case of
# tests/shell/cases.txt with `virsh -c test+unix:///default?socket=...` and
# then with `virsh -c test+tcp://127.0.0.1:PORT/default`, each compared with
# `virsh -c test:///default` (libvirt's in-process test driver): identical
# stdout, stderr and exit status. No connection is held between cases, so
# each case starts from the test driver's default state, as in libvirt.
#
# usage: replay-virsh.sh COMPARE_TEST_BINARY VIRTACTORD [boost test arguments...]
# Exits 77 (skipped) when virsh is not installed.
set -eu

[ $# -ge 2 ] || {
  echo "usage: $0 COMPARE_TEST_BINARY VIRTACTORD [args...]" >&2
  exit 2
}
test_bin=$1
virtactord=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
interop=$here/../interop

virsh=$(command -v virsh || true)
[ -n "$virsh" ] || {
  echo "virsh is not installed: skipping the replay against virtactord"
  exit 77
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/va-virsh-replay.XXXXXX")
cleanup() {
  sh "$interop/stop-libvirtd.sh" "$dir" virtactord >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=
base=$((20000 + $$ % 20000))
for k in 0 1 2 3 4 5 6 7 8 9; do
  if LIBVIRTD=$virtactord sh "$interop/start-libvirtd.sh" "$dir" $((base + k)) 2>"$dir/start.err"; then
    port=$((base + k))
    break
  fi
done
[ -n "$port" ] || {
  echo "$0: could not start virtactord:" >&2
  cat "$dir/start.err" >&2
  exit 1
}

rc=0
for uri in "test+unix:///default?socket=$dir/libvirt-sock" "test+tcp://127.0.0.1:$port/default"; do
  echo "== virsh -c '$uri' against virsh -c test:///default"
  VA_SHELL_BIN=$virsh VA_SHELL_URI=$uri VA_SHELL_REF_URI=test:///default \
    "$test_bin" "$@" || rc=1
done
# The daemon must have served every case without dying.
kill -0 "$(cat "$dir/virtactord.pid")" || {
  echo "$0: virtactord died during the replay:" >&2
  cat "$dir/libvirtd.out" "$dir/libvirtd.log" >&2 2>/dev/null || true
  rc=1
}
exit $rc
