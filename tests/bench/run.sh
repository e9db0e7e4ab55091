#!/usr/bin/env bash
# tests/bench/run.sh [BUILD_DIR] [SECONDS] [SCENARIO.json...]
# Builds tests/bench/bench_runner.c against BUILD_DIR's libraries (default
# ./build; `cmake --build BUILD_DIR` first) with clang -O2 and runs it:
# in-process runs/s and us/run against the Python-user way, and RSS.
# Prints figures, asserts nothing. Run it on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
secs=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
build=$(cd "$build" && pwd)
for lib in libaf_core.a libaf_scenarios.a; do
  [[ -f $build/$lib ]] || { echo "bench: $build/$lib missing: cmake --build $build first" >&2; exit 2; }
done
cc=${CC:-$(command -v clang || command -v cc)}
out=$build/bench_runner
"$cc" -O2 -std=c11 -D_GNU_SOURCE -DAF_SOURCE_DIR="\"$src\"" -I"$src" -I/usr/include/python3.11 \
  "$here/bench_runner.c" "$build/libaf_core.a" "$build/libaf_scenarios.a" \
  -L/usr/lib/x86_64-linux-gnu -lpython3.11 -lcjson -lm -o "$out"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "command: $out $secs $*"
exec "$out" "$secs" "$@"
