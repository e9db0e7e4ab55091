#!/usr/bin/env bash
# engines.sh - benchmark of the fuzz engines (prints figures, asserts nothing).
#
#   bash tests/bench/engines.sh [BUILD_DIR]        (default: build)
#   BENCH_SECONDS=10 BENCH_RUNS=5 GH_LIMIT=60 bash tests/bench/engines.sh
#
# 1. execs/s of campaigns started on the seed corpus (corpus/asyncio), one
#    core, for libFuzzer and AFL++ with coverage none / semantic / python /
#    semantic,python. Campaigns run with AF_KEEP_GOING=1 so that findings
#    (written to a scratch folder) do not stop them.
# 2. per input, on the same scenarios (the seeds, and 200 inputs of the
#    semantic libFuzzer campaign's corpus): the engines' in-process path
#    (bench_runner --inputs) against the Python way (python_baseline.py:
#    asyncio.run per input on the stock loop with a virtual clock, as issue
#    4 defines it, and this project's faster pure-Python driver; each with
#    and without a Python-level sys.settrace), and the ratios of every
#    engine figure to both.
# 3. time to the first finding of CPython gh-86296 (3.11's wait_for loses an
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
PY=${AF_PYTHON:-/usr/bin/python3.11}
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
  if [ "$1" = semantic ] && [ "${2:-128}" = 128 ]; then # kept for the per-input comparison
    rm -rf "$W/campaign"
    cp -r "$W/c" "$W/campaign"
  fi
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

# ---- the same scenarios, per input: in-process against the Python way ----
# Two sets: the seeds, and 200 inputs (a fixed choice) of the semantic
# libFuzzer campaign's corpus above, the kind of scenario a campaign runs.
# In-process: bench_runner --inputs (af_fuzz_one, what the engines run per
# input, without an engine's own bookkeeping). The Python way:
# python_baseline.py, with the driver issue 4 defines (asyncio-run:
# asyncio.run per input on the stock loop with a virtual clock) and with
# this project's own Python driver (reproducer: a much faster loop), each
# with and without a Python-level sys.settrace.
bash tests/bench/run.sh "$B" 0.01 tests/bench/small.json > /dev/null # builds bench_runner
mkdir -p "$W/set/seeds" "$W/set/campaign"
cp corpus/asyncio/*.bin "$W/set/seeds/"
ls "$W/campaign" 2> /dev/null | sort | shuf -n 200 --random-source=<(yes) |
  while read -r f; do cp "$W/campaign/$f" "$W/set/campaign/"; done
to_repro() { # set -> reproducers in $W/repro/<set>/
  mkdir -p "$W/repro/$1"
  for s in "$W/set/$1"/*; do
    n=$(basename "$s")
    "$B/asyncfuzz" decode "$s" > "$W/repro/$1/$n.json" 2> /dev/null &&
      "$B/asyncfuzz" repro "$W/repro/$1/$n.json" > "$W/repro/$1/$n.py" 2> /dev/null || rm -f "$W/repro/$1/$n.py"
  done
}
py_rate() { # set trace|notrace driver -> execs/s
  ls "$W/repro/$1"/*.py > /dev/null 2>&1 || { echo "-"; return; }
  local r
  r=$($PY tests/bench/python_baseline.py "$T" "$2" "$3" "$W/repro/$1"/*.py 2> "$W/python.log" | awk '{print $2}')
  [ -n "$r" ] || { echo "python_baseline.py $*: failed:" >&2; tail -5 "$W/python.log" >&2; r="?"; }
  echo "$r"
}
in_rate() { # set coverage -> execs/s
  ls "$W/set/$1"/* > /dev/null 2>&1 || { echo "-"; return; }
  AF_COVERAGE=$2 "$B/bench_runner" --inputs "$T" "$W/set/$1"/* | awk '{print $2}'
}
for set in seeds campaign; do
  to_repro "$set"
  R[in_sem_$set]=$(in_rate "$set" semantic)
  R[in_sempy_$set]=$(in_rate "$set" semantic,python)
  R[run_trace_$set]=$(py_rate "$set" trace asyncio-run)
  R[rep_trace_$set]=$(py_rate "$set" trace reproducer)
done
R[run_notrace_seeds]=$(py_rate seeds notrace asyncio-run)
R[rep_notrace_seeds]=$(py_rate seeds notrace reproducer)
echo
echo "the same scenarios, per input (execs/s)"
printf '%-30s %10s %10s\n' "" "seeds" "campaign"
printf '%-30s %10s %10s\n' "  $(ls "$W/set/seeds" | wc -l) / $(ls "$W/set/campaign" | wc -l) inputs" "" ""
row() { printf '  %-28s %10s %10s   %s\n' "$1" "$2" "${3:-}" "${4:-}"; }
row "in-process semantic" "${R[in_sem_seeds]}" "${R[in_sem_campaign]}" "(af_fuzz_one, no engine)"
row "in-process semantic,python" "${R[in_sempy_seeds]}" "${R[in_sempy_campaign]}"
row "asyncio-run + settrace" "${R[run_trace_seeds]}" "${R[run_trace_campaign]}" "(the Python way as issue 4 defines it)"
row "reproducer + settrace" "${R[rep_trace_seeds]}" "${R[rep_trace_campaign]}" "(this project's Python driver)"
row "asyncio-run, no coverage" "${R[run_notrace_seeds]}" ""
row "reproducer, no coverage" "${R[rep_notrace_seeds]}" ""
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.1fx", a / b; else print "?" }'; }
both() { # label engine-figure set
  printf '  %-40s %12s %12s\n' "$1" "$(ratio "$2" "${R[run_trace_$3]}")" "$(ratio "$2" "${R[rep_trace_$3]}")"
}
echo
echo "ratios: engine / the Python way with sys.settrace, on the same scenarios"
printf '  %-40s %12s %12s\n' "" "asyncio-run" "reproducer"
both "in-process semantic, seeds" "${R[in_sem_seeds]}" seeds
both "in-process semantic, campaign inputs" "${R[in_sem_campaign]}" campaign
both "in-process semantic,python, seeds" "${R[in_sempy_seeds]}" seeds
both "in-process semantic,python, campaign" "${R[in_sempy_campaign]}" campaign
echo "  campaigns (their own inputs; the Python way on the campaign inputs):"
both "libFuzzer semantic" "${R[lf_semantic]}" campaign
both "libFuzzer semantic, small scenarios" "${R[small_semantic]:-}" campaign
both "libFuzzer semantic,python" "${R[lf_semantic,python]}" campaign
both "AFL++ semantic" "${R[afl_semantic]}" campaign
both "AFL++ semantic,python" "${R[afl_semantic,python]}" campaign
echo "  AFL++ / libFuzzer: semantic $(ratio "${R[afl_semantic]}" "${R[lf_semantic]}"), semantic,python $(ratio "${R[afl_semantic,python]}" "${R[lf_semantic,python]}")"
echo

# ---- time to the first gh-86296 finding from an empty corpus ----
# tests/bench/gh86296.sh: the banner on stderr, start-up included, 5 runs
bash tests/bench/gh86296.sh "$B" "$RUNS" "libfuzzer afl"
