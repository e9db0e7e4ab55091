#!/usr/bin/env bash
# engine_afl_planted.sh - asyncfuzz-afl with AFL++ finds a planted defect.
#   bash tests/e2e/engine_afl_planted.sh BUILD/asyncfuzz
# The test-only adapter planted_wait_for (AF_TARGET) swallows CancelledError
# inside wait_for; only cancellation.* verdicts count (AF_ORACLES). Within a
# bounded number of executions afl-fuzz saves a crash, the finding folder is
# complete, the crash input reproduces standalone, and a second campaign on
# the same findings folder files nothing new for that signature (counted).
# Exit 77 when the target, afl-fuzz or the planted adapter is not available.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${AF_BINARY_DIR:-$(dirname "${1:-build/asyncfuzz}")}
AFL=$BIN_DIR/asyncfuzz-afl
[ -x "$AFL" ] || { echo "SKIP: $AFL not built"; exit 77; }
command -v afl-fuzz > /dev/null || { echo "SKIP: afl-fuzz not installed"; exit 77; }
W=$(mktemp -d /tmp/af-e2e-aflp.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
export AF_TARGET=${AF_PLANTED_TARGET:-planted_wait_for}
export AF_ORACLES=cancellation.swallowed,cancellation.spurious,cancellation.count
export AF_FINDINGS=$W/findings AF_QUIET=1
# Stock asyncio as the reference: its own defects in wait_for (gh-86296)
# share the planted one's signatures; only what stock does not also do counts.
export AF_REFERENCE=$([ "$AF_TARGET" = asyncio ] || echo asyncio)
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
MAX_EXECS=${AF_AFL_MAX_EXECS:-20000}

"$AFL" corpus/asyncio/basic-wait-for.bin > "$W/log" 2>&1
if grep -q "no target adapters\|unknown target" "$W/log"; then
  echo "SKIP: target $AF_TARGET not available: $(grep -m1 'target' "$W/log")"; exit 77
fi

# Fixed seeds, up to five campaigns. A random seed missed the defect within
# 20,000 executions about one run in five; a fixed seed is not enough to make
# a campaign repeatable, because afl-fuzz weighs inputs by their measured
# execution time (under ctest -j2 seed 1 missed three times in a row where it
# hits at 3,628 executions on a quiet machine).
total=0
for s in 1 3 5 7 9; do
  rm -rf "$W/out"
  timeout 150 afl-fuzz -s $s -i corpus/asyncio -o "$W/out" -E $MAX_EXECS \
    -x corpus/asyncio.dict -- "$AFL" > "$W/log" 2>&1 || fail "afl-fuzz: exit $?"
  st=$W/out/default/fuzzer_stats
  crashes=$(awk -F: '/^saved_crashes/ {print $2+0}' "$st")
  execs=$(awk -F: '/^execs_done/ {print $2+0}' "$st")
  total=$((total + execs))
  [ "$crashes" -ge 1 ] && break
done
execs=$total
[ "$crashes" -ge 1 ] || fail "planted defect not found in $execs executions"
first=$(ls "$W/out/default/crashes" | grep -o 'execs:[0-9]*' | head -1)
echo "afl-fuzz -s $s: first crash at ${first:-?}"
echo "found within $execs execs"
# The planted defect, not one of stock 3.11's own (gh-86296, gh-116720...):
# a finding whose scenario does not get its signature on stock asyncio (run
# there explicitly: a finding folder replays on its recorded target; the
# signature without its "|@planted_wait_for").
d=""
for cand in "$W/findings"/*/; do
  text=$(sed -n 's/.*"signature_text":[[:space:]]*"\([^"]*\)".*/\1/p' "$cand/meta.json" | sed 's/|@[^|]*$//')
  if ! "$1" run --json --target asyncio "$cand/scenario.json" 2> /dev/null | grep -qF "\"text\":\"$text\""; then
    d=${cand%/}; break
  fi
done
[ -n "$d" ] || fail "only stock asyncio's own defects were found in $execs executions"
for f in scenario.json repro.py verdicts.json input.bin count; do [ -s "$d/$f" ] || fail "$d lacks $f"; done
grep -q '"oracle": "cancellation' "$d/verdicts.json" || fail "finding is not a cancellation verdict"
crash=$(ls "$W/out/default/crashes"/id:* | head -1)
"$AFL" "$crash" > "$W/log" 2>&1 && fail "a saved crash does not reproduce standalone"
grep -q "^asyncfuzz: FINDING cancellation" "$W/log" || fail "the crash reproduces something else"

# dedup: a second campaign over the same findings folder
before=$(ls -d "$W/findings"/*/ | wc -l)
timeout 100 afl-fuzz -i corpus/asyncio -o "$W/out2" -E 3000 -- "$AFL" > "$W/log" 2>&1
hits=$(tr -d " \n" < "$d/count")
echo "dedup: $before folder(s) before, $(ls -d "$W/findings"/*/ | wc -l) after, first signature counted $hits times"
echo "PASS"
