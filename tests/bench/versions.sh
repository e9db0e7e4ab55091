#!/usr/bin/env bash
# tests/bench/versions.sh [ROUNDS] [BUILD_DIR...]: speed per embedded
# CPython, side by side in one run, with the ratio to the 3.11 build (the
# first build given; default: ./build, then build-3.12 and build-3.13 when
# they exist: scripts/test-versions makes them). Prints figures, asserts
# nothing; the issue's bound is "no version slower than 2x the 3.11 build".
#
# Per build, best of ROUNDS rounds (default 3), rounds interleaved across
# builds so that a burst of load on this shared machine hits each alike:
#   execs/s          `asyncfuzz gen --seed 5 --count 5000` runs per second of
#                    CPU time (user+sys of the process: time slices taken by
#                    other processes do not count, start-up does);
#   us/small         CPU microseconds per in-process run of
#                    tests/bench/small.json (bench_runner --count in-process
#                    N minus --count 0: start-up and warm-up cancel out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
rounds=${1:-3}
shift || true
builds=("$@")
if [ ${#builds[@]} -eq 0 ]; then
  builds=("$src/build")
  for b in "$src/build-3.12" "$src/build-3.13"; do
    if [ -x "$b/asyncfuzz" ]; then builds+=("$b"); else echo "($b: not built, left out)"; fi
  done
fi
tmp=$(mktemp -d /tmp/af-bench-versions.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
runs=5000 small=20000
cpu_of() { # command... -> user+sys seconds of the command
  /usr/bin/time -f '%U %S' -o "$tmp/t" "$@" >/dev/null 2>&1 || true
  tail -1 "$tmp/t" | awk '{printf "%.4f", $1 + $2}'
}
declare -A rate us version
for b in "${builds[@]}"; do
  cmake --build "$b" --target bench_runner asyncfuzz >/dev/null ||
    { echo "versions.sh: cannot build bench_runner in $b" >&2; exit 2; }
  version[$b]=$("$b/asyncfuzz" --version | sed -n 's/^embedded interpreter: CPython \([^ ]*\).*/\1/p')
done
for ((r = 1; r <= rounds; r++)); do
  for b in "${builds[@]}"; do
    rm -rf "$tmp/g"
    c=$(cpu_of "$b/asyncfuzz" gen --seed 5 --count $runs --out "$tmp/g" -q)
    x=$(awk -v c="$c" -v n=$runs 'BEGIN { printf "%.0f", n / c }')
    [ -z "${rate[$b]:-}" ] || [ "$x" -gt "${rate[$b]}" ] && rate[$b]=$x
    c0=$(cpu_of "$b/bench_runner" --count in-process 0 "$here/small.json")
    c1=$(cpu_of "$b/bench_runner" --count in-process $small "$here/small.json")
    u=$(awk -v a="$c0" -v b="$c1" -v n=$small 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
    if [ -z "${us[$b]:-}" ] || awk -v a="$u" -v b="${us[$b]}" 'BEGIN { exit !(a < b) }'; then us[$b]=$u; fi
  done
done
echo "machine: $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg); best of $rounds round(s)"
printf '%-10s %-40s %10s %10s %10s %12s\n' python build "execs/s" "vs first" "us/small" "vs first"
base=${builds[0]}
for b in "${builds[@]}"; do
  printf '%-10s %-40s %10s %10s %10s %12s\n' "${version[$b]}" "$(basename "$b")" "${rate[$b]}" \
    "$(awk -v a="${rate[$base]}" -v b="${rate[$b]}" 'BEGIN { printf "%.2fx", a / b }')" "${us[$b]}" \
    "$(awk -v a="${us[$base]}" -v b="${us[$b]}" 'BEGIN { printf "%.2fx", b / a }')"
done
echo "(vs first: how many times slower than $(basename "$base"), CPU time per run)"
