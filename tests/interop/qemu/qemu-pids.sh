#!/bin/sh
# Lists the QEMU processes of one private daemon run (start-qemu-daemon.sh
# DIR), whatever state they are in and whether their daemon still runs.
#
# usage: qemu-pids.sh DIR
#
# Prints "PID NAME" per process, NAME being the domain name from QEMU's
# `-name guest=NAME,...`. A QEMU belongs to the run when its command line
# names a path under DIR (the harness keeps guest disks there) or when it
# holds open a file under DIR: libvirt leaves QEMU holding its locked pid file
# (DIR/run/qemu/NAME.pid in the host's view), whatever the disk. Zombies have
# neither and count as gone. Prints nothing when there are none; exits 0.
set -eu

[ $# -eq 1 ] && [ -d "$1" ] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
dir=$(cd "$1" && pwd)

inodes=$(mktemp)
trap 'rm -f "$inodes"' EXIT
find "$dir" -xdev -type f -printf '%D:%i\n' 2>/dev/null | sort -u >"$inodes"

# Candidates by command name (ps shows the first 15 characters).
for pid in $(ps -eo pid=,comm= | awk '$2 ~ /^qemu-system/ { print $1 }'); do
  # argv, one per line (arguments hold no newlines here).
  args=$( { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
  [ -n "$args" ] || continue # a zombie
  ours=0
  case $args in
    *"$dir/"*) ours=1 ;;
  esac
  if [ $ours = 0 ] && [ -s "$inodes" ] &&
    { stat -L -c '%d:%i' "/proc/$pid/fd/"* 2>/dev/null || true; } | grep -qxFf "$inodes"; then
    ours=1
  fi
  [ $ours = 1 ] || continue
  guest=$(printf '%s\n' "$args" | awk 'prev == "-name" { print; exit } { prev = $0 }')
  guest=${guest#guest=}
  guest=${guest%%,debug-threads=*}
  echo "$pid $guest"
done
exit 0
