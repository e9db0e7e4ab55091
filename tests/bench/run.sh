#!/usr/bin/env bash
# tests/bench/run.sh [BUILD_DIR] [SECONDS] [SCENARIO.json...]
# Builds tests/bench/bench_runner.c in BUILD_DIR (default ./build, configured
# by scripts/build; target bench_runner, -O2) and runs it:
# in-process runs/s and us/run against the Python-user way, and RSS.
# Prints figures, asserts nothing. Run it on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
secs=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
build=$(cd "$build" && pwd)
cmake --build "$build" --target bench_runner >/dev/null ||
  { echo "bench: could not build bench_runner in $build (configure it first: scripts/build)" >&2; exit 2; }
out=$build/bench_runner
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "command: $out $secs $*"
exec "$out" "$secs" "$@"
