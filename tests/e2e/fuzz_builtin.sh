#!/usr/bin/env bash
# fuzz_builtin.sh - the built-in engine (`asyncfuzz fuzz --engine builtin`).
#   bash tests/e2e/fuzz_builtin.sh BUILD/asyncfuzz
# 1. the catalog seeds (corpus/asyncio) run without a finding, the coverage
#    check passes and the features move (exit 0, features > 0);
# 1b. below AF_MIN_FEATURES the start-up check refuses the campaign (exit 2).
# 2. a short campaign on the seeds completes, prints its progress line, and
#    every finding folder it files is complete; summary.json parses;
# 3. a defect is found within a bounded number of executions, written to
#    disk, deduplicated (many hits -> one folder with a count) and minimised
#    to a scenario that still reproduces: the planted adapter
#    (AF_TARGET=planted_wait_for: a new signature, exit 1) when the runtime
#    has target adapters, and CPython's own gh-86296 (stock asyncio 3.11: in
#    the shipped baseline, exit 0) in any case;
# 4. isolation: a worker that crashes (SIGSEGV) or hangs in C on some input
#    (a target adapter whose shield() segfaults / blocks in pause() through
#    ctypes) becomes a `crash` / `hang`
#    finding with its input saved, and the campaign goes on.
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
unset AF_TARGET AF_ORACLES

# folder complete: scenario.json + verdict.json parse, repro.py compiles
check_folder() {
  local d=$1
  for f in scenario.json repro.py verdict.json input.bin count meta.json; do
    [ -f "$d/$f" ] || fail "$d: no $f"
  done
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' \
    "$d/scenario.json" "$d/verdict.json" || fail "$d: JSON does not parse"
  "$PY" -m py_compile "$d/repro.py" 2>/dev/null || "$PY" -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")' "$d/repro.py" \
    || fail "$d/repro.py does not compile"
  "$AF" check "$d/scenario.json" > /dev/null || fail "$d/scenario.json does not validate"
}
folders() { find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}$' | sort; }
json_get() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$1" "$2"; }

# 1. the seeds alone: no finding, counters move
mkdir -p "$W/seeds"
cp corpus/asyncio/*.bin "$W/seeds/"
nseeds=$(ls "$W/seeds" | wc -l)
[ "$nseeds" -ge 10 ] || fail "only $nseeds seeds in corpus/asyncio"
"$AF" fuzz --corpus "$W/seeds" --out "$W/o1" --runs "$nseeds" --seed 1 --coverage semantic,python > "$W/log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "seed run: exit $rc (a seed gave a finding, or setup failed)"
grep -q "coverage semantic,python" "$W/log" || fail "no coverage check line"
feat=$(sed -nE 's/.* ([0-9]+) features,.*/\1/p' "$W/log" | tail -1)
[ "${feat:-0}" -gt 50 ] || fail "features did not move on the seeds: ${feat:-none}"
echo "seeds: $nseeds inputs, $feat features, no finding"

# 1b. the start-up check refuses a campaign whose counters fall short
AF_MIN_FEATURES=30000 "$AF" fuzz --corpus "$W/seeds" --out "$W/o1b" --runs 10 --seed 1 \
  --coverage semantic > "$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "coverage check below AF_MIN_FEATURES: exit $rc, want 2"
grep -q "refusing to start the campaign: only [0-9]* semantic features" "$W/log" \
  || fail "no refusal message"

# 2. a short campaign: completes, progress line, complete folders
"$AF" fuzz --corpus "$W/seeds" --out "$W/o2" --time 3 --seed 2 > "$W/log" 2>&1
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || fail "campaign: exit $rc"
grep -qE '^\[builtin\] +[0-9]+s  execs [0-9]+ \([0-9]+/s\)  features [0-9]+  corpus [0-9]+  findings [0-9]+/[0-9]+' "$W/log" \
  || fail "no progress line"
