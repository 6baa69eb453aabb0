#!/bin/sh
# The bash completion of virtactor (client/shell/bash-completion/virtactor):
# runs its function as bash would on Tab, with virtactor from the build.
#
# usage: bash-completion.sh VIRTACTOR SCRIPT
set -eu
command -v bash >/dev/null 2>&1 || { echo "bash is not installed: skipped"; exit 77; }
bin=$1
script=$2
tmp=$(mktemp -d /tmp/va-bashcomp-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ln -s "$bin" "$tmp/virtactor"
PATH=$tmp:$PATH VIRTACTOR_DEFAULT_URI=test:///default bash -c '
  set -u
  . "$1"
  fails=0
  # expect LINE WANTED: completes LINE (the cursor at its end), compares.
  expect() {
    COMP_LINE=$1
    COMP_POINT=${#1}
    COMPREPLY=()
    _virtactor
    got="${COMPREPLY[*]-}"
    if [ "$got" != "$2" ]; then
      echo "FAIL: [$1] gave [$got], wanted [$2]"
      fails=$((fails + 1))
    else
      echo "ok: [$1] -> [$got]"
    fi
  }
  expect "virtactor domi" "domid dominfo"
  expect "virtactor dominfo t" "test"
  expect "virtactor -c test:///default dominfo --domain " "test"
  expect "virtactor -c test:///default list --al" "--all"
  expect "virtactor --rea" "--readonly"
  expect "virtactor -q net-info d" "default"
  expect "virtactor start t" ""
  exit $fails
' sh "$script"
