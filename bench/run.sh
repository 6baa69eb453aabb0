#!/bin/sh
# The benchmark: builds what it needs (Release, in build-bench/ unless
# VA_BENCH_BUILD_DIR says otherwise), then runs bench/run.py with the
# arguments given (see bench/run.py --help and docs/benchmarks.md).
#
#   bench/run.sh                 the full run (about 10 minutes on 2 cores)
#   bench/run.sh --smoke         a tiny run that only checks the harness
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${VA_BENCH_BUILD_DIR:-$src/build-bench}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVA_BENCH=ON >/dev/null
fi
make -C "$build" -j2 --no-print-directory va_bench >&2

exec /usr/bin/python3 "$src/bench/run.py" --build-dir "$build" "$@"
