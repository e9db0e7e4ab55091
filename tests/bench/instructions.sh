#!/usr/bin/env bash
# instructions.sh - instructions per run, counted by callgrind (prints
# figures, asserts nothing). The machine's speed drifts by ~20% within an
# hour (a shared VM), so time ratios move; instruction counts do not.
#
#   bash tests/bench/instructions.sh [BUILD_DIR] [N] [SCENARIO.json]
#   (default build, 2000 runs, tests/bench/small.json)
#
# For the in-process path (af_runner_run: tuples, interp.run, trace
# conversion, oracles) and for the bare loop (the same small program written
# by hand on the same reused loop, bench_py.py's bare_runner): callgrind's
# instruction count of bench_runner --count with N runs minus with 0 runs
# (same start-up and warm-up), divided by N. Needs valgrind (Debian package
# valgrind; not part of the test dependencies). The bare loop is always
# tests/bench/small.json's program: compare with that scenario.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
n=${2:-2000}
scen=${3:-$src/tests/bench/small.json}
command -v valgrind > /dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
# run.sh builds bench_runner; it prints figures for 0.1 s per measure.
bash "$here/run.sh" "$build" 0.1 "$scen" > /dev/null
bin=$(mktemp /tmp/af-bench-runner.XXXXXX)
trap 'rm -f "$bin"' EXIT
# valgrind 3.19 cannot read clang-14's DWARF 5: count on a stripped copy.
strip -o "$bin" "$build/bench_runner"
count() { # what runs -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --count "$1" "$2" "$scen" 2>&1 |
    awk '/Collected/ {print $4}'
}
per_run() { echo $(( ($(count "$1" "$n") - $(count "$1" 0)) / n )); }
inproc=$(per_run in-process)
bare=$(per_run bare)
echo "instructions per run ($n runs, callgrind): $(basename "$scen")"
printf '  %-12s %10s\n' in-process "$inproc"
printf '  %-12s %10s  (tests/bench/small.json by hand)\n' "bare loop" "$bare"
awk -v a="$inproc" -v b="$bare" 'BEGIN { printf "  in-process / bare: %.2fx\n", a / b }'