feat2=$(sed -nE 's/.* ([0-9]+) features,.*/\1/p' "$W/log" | tail -1)
[ "${feat2:-0}" -gt "$feat" ] || fail "features did not grow past the seeds ($feat -> ${feat2:-none})"
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/o2/findings/summary.json" || fail "summary.json"
for d in $(folders "$W/o2/findings"); do check_folder "$d"; done
[ "$(ls "$W/o2/corpus" | wc -l)" -gt "$nseeds" ] || fail "no new corpus entry written to OUT/corpus"
[ "$(ls "$W/seeds" | wc -l)" -eq "$nseeds" ] || fail "the --corpus seed folder was written to"
echo "campaign: $feat2 features, $(folders "$W/o2/findings" | wc -l) finding folder(s), all complete"

# 3. a defect found, deduplicated, minimised
hunt() { # $1 label, $2 out dir, $3 stop-on text, $4 exit code wanted, then env assignments
  local label=$1 out=$2 stop=$3 want=$4
  shift 4
  env "$@" "$AF" fuzz --out "$out" --runs 60000 --time 40 --seed 3 --coverage semantic \
    --stop-on "$stop" > "$W/log" 2>&1
  local rc=$?
  [ $rc -eq "$want" ] || fail "$label: exit $rc, expected $want (1: a new signature, 0: known only)"
  grep -qF "'$stop' found after" "$W/log" || fail "$label: '$stop' not found within 60000 runs"
  echo "$label: $(grep -F "'$stop' found after" "$W/log" | head -1 | sed 's/^asyncfuzz fuzz: //')"
}
dedup_and_minimize() { # $1 label, $2 out dir, $3 text in the folder's verdict.json
  local label=$1 out=$2 text=$3 d=""
  for f in $(folders "$out/findings"); do
    grep -q "$text" "$f/verdict.json" && d=$f
  done
  [ -n "$d" ] || fail "$label: no finding folder mentions $text"
  check_folder "$d"
  # deduplication: run the finding's input again many times through the
  # engine: one folder, its count grows
  local before count_before count_after
  before=$(folders "$out/findings" | wc -l)
  count_before=$(tr -d ' \n' < "$d/count")
  mkdir -p "$W/again"
  rm -f "$W/again/"*
  cp "$d/input.bin" "$W/again/x"
  env "${@:4}" "$AF" fuzz --corpus "$W/again" --out "$out" --runs 3000 --seed 4 --coverage semantic \
    --minimize-calls 0 --quiet > "$W/log" 2>&1
  count_after=$(tr -d ' \n' < "$d/count")
  [ "$count_after" -gt "$count_before" ] || fail "$label: the count did not grow ($count_before -> $count_after)"
  echo "$label: one folder, count $count_before -> $count_after"
  # minimisation keeps the signature and reproduces
  env "${@:4}" "$AF" minimize "$d" --out "$W/min-$label" > "$W/log" 2>&1 || fail "$label: minimize exit $?"
  grep -E '^(before|after):' "$W/log" | sed "s/^/$label: /"
  # replayed on the implementation it was found on (AF_TARGET in the env),
  # against the reference it was found with (AF_REFERENCE)
  local a target_args=()
  for a in "${@:4}"; do
    [[ $a == AF_TARGET=* ]] && target_args+=(--target "${a#AF_TARGET=}")
    [[ $a == AF_REFERENCE=* ]] && target_args+=(--reference "${a#AF_REFERENCE=}")
  done
  check_folder_min "$W/min-$label" "$(basename "$d")" "${target_args[@]}"
}
check_folder_min() { # folder signature [run options...]
  local m=$1 sig=$2
  shift 2
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' "$m/scenario.json" "$m/verdict.json" \
    || fail "minimized JSON"
  grep -q "\"$sig\"" "$m/verdict.json" || fail "minimized verdict has another signature"
  # still reproduces: `run` meets its expected verdicts (the ones found)
  "$AF" run "$@" "$m/scenario.json" > "$W/run.log" 2>&1 || { cat "$W/run.log"; fail "minimized scenario does not reproduce"; }
  "$AF" run "$@" --json "$m/scenario.json" | grep -q "$sig" || fail "minimized run lacks the signature"
}

