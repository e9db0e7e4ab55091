#!/usr/bin/env bash
# engine_libfuzzer_planted.sh - asyncfuzz-libfuzzer finds a planted defect.
#   bash tests/e2e/engine_libfuzzer_planted.sh BUILD/asyncfuzz
# The test-only target adapter planted_wait_for (AF_TARGET) swallows
# CancelledError inside wait_for. Only cancellation.* verdicts count
# (AF_ORACLES), so that other oracles cannot stop the campaign first.
# 1. found within a bounded number of executions, from the seed corpus;
#    banner, complete finding folder, crash input saved;
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
line=""; total=0
for attempt in 1 2 3 4 5 6; do
  rm -f "$W"/crash-*
  "$LF" -runs=$MAX_RUNS -seed=$attempt -dict=corpus/asyncio.dict -artifact_prefix="$W/" "$W/corpus" > "$W/log" 2>&1
  rc=$?
  execs=$(grep -B200 -m1 '^asyncfuzz: FINDING' "$W/log" | sed -nE 's/^#([0-9]+).*/\1/p' | tail -1)
  total=$((total + ${execs:-$MAX_RUNS}))
  [ $rc -ne 0 ] || break
  cand=$(grep -m1 '^asyncfuzz: FINDING cancellation' "$W/log")
  h=$(echo "$cand" | awk '{print $4}')
  # The planted defect: a signature in wait_for that the same scenario does
  # not get on stock asyncio (stock 3.11 has gh-86296 in wait_for too).
  if echo "$cand" | grep -q "$want" && [ -f "$W/findings/$h/scenario.json" ] &&
     ! AF_TARGET= "$1" run --json "$W/findings/$h/scenario.json" 2>/dev/null | grep -q "$h"; then
    line=$cand
    break
  fi
done
[ -n "$line" ] || fail "planted defect ($want) not found in $total executions"
hash=$(echo "$line" | awk '{print $4}')
echo "found after ~$total execs in all: $line"
for f in scenario.json repro.py verdicts.json input.bin count; do
  [ -s "$W/findings/$hash/$f" ] || fail "finding lacks $f"
done
crash=$(ls "$W"/crash-* 2> /dev/null | head -1)
[ -n "$crash" ] || fail "no crash input saved"

# 2. deduplicated
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
