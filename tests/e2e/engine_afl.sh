#!/usr/bin/env bash
# engine_afl.sh - asyncfuzz-afl with AFL++ on the seed corpus.
#   bash tests/e2e/engine_afl.sh BUILD/asyncfuzz   (AF_BINARY_DIR=BUILD)
# 1. afl-showmap learns the full map size from the fork server handshake
#    (no AFL_MAP_SIZE) and sees our features: far more tuples than the few
#    instrumented edges;
# 2. the seeds run standalone without a finding;
# 3. a short afl-fuzz campaign (-E executions, persistent mode, shared-memory
#    input) completes, the bitmap grows past the seeds, and any crash it
#    saved comes with a complete finding folder;
# 4. with AF_COVERAGE=none the target refuses to start (exit 2).
# Exit 77 (skipped) when the target or afl-fuzz is not available.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${AF_BINARY_DIR:-$(dirname "${1:-build/asyncfuzz}")}
AFL=$BIN_DIR/asyncfuzz-afl
[ -x "$AFL" ] || { echo "SKIP: $AFL not built"; exit 77; }
command -v afl-fuzz > /dev/null || { echo "SKIP: afl-fuzz not installed"; exit 77; }
W=$(mktemp -d /tmp/af-e2e-afl.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
export AF_FINDINGS=$W/findings AF_QUIET=1
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
unset AFL_MAP_SIZE

# 1. the map
seed=corpus/asyncio/basic-wait-for.bin
afl-showmap -o "$W/map" -- "$AFL" < "$seed" > "$W/log" 2>&1 || fail "afl-showmap: exit $?"
size=$(sed -nE 's/.*map size ([0-9]+).*/\1/p' "$W/log" | tail -1)
tuples=$(wc -l < "$W/map")
echo "afl-showmap: map size $size, $tuples tuples"
[ "${size:-0}" -ge 32768 ] || fail "map size $size: the feature region (32 KiB) was not reported"
[ "$tuples" -ge 50 ] || fail "only $tuples tuples: the features do not reach AFL's map"

# 2. seeds standalone
"$AFL" corpus/asyncio/*.bin > "$W/log" 2>&1 || fail "a seed gave a finding or failed (exit $?)"

# 3. a short campaign
AF_KEEP_GOING=0 timeout 100 afl-fuzz -i corpus/asyncio -o "$W/out" -E 3000 -x corpus/asyncio.dict \
  -- "$AFL" > "$W/log" 2>&1 || fail "afl-fuzz: exit $?"
st=$W/out/default/fuzzer_stats
[ -f "$st" ] || fail "no fuzzer_stats"
execs=$(awk -F: '/^execs_done/ {print $2+0}' "$st")
items=$(awk -F: '/^corpus_count/ {print $2+0}' "$st")
crashes=$(awk -F: '/^saved_crashes/ {print $2+0}' "$st")
seeds=$(ls corpus/asyncio | wc -l)
echo "afl-fuzz: $execs execs, corpus $seeds -> $items, $crashes crash(es)"
[ "$execs" -ge 3000 ] || fail "only $execs executions"
[ "$items" -gt "$seeds" ] || fail "coverage did not grow: corpus $items"
if [ "$crashes" -gt 0 ]; then
  n=$(ls -d "$W/findings"/*/ 2> /dev/null | wc -l)
  [ "$n" -ge 1 ] || fail "$crashes crash(es) but no finding folder"
  for d in "$W/findings"/*/; do
    for f in scenario.json repro.py verdicts.json input.bin; do
      [ -s "$d/$f" ] || [ "${d##*/harness-error-}" != "$d" ] || fail "$d lacks $f"
    done
  done
  echo "findings: $n folder(s), complete"
fi

# 4. refuses to fuzz blind
AF_COVERAGE=none "$AFL" "$seed" > "$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "AF_COVERAGE=none: exit $rc, want 2"
grep -q "refusing to start the campaign" "$W/log" || fail "no refusal message"
echo "PASS"
