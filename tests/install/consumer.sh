#!/bin/sh
# virtactor as others use it, from a build tree:
#  1. `cmake --install` into a temp prefix: programs, libraries, headers, the
#     CMake package, the .pc file, man pages, systemd units (which must pass
#     `systemd-analyze verify`), bash completion, the example configuration;
#  2. the installed examples built out of tree with find_package(virtactor),
#     and one with pkg-config alone;
#  3. those programs run against the installed virtactord (unix and tcp):
#     many connections at once, the blocking facade, and lifecycle events
#     that survive a daemon restart;
#  4. a project that takes the source tree in with FetchContent: configured,
#     and one of its sources compiled against virtactor::client (the whole
#     build with VA_SUBPROJECT_BUILD=1).
#
# usage: consumer.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/va-consumer-XXXXXX)
prefix=$tmp/prefix
daemon_dir=$tmp/daemon
events_pid=""
cleanup() {
  [ -n "$events_pid" ] && kill "$events_pid" 2>/dev/null || true
  LIBVIRTD=$prefix/sbin/virtactord sh "$src/tests/interop/stop-libvirtd.sh" "$daemon_dir" virtactord \
    >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
step() { echo "--- $(date +%T) $*"; }

# wait_for FILE REGEX: at most 30 s for a line matching REGEX in FILE.
wait_for() {
  i=0
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 300 ] || { cat "$1" 2>/dev/null; fail "no line matching '$2' in $1"; }
    sleep 0.1
  done
}

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "install"; }
for f in bin/virtactor bin/virtactor-ssh-helper sbin/virtactord \
  lib/cmake/virtactor/virtactorConfig.cmake lib/cmake/virtactor/virtactorTargets.cmake \
  lib/pkgconfig/virtactor.pc include/virtactor/client/async.hpp include/virtactor/client/blocking.hpp \
  share/man/man1/virtactor.1 share/man/man8/virtactord.8 \
  lib/systemd/system/virtactord.service lib/systemd/system/virtactord.socket \
  lib/systemd/system/virtactord-ro.socket share/bash-completion/completions/virtactor \
  share/bash-completion/completions/virtactord share/doc/virtactor/examples/virtactord.conf \
  share/doc/virtactor/examples/embedding/CMakeLists.txt; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
grep -q "^ExecStart=$prefix/sbin/virtactord " "$prefix/lib/systemd/system/virtactord.service" ||
  fail "the unit does not start the installed virtactord"
if command -v systemd-analyze >/dev/null 2>&1 && command -v man >/dev/null 2>&1; then
  step "systemd-analyze verify"
  (cd "$prefix/lib/systemd/system" && MANPATH=$prefix/share/man systemd-analyze verify \
    virtactord.service virtactord.socket virtactord-ro.socket) || fail "systemd-analyze verify"
else
  echo "systemd-analyze or man missing: units not verified"
fi
if command -v man >/dev/null 2>&1; then
  for page in virtactor virtactord; do
    MANPATH=$prefix/share/man man -w "$page" >/dev/null || fail "man $page does not find the page"
  done
fi

launcher=""
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
step "the installed examples, out of tree, with find_package(virtactor)"
cmake -S "$prefix/share/doc/virtactor/examples/embedding" -B "$tmp/examples" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >"$tmp/ex.log" 2>&1 ||
  { cat "$tmp/ex.log"; fail "configure the examples"; }
cmake --build "$tmp/examples" -j2 >>"$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; fail "build the examples"; }

step "an example with pkg-config"
pc="env PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config"
$pc --exists virtactor || fail "pkg-config does not find virtactor"
cxx=${CXX:-c++}
command -v ccache >/dev/null 2>&1 && cxx="ccache $cxx"
# shellcheck disable=SC2046
$cxx -std=c++20 -O1 -o "$tmp/async_list_pc" "$src/examples/async_list.cpp" \
  $($pc --cflags --libs virtactor) || fail "pkg-config build"

