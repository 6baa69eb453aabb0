#!/bin/sh
# The real virsh against virtactord with a connection held open: while
# `virsh event --loop --all` holds a second connection, every line of
# held-sequence.txt runs as a virsh process of its own, so the test driver's
# state carries over from one command to the next (libvirt keeps a test:///
# URI's state while any connection to it is open). The same sequence runs
# against a private, real libvirtd (test+unix://) and against virtactord over
# test+unix:// and test+tcp://; the three transcripts (each command's stdout,
# stderr and exit status, then the lifecycle events the held connection saw)
# must be identical.
#
# usage: held-connection.sh VIRTACTORD
# Exits 77 (skipped) when virsh or libvirtd is not installed.
set -eu

[ $# -eq 1 ] || {
  echo "usage: $0 VIRTACTORD" >&2
  exit 2
}
virtactord=$1
here=$(cd "$(dirname "$0")" && pwd)
interop=$here/../interop
data=$here/../shell/data
sequence=$here/held-sequence.txt

virsh=$(command -v virsh || true)
[ -n "$virsh" ] || {
  echo "virsh is not installed: skipping"
  exit 77
}
libvirtd=${LIBVIRTD:-$(command -v libvirtd || echo /usr/sbin/libvirtd)}
[ -x "$libvirtd" ] || {
  echo "libvirtd is not installed: skipping"
  exit 77
}
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset LIBVIRT_DEFAULT_URI VIRSH_DEFAULT_CONNECT_URI || true

dir=$(mktemp -d "${TMPDIR:-/tmp}/va-held.XXXXXX")
watcher=
cleanup() {
  [ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
  sh "$interop/stop-libvirtd.sh" "$dir/libvirtd" >/dev/null 2>&1 || true
  sh "$interop/stop-libvirtd.sh" "$dir/virtactord" virtactord >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# start KIND: starts the daemon in $dir/KIND on a free port; sets $port.
start() {
  mkdir -p "$dir/$1"
  base=$((20000 + ($$ * 7 + ${#1}) % 20000))
  for k in 0 1 2 3 4 5 6 7 8 9; do
    port=$((base + k))
    if [ "$1" = libvirtd ]; then
      sh "$interop/start-libvirtd.sh" "$dir/$1" $port 2>"$dir/$1.err" && return 0
    else
      LIBVIRTD=$virtactord sh "$interop/start-libvirtd.sh" "$dir/$1" $port 2>"$dir/$1.err" &&
        return 0
    fi
  done
  echo "$0: could not start $1:" >&2
  cat "$dir/$1.err" >&2
  exit 1
}

# wait_for FILE TEXT SECONDS: true once FILE holds the fixed string TEXT.
wait_for() {
  i=0
  while ! grep -qF "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le $(($3 * 10)) ] || return 1
    sleep 0.1
  done
}

# replay URI OUT: the sequence against URI, with the transcript in OUT.
replay() {
  uri=$1
  out=$2
  events=$out.events
  : >"$events"
  (cd "$data" && exec "$virsh" -c "$uri" event --loop --all >>"$events" 2>&1) &
  watcher=$!
  # The watcher is registered once it sees an event; events of this probe
  # stay out of the transcript.
  ready=
  for k in 1 2 3 4 5 6 7 8 9 10; do
    "$virsh" -c "$uri" suspend test >/dev/null 2>&1 || true
    "$virsh" -c "$uri" resume test >/dev/null 2>&1 || true
    if wait_for "$events" "'test': Resumed" 1; then
      ready=1
      break
    fi
  done
  [ -n "$ready" ] || {
    echo "$0: the event watcher on $uri saw no event:" >&2
    cat "$events" >&2
    exit 1
  }
  sleep 0.5
  skip=$(wc -l <"$events")
  : >"$out"
  grep -v '^#' "$sequence" | while IFS= read -r cmd; do
    [ -n "$cmd" ] || continue
    rc=0
    (cd "$data" && "$virsh" -c "$uri" "$cmd") >"$dir/stdout" 2>"$dir/stderr" || rc=$?
    {
      echo "\$ virsh $cmd"
      # The test driver reports the host's clock as a domain's CPU time.
      sed 's/^CPU time: .*/CPU time: <masked>/' "$dir/stdout"
      sed 's/^/! /' "$dir/stderr"
      echo "exit $rc"
    } >>"$out"
  done
  wait_for "$events" "'probe': Undefined" 10 || {
    echo "$0: the event watcher on $uri missed the last event:" >&2
    cat "$events" >&2
    exit 1
  }
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  watcher=
  echo "== events seen by the held connection" >>"$out"
  tail -n +$((skip + 1)) "$events" >>"$out"
}

start libvirtd
replay "test+unix:///default?socket=$dir/libvirtd/libvirt-sock" "$dir/libvirtd.txt"
start virtactord
replay "test+unix:///default?socket=$dir/virtactord/libvirt-sock" "$dir/virtactord-unix.txt"
replay "test+tcp://127.0.0.1:$port/default" "$dir/virtactord-tcp.txt"

# The reference must show that state carried over and events flowed, so
# that identical transcripts mean something.
for want in "event 'lifecycle' for domain 'demo': Started Booted" \
  "event 'lifecycle' for domain 'demo': Suspended Paused" \
  "event 'lifecycle' for domain 'scratch': Started Booted" \
  "event 'lifecycle' for domain 'demo': Undefined Removed" \
  " demo   running"; do
  grep -qF "$want" "$dir/libvirtd.txt" || {
    echo "$0: the libvirtd transcript lacks \"$want\":" >&2
    cat "$dir/libvirtd.txt" >&2
    exit 1
  }
done

rc=0
for t in virtactord-unix virtactord-tcp; do
  if diff -u "$dir/libvirtd.txt" "$dir/$t.txt" >"$dir/$t.diff"; then
    echo "$t: identical to libvirtd ($(grep -c '^\$ virsh' "$dir/$t.txt") commands," \
      "$(grep -c "^event " "$dir/$t.txt") events)"
  else
    echo "$t differs from libvirtd:"
    cat "$dir/$t.diff"
    rc=1
  fi
done
exit $rc
