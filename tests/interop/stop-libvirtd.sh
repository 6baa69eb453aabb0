#!/bin/sh
# Stops a daemon started by start-libvirtd.sh: libvirtd, or with NAME
# virtactord, a virtactord started there through LIBVIRTD.
#
# usage: stop-libvirtd.sh DIR [NAME]
#
# Sends SIGTERM to the pid in DIR/NAME.pid (NAME defaults to libvirtd), waits
# (at most 10 s) for the daemon to exit, then SIGKILLs it. Prints nothing and
# exits 0 when the daemon is gone (also when it was not running); leaves DIR
# itself to the caller.
set -eu

[ $# -eq 1 ] || [ $# -eq 2 ] || {
  echo "usage: $0 DIR [NAME]" >&2
  exit 2
}
name=${2:-libvirtd}
pidfile=$1/$name.pid
[ -s "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
case $pid in
  '' | *[!0-9]*)
    echo "$0: $pidfile holds no pid" >&2
    exit 1
    ;;
esac

# Only signal the process if it really is the daemon (pids get reused).
# A zombie (state Z, when nothing reaps it) counts as gone.
is_daemon() {
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] &&
    ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null
}
if ! is_daemon; then
  rm -f "$pidfile"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
i=0
while is_daemon; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
    break
  fi
  sleep 0.1
done
if is_daemon; then
  echo "$0: $name (pid $pid) does not stop" >&2
  exit 1
fi
rm -f "$pidfile"
exit 0
