#!/bin/sh
# Stops a libvirtd started by start-libvirtd.sh.
#
# usage: stop-libvirtd.sh DIR
#
# Sends SIGTERM to the pid in DIR/libvirtd.pid, waits (at most 10 s) for the
# daemon to exit, then SIGKILLs it. Prints nothing and exits 0 when the daemon
# is gone (also when it was not running); leaves DIR itself to the caller.
set -eu

[ $# -eq 1 ] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
pidfile=$1/libvirtd.pid
[ -s "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
case $pid in
  '' | *[!0-9]*)
    echo "$0: $pidfile holds no pid" >&2
    exit 1
    ;;
esac

# Only signal the process if it really is a libvirtd (pids get reused).
# A zombie (state Z, when nothing reaps it) counts as gone.
is_libvirtd() {
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = libvirtd ] &&
    ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null
}
if ! is_libvirtd; then
  rm -f "$pidfile"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
i=0
while is_libvirtd; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
    break
  fi
  sleep 0.1
done
if is_libvirtd; then
  echo "$0: libvirtd (pid $pid) does not stop" >&2
  exit 1
fi
rm -f "$pidfile"
exit 0
