#!/bin/sh
# A scripted terminal session with the interactive virtactor shell in tmux:
# Tab completes a command and a domain name, Tab Tab lists the candidates,
# the Up arrow recalls earlier lines, and the history outlives the session.
#
# usage: terminal-session.sh VIRTACTOR
#
# Exits 77 (skipped) when tmux is not installed. Everything lives in a temp
# dir: a private tmux server (its own socket), HOME and XDG_CACHE_HOME.
set -eu
shell_bin=$1
command -v tmux >/dev/null 2>&1 || {
  echo "tmux is not installed: skipped"
  exit 77
}
tmp=$(mktemp -d /tmp/va-term-XXXXXX)
sock=$tmp/tmux.sock
tm() { tmux -S "$sock" "$@"; }
cleanup() {
  # Let each shell quit (it writes its history on the way out), wait for the
  # tmux server to end with its last session, then remove everything.
  for s in $(tm list-sessions -F '#{session_name}' 2>/dev/null); do
    tm send-keys -t "$s" C-u "quit" Enter >/dev/null 2>&1 || true
  done
  i=0
  while tm has-session >/dev/null 2>&1 && [ $i -lt 200 ]; do
    i=$((i + 1))
    sleep 0.05
  done
  tm kill-server >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $1"
  echo "--- screen:"
  tm capture-pane -p -t "$2" 2>/dev/null || true
  exit 1
}

# wait_for SESSION REGEX: polls the screen (at most 10 s) until a line matches.
wait_for() {
  i=0
  while ! tm capture-pane -p -N -t "$1" | grep -Eq -- "$2"; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "no line matching '$2'" "$1"
    sleep 0.05
  done
}

# count SESSION REGEX: the number of screen lines that match.
count() { tm capture-pane -p -N -t "$1" | grep -Ec -- "$2" || true; }

start() {
  tm new-session -d -s "$1" -x 150 -y 40 \
    "env HOME=$tmp XDG_CACHE_HOME=$tmp/cache TERM=xterm INPUTRC=/dev/null \
     $shell_bin -c test:///default"
  wait_for "$1" '^virtactor # $'
}

start one
# A command name: "domst" + Tab becomes "domstat" (domstate and domstats
# share it), then "e" + Tab becomes "domstate ".
tm send-keys -t one "domst" Tab
wait_for one '^virtactor # domstat$'
tm send-keys -t one "e" Tab
wait_for one '^virtactor # domstate $'
# A domain name from the live connection: "t" + Tab becomes "test ".
tm send-keys -t one "t" Tab
wait_for one '^virtactor # domstate test $'
tm send-keys -t one Enter
wait_for one '^running *$'
# Two candidates: Tab completes their common part, a second Tab lists them.
tm send-keys -t one "domi" Tab Tab
wait_for one 'domid +dominfo'
tm send-keys -t one C-u "dominfo test" Enter
wait_for one '^Name: +test *$'
# Up twice recalls "domstate test"; Enter runs it again.
tm send-keys -t one Up Up
wait_for one '^virtactor # domstate test $'
tm send-keys -t one Enter
i=0
while [ "$(count one '^running *$')" -lt 2 ]; do
  i=$((i + 1))
  [ $i -le 200 ] || fail "the recalled line did not run" one
  sleep 0.05
done
tm send-keys -t one "quit" Enter
i=0
while ! grep -q '^quit$' "$tmp/cache/virtactor/history" 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 200 ] || fail "no history file in \$XDG_CACHE_HOME/virtactor" one
  sleep 0.05
done

# The shell is gone, and with its only session the tmux server ends: wait
# for that, or the next new-session may reach a server on its way out
# ("server exited unexpectedly").
i=0
while tm has-session >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -le 200 ] || fail "the first shell did not end after quit" one
  sleep 0.05
done

# A new session starts from the saved history: Up shows "quit", Up again
# the "domstate test" of the first session.
start two
tm send-keys -t two Up Up
wait_for two '^virtactor # domstate test $'
echo "PASS"
