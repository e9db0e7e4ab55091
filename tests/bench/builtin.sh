#!/usr/bin/env bash
# builtin.sh - figures for the built-in engine (prints, asserts nothing).
#   bash tests/bench/builtin.sh [BUILD/asyncfuzz] [SECONDS]   (default 20: early in a
#   campaign new corpus entries come fast and two workers re-run each
#   other's, so short runs understate what --jobs 2 gives a long one)
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
SECS=${2:-20}
REPS=${REPS:-3}
W=$(mktemp -d /tmp/af-bench-builtin.XXXXXX)
trap 'rm -rf "$W" /dev/shm/af-bench-builtin.$$' EXIT
unset AF_TARGET AF_ORACLES
echo "machine: $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg)"

rate() { sed -nE 's/.* execs in ([0-9.]+) s \(([0-9]+)\/s\).*/\2/p' "$1" | tail -1; }
echo
echo "== execs/s on the seed corpus, ${SECS}s each, median of $REPS alternating runs =="
printf '%-18s %10s %10s %8s\n' coverage "1 job" "2 jobs" ratio
# The machine's speed drifts (a shared VM): 1 and 2 jobs alternate, REPS
# times each (default 3), and the medians are compared.
median() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }
for cov in semantic,python semantic none; do
  one=""; two=""
  for rep in $(seq "$REPS"); do
    for jobs in 1 2; do
      rm -rf "$W/c" && mkdir -p "$W/c" && cp corpus/asyncio/*.bin "$W/c/"
      AF_ORACLES=differential "$AF" fuzz --corpus "$W/c" --out "$W/o" --time "$SECS" --jobs $jobs --seed "$rep" \
        --coverage $cov --no-coverage-check --quiet > "$W/log" 2>&1
      if [ "$jobs" = 1 ]; then one="$one $(rate "$W/log")"; else two="$two $(rate "$W/log")"; fi
      rm -rf "$W/o"
    done
  done
  a=$(echo "$one" | median); b=$(echo "$two" | median)
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')
  printf '%-18s %10s %10s %8s   (runs:%s |%s)\n' "$cov" "$a" "$b" "$ratio" "$one" "$two"
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