step "the examples against the installed virtactord"
mkdir -p "$daemon_dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_daemon() {
  LIBVIRTD=$prefix/sbin/virtactord sh "$src/tests/interop/start-libvirtd.sh" "$daemon_dir" "$port" ||
    fail "the installed virtactord did not start"
}
stop_daemon() {
  sh "$src/tests/interop/stop-libvirtd.sh" "$daemon_dir" virtactord || fail "virtactord did not stop"
}
start_daemon
unix_uri="test+unix:///default?socket=$daemon_dir/libvirt-sock"
tcp_uri="test+tcp://127.0.0.1:$port/default"
for prog in "$tmp/examples/async_list" "$tmp/async_list_pc"; do
  "$prog" test:///default "$unix_uri" "$tcp_uri" "$unix_uri" >"$tmp/list.out" 2>&1 ||
    { cat "$tmp/list.out"; fail "$prog failed"; }
  [ "$(grep -c ': test$' "$tmp/list.out")" = 4 ] || { cat "$tmp/list.out"; fail "$prog listed wrong"; }
done
"$tmp/examples/blocking" "$unix_uri" >"$tmp/blocking.out" 2>&1 || { cat "$tmp/blocking.out"; fail blocking; }
grep -Eq '^test +running ' "$tmp/blocking.out" || { cat "$tmp/blocking.out"; fail "blocking output"; }

# Events with reconnect: subscribe, restart the daemon, see it come back,
# then two lifecycle events made by the installed shell.
"$tmp/examples/events" "$unix_uri" 2 >"$tmp/events.out" 2>&1 &
events_pid=$!
wait_for "$tmp/events.out" '^subscribed$'
stop_daemon
wait_for "$tmp/events.out" '^connection lost'
start_daemon
wait_for "$tmp/events.out" '^reconnected$'
"$prefix/bin/virtactor" -q -c "$unix_uri" 'suspend test; resume test' >/dev/null ||
  fail "the installed shell could not suspend and resume"
i=0
while kill -0 "$events_pid" 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 300 ] || { cat "$tmp/events.out"; fail "the events example did not end"; }
  sleep 0.1
done
wait "$events_pid" || { cat "$tmp/events.out"; fail "the events example failed"; }
events_pid=""
grep -q "^event 'lifecycle' for domain 'test': Suspended$" "$tmp/events.out" || fail "no Suspended"
grep -q "^event 'lifecycle' for domain 'test': Resumed$" "$tmp/events.out" || fail "no Resumed"
stop_daemon

step "FetchContent of the source tree"
cmake -S "$src/tests/install/subproject" -B "$tmp/sub" -DVA_SOURCE_DIR="$src" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >"$tmp/sub.log" 2>&1 ||
  { cat "$tmp/sub.log"; fail "configure a project that includes virtactor"; }
grep -q "add_test" "$tmp/sub/_deps/virtactor-build/CTestTestfile.cmake" 2>/dev/null &&
  fail "virtactor's tests were configured inside another project"
cmake --build "$tmp/sub" --target blocking_example_object >>"$tmp/sub.log" 2>&1 ||
  { cat "$tmp/sub.log"; fail "compile against virtactor::client from source"; }
# Building the whole library a second time is slow without a warm ccache:
# only on request (VA_SUBPROJECT_BUILD=1).
if [ "${VA_SUBPROJECT_BUILD:-0}" = 1 ]; then
  cmake --build "$tmp/sub" -j2 --target blocking_example >>"$tmp/sub.log" 2>&1 ||
    { cat "$tmp/sub.log"; fail "build against virtactor::client from source"; }
  "$tmp/sub/blocking_example" >"$tmp/sub.out" 2>&1 || { cat "$tmp/sub.out"; fail "subproject example"; }
  grep -Eq '^test +running ' "$tmp/sub.out" || fail "subproject example output"
fi
echo "PASS"
