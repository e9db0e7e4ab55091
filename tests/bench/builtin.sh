#!/usr/bin/env bash
# builtin.sh - figures for the built-in engine (prints, asserts nothing).
#   bash tests/bench/builtin.sh [BUILD/asyncfuzz] [SECONDS]
# 1. execs/s on the seed corpus (corpus/asyncio), 1 and 2 jobs, with each
#    coverage kind (semantic,python / semantic / none), findings limited to
#    an oracle that stays quiet (so the figure is the loop, not the writing
#    of findings);
# 2. time to the first finding of CPython gh-86296 (wait_for drops an outer
#    cancellation when the inner task completes in the same loop iteration;
#    Debian's 3.11) from an EMPTY corpus, all oracles on, 5 runs (seeds 1-5),
#    median; the campaign folder on the disk (/tmp) and on tmpfs
#    (/dev/shm), since filing the other findings met on the way costs file
#    creations.
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
SECS=${2:-5}
W=$(mktemp -d /tmp/af-bench-builtin.XXXXXX)
trap 'rm -rf "$W" /dev/shm/af-bench-builtin.$$' EXIT
unset AF_TARGET AF_ORACLES AF_ENGINE_SELFTEST
echo "machine: $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg)"

rate() { sed -nE 's/.* execs in ([0-9.]+) s \(([0-9]+)\/s\).*/\2/p' "$1" | tail -1; }
echo
echo "== execs/s on the seed corpus, ${SECS}s each =="
printf '%-18s %10s %10s %8s\n' coverage "1 job" "2 jobs" ratio
for cov in semantic,python semantic none; do
  r=()
  for jobs in 1 2; do
    rm -rf "$W/c" && mkdir -p "$W/c" && cp corpus/asyncio/*.bin "$W/c/"
    AF_ORACLES=differential "$AF" fuzz --corpus "$W/c" --out "$W/o" --time "$SECS" --jobs $jobs --seed 1 \
      --coverage $cov --no-coverage-check --quiet > "$W/log" 2>&1
    r+=("$(rate "$W/log")")
    rm -rf "$W/o"
  done
  ratio=$(awk -v a="${r[0]}" -v b="${r[1]}" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')
  printf '%-18s %10s %10s %8s\n' "$cov" "${r[0]}" "${r[1]}" "$ratio"
done

echo
echo "== time to first gh-86296 finding from an empty corpus (all oracles, coverage semantic) =="
for place in "$W" "/dev/shm/af-bench-builtin.$$"; do
  [ -d "$(dirname "$place")" ] || continue
  times=()
  for seed in 1 2 3 4 5; do
    rm -rf "$place/g"
    mkdir -p "$place/g"
    "$AF" fuzz --out "$place/g" --time 60 --seed $seed --coverage semantic \
      --stop-on "dropped in wait_for" --quiet > "$W/log" 2>&1
    t=$(sed -nE "s/.*found after ([0-9.]+) s \(([0-9]+) execs\).*/\1/p" "$W/log")
    n=$(sed -nE "s/.*found after ([0-9.]+) s \(([0-9]+) execs\).*/\2/p" "$W/log")
    times+=("${t:-inf}")
    printf '  seed %d: %s s (%s execs)\n' $seed "${t:-not found}" "${n:--}"
  done
  med=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
  echo "  folder on $(df --output=fstype "$place" | tail -1): median $med s"
  rm -rf "$place"/g
done
echo
echo "command: asyncfuzz fuzz --out DIR --time 60 --seed N --coverage semantic --stop-on 'dropped in wait_for'"
