#!/bin/sh
# Stops a daemon started by start-qemu-daemon.sh DIR and every QEMU of it.
#
# usage: stop-qemu-daemon.sh [--daemon-only] DIR [NAME]
#
# 1. Destroys every active domain through the daemon (virsh destroy, each
#    bounded: libvirtd needs 10 s to kill a QEMU stopped by SIGSTOP).
# 2. Stops the daemon with ../stop-libvirtd.sh DIR NAME (NAME defaults to
#    libvirtd): SIGTERM to the pid in DIR/NAME.pid, SIGKILL after 10 s.
# 3. Checks that no QEMU of the run survives (qemu-pids.sh DIR); any that
#    does is killed (SIGKILL), reported on stderr, and the exit status is 1.
#
# --daemon-only skips steps 1 and 3: the daemon stops and its domains keep
# running, for a daemon restart (start-qemu-daemon.sh DIR again reattaches).
# Exits 0 when the daemon and all its QEMUs are gone (also when nothing ran);
# leaves DIR to the caller. Unmounts nothing: the daemon's mount namespace
# ends with its last process.
set -eu

daemon_only=0
if [ "${1:-}" = --daemon-only ]; then
  daemon_only=1
  shift
fi
[ $# -eq 1 ] || [ $# -eq 2 ] || {
  echo "usage: $0 [--daemon-only] DIR [NAME]" >&2
  exit 2
}
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
name=${2:-libvirtd}

# gone PID: true once PID has exited (a zombie counts as gone).
gone() {
  [ ! -d "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# 1. The domains, through the daemon while it still answers.
if [ $daemon_only = 0 ] && [ -S "$dir/libvirt-sock" ] && command -v virsh >/dev/null; then
  uri="qemu+unix:///system?socket=$dir/libvirt-sock"
  for dom in $(timeout 30 virsh -c "$uri" list --name 2>/dev/null || true); do
    timeout 60 virsh -c "$uri" destroy "$dom" >/dev/null 2>&1 || true
  done
fi

# 2. The daemon: SIGTERM, SIGKILL after 10 s (stop-libvirtd.sh).
sh "$here/../stop-libvirtd.sh" "$dir" "$name" || exit 1
[ $daemon_only = 0 ] || exit 0

# 3. No QEMU of this run may survive.
rc=0
survivors=$(sh "$here/qemu-pids.sh" "$dir")
if [ -n "$survivors" ]; then
  rc=1
  printf '%s\n' "$survivors" | while read -r qpid guest; do
    echo "$0: QEMU of domain '$guest' (pid $qpid) survived its daemon; killing it" >&2
    kill -KILL "$qpid" 2>/dev/null || true
  done
  for qpid in $(printf '%s\n' "$survivors" | cut -d' ' -f1); do
    deadline=$(($(date +%s) + 10))
    while ! gone "$qpid" && [ "$(date +%s)" -le $deadline ]; do
      sleep 0.1
    done
    gone "$qpid" || echo "$0: QEMU pid $qpid does not die" >&2
  done
fi
exit $rc
