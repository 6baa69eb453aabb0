#!/bin/sh
# The qemu driver benchmark: builds what it needs (Release, in build-bench/
# unless VA_BENCH_BUILD_DIR says otherwise: virtactord and the ACPI test
# guest), then runs bench/qemu/run.py with the arguments given (see
# bench/qemu/run.py --help and docs/benchmarks.md). Needs root.
#
#   bench/qemu/run.sh                  virtactord against libvirtd (~10 minutes)
#   bench/qemu/run.sh --sut libvirtd   libvirtd against itself (checks the harness)
#   bench/qemu/run.sh --smoke          a tiny run that only checks the harness
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${VA_BENCH_BUILD_DIR:-$src/build-bench}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVA_BENCH=ON >/dev/null
fi
cmake --build "$build" -j2 --target virtactord qemu_test_guest >&2

exec /usr/bin/python3 "$src/bench/qemu/run.py" --build-dir "$build" "$@"
