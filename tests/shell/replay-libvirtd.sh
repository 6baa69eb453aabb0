#!/bin/sh
# Replays the shell case list with virsh and virtactor both talking to a
# private, real libvirtd over test+unix://, restarting the daemon before every
# invocation so that each case starts from the test driver's default state.
# This checks the shell through the remote driver, and shows how the daemon
# tests replay the same list (set VA_SHELL_URI to a virtactord socket).
#
# usage: replay-libvirtd.sh COMPARE_TEST_BINARY [boost test arguments...]
# Exits 77 (skipped) when virsh or libvirtd is not installed.
set -eu

[ $# -ge 1 ] || {
  echo "usage: $0 COMPARE_TEST_BINARY [args...]" >&2
  exit 2
}
test_bin=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
interop=$here/../interop

command -v virsh >/dev/null 2>&1 || {
  echo "virsh is not installed: skipping the libvirtd replay"
  exit 77
}
libvirtd=${LIBVIRTD:-$(command -v libvirtd || echo /usr/sbin/libvirtd)}
[ -x "$libvirtd" ] || {
  echo "libvirtd is not installed: skipping the libvirtd replay"
  exit 77
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/va-shell-replay.XXXXXX")
cleanup() {
  sh "$interop/stop-libvirtd.sh" "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# The start script wants a TCP port as well; try a few until one is free.
port=
base=$((20000 + $$ % 20000))
for k in 0 1 2 3 4 5 6 7 8 9; do
  if sh "$interop/start-libvirtd.sh" "$dir" $((base + k)) 2>/dev/null; then
    port=$((base + k))
    break
  fi
done
[ -n "$port" ] || {
  echo "$0: could not start libvirtd" >&2
  exit 1
}

uri="test+unix:///default?socket=$dir/libvirt-sock"
rc=0
VA_SHELL_URI=$uri VA_SHELL_REF_URI=$uri \
  VA_SHELL_BEFORE_EACH="sh '$interop/stop-libvirtd.sh' '$dir' && sh '$interop/start-libvirtd.sh' '$dir' $port" \
  "$test_bin" "$@" || rc=$?
exit $rc