# 3a. the planted adapter, when the runtime supports target adapters
if "$AF" run --help 2>&1 | grep -q -- "--target" || AF_TARGET=planted_wait_for "$AF" fuzz --runs 1 --out "$W/probe" --quiet > "$W/log" 2>&1; then
  hunt planted "$W/o3" "swallowed|wait_for" 1 AF_TARGET=planted_wait_for AF_REFERENCE=asyncio
  dedup_and_minimize planted "$W/o3" "swallowed|wait_for" AF_TARGET=planted_wait_for AF_REFERENCE=asyncio
else
  echo "planted: SKIP (this build's runner has no target adapters: $(grep -o "target '[^']*'.*" "$W/log" | head -1))"
fi
# 3b. CPython gh-86296 on stock asyncio 3.11 (the real defect)
hunt gh-86296 "$W/o4" "dropped in wait_for" 0 AF_ORACLES=cancellation.swallowed
dedup_and_minimize gh-86296 "$W/o4" "dropped in wait_for" AF_ORACLES=cancellation.swallowed

# 3c. the differential filter: stock asyncio against itself shares every
# verdict, so a campaign that finds stock 3.11's defects without the filter
# files nothing with it (20000 inputs: 3.13, with fewer defects, needs more than 3.11)
"$AF" fuzz --out "$W/o7" --runs 20000 --seed 2 --coverage semantic --quiet > "$W/log" 2>&1
[ "$(folders "$W/o7/findings" | wc -l)" -gt 0 ] || fail "reference: no finding without the filter"
"$AF" fuzz --out "$W/o8" --runs 20000 --seed 2 --coverage semantic --reference asyncio --quiet > "$W/log" 2>&1 ||
  fail "reference: exit $? with --reference asyncio"
[ "$(folders "$W/o8/findings" | wc -l)" -eq 0 ] || fail "reference: findings shared with the reference were filed"
echo "reference: $(folders "$W/o7/findings" | wc -l) finding(s) without the filter, none with --reference asyncio"

# 4. isolation: crash and hang become findings, the campaign goes on
for kind in segv hang; do
  {
    echo "import asyncio, ctypes"
    echo "from target_asyncio import *  # noqa: F401,F403"
    echo "def shield(aw):"
    [ $kind = segv ] && echo "    ctypes.string_at(0)" || echo "    ctypes.CDLL(None).pause()"
    echo "    return asyncio.shield(aw)"
  } > "$W/target_$kind.py"
done
AF_ORACLES=differential "$AF" fuzz --target "$W/target_segv.py" --out "$W/o5" --time 4 --seed 5 \
  --coverage semantic > "$W/log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "crash: exit $rc, expected 1"
d=$(grep -l '"crash"' "$W/o5/findings/"*/verdict.json 2>/dev/null | head -1)
[ -n "$d" ] || fail "no crash finding"
d=$(dirname "$d")
check_folder "$d"
grep -q '"shield"' "$d/scenario.json" || fail "the crash finding's scenario is not the input that crashed"
[ "$(folders "$W/o5/findings" | wc -l)" -eq 1 ] || fail "crashes not deduplicated"
crashes=$(tr -d ' \n' < "$d/count")
execs=$(sed -nE 's/.*: ([0-9]+) execs in.*/\1/p' "$W/log" | tail -1)
[ "${crashes:-0}" -ge 2 ] && [ "${execs:-0}" -gt 100 ] || fail "the campaign did not go on after a crash ($crashes crashes, $execs execs)"
echo "crash: $crashes crash(es) in one finding, $execs execs, campaign went on"

AF_ORACLES=differential "$AF" fuzz --target "$W/target_hang.py" --out "$W/o6" --time 5 --seed 5 \
  --coverage semantic --hang-timeout 1 > "$W/log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "hang: exit $rc, expected 1"
d=$(grep -l '"hang:timeout"' "$W/o6/findings/"*/verdict.json 2>/dev/null | head -1)
[ -n "$d" ] || fail "no hang finding"
check_folder "$(dirname "$d")"
grep -q '"shield"' "$(dirname "$d")/scenario.json" || fail "the hang finding's scenario is not the input that hung"
echo "hang: filed as $(basename "$(dirname "$d")"), campaign went on"
echo "PASS"
