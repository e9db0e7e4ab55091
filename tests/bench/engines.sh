#!/usr/bin/env bash
# engines.sh - benchmark of the fuzz engines (prints figures, asserts nothing).
#
#   bash tests/bench/engines.sh [BUILD_DIR]        (default: build)
#   BENCH_SECONDS=10 BENCH_RUNS=5 GH_LIMIT=60 bash tests/bench/engines.sh
#
# 1. execs/s on the seed corpus (corpus/asyncio), one core, for
#    libFuzzer and AFL++ with coverage none / semantic / python /
#    semantic,python, and the Python-way baseline (python_baseline.py: a new
#    loop per input, with and without a Python-level sys.settrace), side by
#    side as ratios. Campaigns run with AF_KEEP_GOING=1 so that findings
#    (written to a scratch folder) do not stop them.
# 2. time to the first finding of CPython gh-86296 (3.11's wait_for loses an
#    outer cancellation when the inner task completes in the same loop
#    iteration) from an EMPTY corpus, per engine, BENCH_RUNS runs, median:
#    tests/bench/gh86296.sh (which see).
set -uo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
B=${1:-build}
B=$(cd "$B" && pwd)
T=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-5}
LF=$B/asyncfuzz-libfuzzer
AFL=$B/asyncfuzz-afl
PY=/usr/bin/python3.11
# Scratch on tmpfs when there is one: libFuzzer writes every new corpus input
# to disk, and on ext4 file creation alone costs a third of the time.
W=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/af-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export AF_QUIET=1 AF_KEEP_GOING=1 AF_SKIP_COVERAGE_CHECK=1
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_QUIET=1

echo "asyncfuzz engine benchmark: $(nproc) cores, ${T}s per figure, $(ls corpus/asyncio | wc -l) seeds"
echo "python: $($PY -c 'import sys; print(sys.version.split()[0])'), $(clang-14 --version | head -1)"
echo

lf_rate() { # coverage [max_len] -> execs/s
  rm -rf "$W/c" "$W/f"; cp -r corpus/asyncio "$W/c"
  AF_COVERAGE=$1 AF_FINDINGS=$W/f "$LF" -max_total_time="$T" -seed=1 -dict=corpus/asyncio.dict -len_control=0 -max_len="${2:-128}" \
    -artifact_prefix="$W/" "$W/c" > "$W/lf.log" 2>&1
  grep -E '^#[0-9]+.*(DONE|pulse)' "$W/lf.log" | tail -1 | sed -E 's/.*exec\/s: ([0-9]+).*/\1/'
}
afl_rate() {
  rm -rf "$W/o" "$W/f"
  AF_COVERAGE=$1 AF_FINDINGS=$W/f timeout $((T + 30)) afl-fuzz -i corpus/asyncio -o "$W/o" -V "$T" \
    -x corpus/asyncio.dict -- "$AFL" > "$W/afl.log" 2>&1
  awk -F: '/^execs_done/ {d=$2} /^run_time/ {t=$2} END {if (t > 0) printf "%d", d / t; else print "?"}' \
    "$W/o/default/fuzzer_stats" 2>/dev/null || echo "?"
}

declare -A R
printf '%-18s %12s %12s\n' "coverage" "libFuzzer" "AFL++"
for cov in none semantic python semantic,python; do
  a=$([ -x "$LF" ] && lf_rate "$cov" || echo "-")
  b=$([ -x "$AFL" ] && command -v afl-fuzz > /dev/null && afl_rate "$cov" || echo "-")
  R[lf_$cov]=$a; R[afl_$cov]=$b
  printf '%-18s %12s %12s   execs/s\n' "$cov" "$a" "$b"
done

