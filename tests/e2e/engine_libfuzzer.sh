#!/usr/bin/env bash
# engine_libfuzzer.sh - asyncfuzz-libfuzzer on the seed corpus.
#   bash tests/e2e/engine_libfuzzer.sh BUILD/asyncfuzz   (AF_BINARY_DIR=BUILD)
# 1. the seeds alone (-runs=0): the coverage check passes, libFuzzer's extra
#    counters move (ft: well above the PC counters), no finding;
# 2. a short campaign (-runs, -dict, -seed, -artifact_prefix) completes, or
#    stops on a real finding that is then complete on disk with its banner;
# 3. -max_total_time, -merge=1 and -fork=2 work;
# 4. with AF_COVERAGE=none it refuses to start (exit 2, a clear message).
# Exit 77 (skipped) when the engine is not built.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR=${AF_BINARY_DIR:-$(dirname "${1:-build/asyncfuzz}")}
LF=$BIN_DIR/asyncfuzz-libfuzzer
[ -x "$LF" ] || { echo "SKIP: $LF not built"; exit 77; }
W=$(mktemp -d /tmp/af-e2e-lf.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
cp -r corpus/asyncio "$W/corpus"
export AF_FINDINGS=$W/findings

# 1. the seeds alone
"$LF" -runs=0 "$W/corpus" > "$W/log" 2>&1 || fail "seeds alone: exit $?"
grep -q "asyncfuzz: coverage semantic,python" "$W/log" || fail "no coverage summary"
sem=$(sed -nE 's/.* ([0-9]+) semantic features, ([0-9]+) python edges.*/\1/p' "$W/log")
pyl=$(sed -nE 's/.* ([0-9]+) semantic features, ([0-9]+) python edges.*/\2/p' "$W/log")
ft=$(sed -nE 's/.*INITED cov: [0-9]+ ft: ([0-9]+).*/\1/p' "$W/log")
echo "seeds: $sem semantic features, $pyl python edges, libFuzzer ft: $ft"
[ "${sem:-0}" -ge 100 ] || fail "too few semantic features: $sem"
[ "${pyl:-0}" -ge 100 ] || fail "too few python edges: $pyl"
[ "${ft:-0}" -ge 200 ] || fail "libFuzzer's features did not move: ft $ft"
[ ! -d "$W/findings" ] || [ -z "$(ls "$W/findings")" ] || fail "a finding on the catalog seeds: $(ls "$W/findings")"

# 2. a short campaign
"$LF" -runs=1500 -seed=1 -dict=corpus/asyncio.dict -artifact_prefix="$W/" "$W/corpus" > "$W/log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  grep -qE '^Done 1[0-9]{3} runs' "$W/log" || fail "campaign did not run its 1500 inputs"
  echo "campaign: 1500 runs, no finding"
else
  # stopped on a finding: banner first, finding complete, crash input saved
  line=$(grep -m1 '^asyncfuzz: FINDING ' "$W/log") || fail "exit $rc without a finding banner"
  hash=$(echo "$line" | awk '{print $4}')
  for f in scenario.json repro.py verdicts.json input.bin; do
    [ -s "$W/findings/$hash/$f" ] || fail "finding $hash lacks $f"
  done
  grep -q "replay:  asyncfuzz run $W/findings/$hash/scenario.json" "$W/log" || fail "no replay command"
  ls "$W"/crash-* > /dev/null 2>&1 || fail "libFuzzer saved no crash input under -artifact_prefix"
  echo "campaign: stopped on a finding ($line), complete on disk"
fi

# 3. other flags
rm -rf "$W/findings"
AF_KEEP_GOING=1 "$LF" -max_total_time=3 -seed=2 "$W/corpus" > "$W/log" 2>&1 || fail "-max_total_time: exit $?"
grep -q "^Done " "$W/log" || fail "-max_total_time did not end cleanly"
mkdir -p "$W/merged"
AF_KEEP_GOING=1 "$LF" -merge=1 "$W/merged" "$W/corpus" > "$W/log" 2>&1 || fail "-merge=1: exit $?"
n=$(ls "$W/merged" | wc -l)
[ "$n" -ge 10 ] || fail "-merge=1 kept only $n inputs"
echo "merge: $n inputs kept of $(ls "$W/corpus" | wc -l)"
AF_KEEP_GOING=1 "$LF" -fork=2 -max_total_time=5 -seed=3 "$W/corpus" > "$W/log" 2>&1
grep -qE "INFO: -fork=2|fork=2" "$W/log" || fail "-fork=2 did not start"
echo "fork=2: ok"

# 4. refuses to fuzz blind
AF_COVERAGE=none "$LF" -runs=10 "$W/corpus" > "$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "AF_COVERAGE=none: exit $rc, want 2"
grep -q "refusing to start the campaign" "$W/log" || fail "no refusal message"
echo "PASS"
