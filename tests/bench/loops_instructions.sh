#!/usr/bin/env bash
# loops_instructions.sh - instructions per run of a loop under test against
# the VirtualLoop, counted by callgrind (prints figures, asserts nothing).
# Time ratios on this shared machine move by 20% within minutes; instruction
# counts do not, so the selector loop's cost against the VirtualLoop (the
# loops issue's speed target: at most 1.5x) is read here, and
# bench_loops prints the times beside it.
#
#   bash tests/bench/loops_instructions.sh [BUILD_DIR] [N] [SCENARIO.json...]
#   (default build, 1000 runs, tests/bench/small.json and medium.json)
#
# Each figure: callgrind's count of bench_loops --count TARGET N minus the
# same with 0 runs (same start-up and warm-up), divided by N. Needs valgrind
# (Debian package valgrind; not a test dependency).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
n=${2:-1000}
shift $(( $# > 2 ? 2 : $# ))
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=("$src/tests/bench/small.json" "$src/tests/bench/medium.json")
command -v valgrind > /dev/null || { echo "loops_instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
cmake --build "$build" --target bench_loops > /dev/null
bin=$(mktemp /tmp/af-bench-loops.XXXXXX)
trap 'rm -f "$bin"' EXIT
# valgrind 3.19 cannot read clang-14's DWARF 5: count on a stripped copy.
strip -o "$bin" "$build/bench_loops"
count() { # target runs scenario -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --count "$1" "$2" "$3" 2>&1 |
    awk '/Collected/ {print $4}'
}
per_run() { echo $(( ($(count "$1" "$n" "$2") - $(count "$1" 0 "$2")) / n )); }
echo "instructions per run ($n runs, callgrind; run + judge, in process)"
for scen in "${scenarios[@]}"; do
  base=$(per_run "" "$scen")
  sel=$(per_run asyncio_selector "$scen")
  echo "$(basename "$scen")"
  printf '  %-40s %10s\n' "VirtualLoop (default, C accelerators)" "$base"
  printf '  %-40s %10s  %s\n' "SelectorEventLoop on virtual time" "$sel" \
    "$(awk -v a="$sel" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')"
done
