#!/usr/bin/env bash
# engine_libfuzzer_planted.sh - asyncfuzz-libfuzzer finds a planted defect.
#   bash tests/e2e/engine_libfuzzer_planted.sh BUILD/asyncfuzz
# The test-only target adapter planted_wait_for (AF_TARGET) swallows
# CancelledError inside wait_for. Only cancellation.* verdicts count
# (AF_ORACLES), so that other oracles cannot stop the campaign first.
# 1. found within a bounded number of executions, from the seed corpus;
#    banner, complete finding folder; its input crashes the target alone;
# 2. deduplicated: the crash input run again as a campaign over the same
#    findings folder: not announced, not a crash, counted in `count`;
# 3. -minimize_crash shrinks the crash input and the result still reproduces.
# Exit 77 when the engine or the planted target is not available.
# (AF_PLANTED_TARGET=asyncio runs the same steps on stock asyncio, where
# 3.11's own cancellation defects play the planted one's part.)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${AF_BINARY_DIR:-$(dirname "${1:-build/asyncfuzz}")}
LF=$BIN_DIR/asyncfuzz-libfuzzer
[ -x "$LF" ] || { echo "SKIP: $LF not built"; exit 77; }
W=$(mktemp -d /tmp/af-e2e-lfp.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
export AF_TARGET=${AF_PLANTED_TARGET:-planted_wait_for}
export AF_ORACLES=cancellation.swallowed,cancellation.spurious,cancellation.count
export AF_FINDINGS=$W/findings
MAX_RUNS=50000
cp -r corpus/asyncio "$W/corpus"

"$LF" -runs=0 "$W/corpus" > "$W/log" 2>&1
if grep -q "no target adapters\|unknown target" "$W/log"; then
  echo "SKIP: target $AF_TARGET not available: $(grep -m1 'target' "$W/log")"; exit 77
fi

# 1. found. Stock 3.11 has cancellation defects of its own (gh-116720 in
# TaskGroup, gh-86296 in wait_for itself) that may be filed first: each
# attempt stops at the next NEW signature (known ones are only counted), so
# attempts continue until the planted one - a swallowed cancel in wait_for -
# is filed, within a bounded number of executions.
want=${AF_PLANTED_WANT:-wait_for}
# One campaign that files every finding and goes on (AF_KEEP_GOING), with
# stock asyncio as the reference (AF_REFERENCE): stock 3.11 has its own
# defect in wait_for (gh-86296) with the same signatures, so only verdicts
# the same input does not also get on stock asyncio are findings. The
# planted one: a signature in wait_for whose scenario, replayed on stock
# asyncio, does not give it.
planted() { # -> the first such finding's hash, in the order they were announced
  local cand h text
  # (a signature labelled known is counted, not crashed on: the input run
  # alone would crash on the next new one)
  grep '^asyncfuzz: FINDING cancellation' "$W/log" | grep "$want" | grep -vF '[known' | while read -r cand; do
    h=$(echo "$cand" | awk '{print $4}')
    # on stock asyncio explicitly (a finding folder replays on its recorded
    # target), its signature without the "|@planted_wait_for"
    text=$(sed -n 's/.*"signature_text":[[:space:]]*"\([^"]*\)".*/\1/p' "$W/findings/$h/meta.json" 2>/dev/null | sed 's/|@[^|]*$//')
    if [ -f "$W/findings/$h/scenario.json" ] &&
       ! "$1" run --json --target asyncio "$W/findings/$h/scenario.json" 2>/dev/null |
         grep -qF "\"text\":\"$text\""; then
      echo "$h"
      break
    fi
  done
}
AF_KEEP_GOING=1 AF_REFERENCE=$([ "$AF_TARGET" = asyncio ] || echo asyncio) "$LF" -runs=$MAX_RUNS -seed=1 -dict=corpus/asyncio.dict -artifact_prefix="$W/" \
  "$W/corpus" > "$W/log" 2>&1 || fail "the campaign stopped (exit $?)"
hash=$(planted "$1")
[ -n "$hash" ] || fail "planted defect ($want) not found in $MAX_RUNS executions"
line=$(grep -m1 "^asyncfuzz: FINDING [^ ]* $hash" "$W/log")
execs=$(grep -B100000 -m1 "^asyncfuzz: FINDING [^ ]* $hash" "$W/log" | sed -nE 's/^#([0-9]+).*/\1/p' | tail -1)
echo "found after ~${execs:-?} execs: $line"
for f in scenario.json repro.py verdicts.json input.bin count; do
  [ -s "$W/findings/$hash/$f" ] || fail "finding lacks $f"
done
# Its input through the target alone: a crash (libFuzzer's deadly signal),
# with the same signature. That input is the crash input from here on.
crash=$W/crash-planted
cp "$W/findings/$hash/input.bin" "$crash"
"$LF" "$crash" > "$W/log" 2>&1 && fail "the finding's input does not crash the target"
grep -q "^asyncfuzz: FINDING [^ ]* $hash" "$W/log" || fail "the finding's input reports another signature"

mkdir -p "$W/again"
cp "$crash" "$W/again/"
for i in 1 2; do
  "$LF" -runs=0 "$W/again" > "$W/log" 2>&1 || fail "a known signature stopped the campaign (exit $?)"
  ! grep -q "^asyncfuzz: FINDING" "$W/log" || fail "the known signature was announced again"
done
n=$(ls -d "$W/findings"/*/ | wc -l)
hits=$(tr -d " \n" < "$W/findings/$hash/count")
[ "$hits" -ge 3 ] || fail "the repeated signature was not counted (hits $hits)"
echo "dedup: $n finding folder(s), $hash counted $hits times"

# 3. minimised
"$LF" -minimize_crash=1 -runs=2000 -artifact_prefix="$W/min-" "$crash" > "$W/log" 2>&1
small=$(ls -S "$W"/min-* 2> /dev/null | tail -1)
[ -n "$small" ] || fail "-minimize_crash produced nothing"
echo "minimised: $(stat -c %s "$crash") -> $(stat -c %s "$small") bytes"
"$LF" "$small" > "$W/log" 2>&1 && fail "the minimised input no longer reproduces"
grep -q "^asyncfuzz: FINDING cancellation" "$W/log" || fail "the minimised input reproduces something else"
echo "PASS"
