#!/bin/sh
# The layering rules of the tree (docs/architecture.md), checked on the
# sources and on the daemon binary:
#   protocol <- actors <- drivers <- client, daemon
# protocol/ includes no project folder but itself; actors/ no drivers/,
# client/ or daemon/; drivers/ no client/ or daemon/; daemon/ no client/;
# virtactord links no remote-driver code and no libssh2.
# Usage: check.sh SOURCE_DIR [VIRTACTORD]
set -u
src=$1
daemon_bin=${2:-}
fail=0

# forbid FOLDER PATTERN...: no file under FOLDER includes a header of PATTERN.
forbid() {
  folder=$1
  shift
  for dir in "$@"; do
    hits=$(grep -rn --include='*.hpp' --include='*.cpp' "^#include \"$dir/" "$src/$folder" 2>/dev/null)
    if [ -n "$hits" ]; then
      echo "layering: $folder/ must not include $dir/:"
      echo "$hits"
      fail=1
    fi
  done
}

forbid protocol actors drivers client daemon
forbid actors drivers client daemon
forbid drivers client daemon
forbid daemon client
forbid client daemon

if [ -n "$daemon_bin" ]; then
  if [ ! -x "$daemon_bin" ]; then
    echo "layering: $daemon_bin is not built"
    fail=1
  else
    if ldd "$daemon_bin" | grep -q 'libssh2'; then
      echo "layering: virtactord links libssh2"
      fail=1
    fi
    # The remote driver's symbols live in namespace virtactor::client.
    if nm -C "$daemon_bin" 2>/dev/null | grep -q 'virtactor::client::'; then
      echo "layering: virtactord contains client code:"
      nm -C "$daemon_bin" | grep 'virtactor::client::' | head -5
      fail=1
    fi
  fi
fi

[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