# Small scenarios: inputs of at most 64 bytes (tests/bench/small.json, 3
# tasks + a gather + a cancel, encodes to 52 bytes).
if [ -x "$LF" ]; then
  echo
  printf '%-18s %12s\n' "max_len 64" "libFuzzer"
  for cov in semantic semantic,python; do
    R[small_$cov]=$(lf_rate "$cov" 64)
    printf '%-18s %12s   execs/s (inputs <= 64 bytes: small scenarios)\n' "$cov" "${R[small_$cov]}"
  done
fi

# Per input on the seeds themselves (no mutation, no corpus growth): what the
# same scenarios cost in-process, comparable to the Python way below.
seed_rate() { # coverage -> execs/s (libFuzzer replaying each seed file K times)
  local k=1000 n a b c d
  n=$(ls corpus/asyncio/*.bin | wc -l)
  a=$(date +%s.%N); AF_COVERAGE=$1 "$LF" -runs=1 corpus/asyncio/*.bin > /dev/null 2>&1; b=$(date +%s.%N)
  c=$(date +%s.%N); AF_COVERAGE=$1 "$LF" -runs=$k corpus/asyncio/*.bin > /dev/null 2>&1; d=$(date +%s.%N)
  awk -v n="$n" -v k="$k" -v t1="$(awk -v x="$a" -v y="$b" 'BEGIN{print y-x}')" \
      -v tk="$(awk -v x="$c" -v y="$d" 'BEGIN{print y-x}')" \
      'BEGIN { if (tk > t1) printf "%d", n * (k - 1) / (tk - t1); else print "?" }'
}
if [ -x "$LF" ]; then
  echo
  printf '%-18s %12s\n' "seeds only" "libFuzzer"
  for cov in none semantic python semantic,python; do
    R[seed_$cov]=$(seed_rate "$cov")
    printf '%-18s %12s   execs/s (each seed replayed, no mutation)\n' "$cov" "${R[seed_$cov]}"
  done
fi

# The Python way on the same scenarios.
mkdir -p "$W/repro"
for s in corpus/asyncio/*.bin; do
  n=$(basename "$s" .bin)
  "$B/asyncfuzz" decode "$s" > "$W/repro/$n.json" 2>/dev/null &&
    "$B/asyncfuzz" repro "$W/repro/$n.json" > "$W/repro/$n.py" 2>/dev/null || rm -f "$W/repro/$n.py"
done
pb=$($PY tests/bench/python_baseline.py "$T" notrace "$W"/repro/*.py | awk '{print $2}')
pt=$($PY tests/bench/python_baseline.py "$T" trace "$W"/repro/*.py | awk '{print $2}')
printf '%-18s %12s   execs/s (new loop per input, no coverage)\n' "python baseline" "$pb"
printf '%-18s %12s   execs/s (new loop per input, sys.settrace edges)\n' "python+settrace" "$pt"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.1fx", a / b; else print "?" }'; }
echo
echo "ratios (engine / Python way with coverage):"
echo "  seeds only, semantic         $(ratio "${R[seed_semantic]:-}" "$pt")"
echo "  seeds only, semantic,python  $(ratio "${R[seed_semantic,python]:-}" "$pt")"
echo "  libFuzzer semantic        $(ratio "${R[lf_semantic]}" "$pt")   (small scenarios: $(ratio "${R[small_semantic]:-}" "$pt"))"
echo "  libFuzzer semantic,python $(ratio "${R[lf_semantic,python]}" "$pt")"
echo "  AFL++ semantic            $(ratio "${R[afl_semantic]}" "$pt")   (AFL++ / libFuzzer: $(ratio "${R[afl_semantic]}" "${R[lf_semantic]}"))"
echo "  AFL++ semantic,python     $(ratio "${R[afl_semantic,python]}" "$pt")   (AFL++ / libFuzzer: $(ratio "${R[afl_semantic,python]}" "${R[lf_semantic,python]}"))"
echo

# ---- time to the first gh-86296 finding from an empty corpus ----
# tests/bench/gh86296.sh: the banner on stderr, start-up included, 5 runs
bash tests/bench/gh86296.sh "$B" "$RUNS" "libfuzzer afl"
