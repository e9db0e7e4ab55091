#!/usr/bin/env bash
# minimize.sh - `asyncfuzz minimize` on a scenario file and on a finding.
#   bash tests/e2e/minimize.sh BUILD/asyncfuzz
# 1. a noisy scenario hitting the gather cancel loss (a cancel of a task
#    awaiting gather, in the iteration a child fails, is lost: 3.11 to 3.13,
#    docs/VERSIONS.md) shrinks to a few operations; sizes before/after are printed; the output
#    folder holds scenario.json, repro.py, verdict.json; the minimised
#    scenario still gives the same signature (`run` meets its expectations)
#    and its reproducer fails under the plain python of the embedded version
#    (AF_PYTHON) while the defect is there;
# 2. minimising the minimised scenario changes nothing (a fixpoint);
# 3. a finding folder (from the fuzz engine) is minimised into
#    FOLDER/minimized by default;
# 4. a scenario without the verdict: exit 1; bad usage: exit 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-min.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }
unset AF_TARGET AF_ORACLES

cat > "$W/noisy.json" <<'EOF'
{
  "asyncfuzz": 1,
  "description": "the gather cancel loss buried in noise",
  "expect": [],
  "primitives": [{"name": "ev", "kind": "event"}, {"name": "lk", "kind": "lock"}],
  "main": {
    "name": "main",
    "body": [
      {"op": "event_set", "primitive": "ev"},
      {"op": "spawn", "task": {"name": "helper", "body": [
        {"op": "sleep", "ticks": 1},
        {"op": "lock", "primitive": "lk", "body": [{"op": "sleep", "ticks": 2}]},
        {"op": "return", "value": 7}
      ]}},
      {"op": "spawn", "task": {"name": "victim", "body": [
        {"op": "sleep", "ticks": 3},
        {"op": "event_wait", "primitive": "ev"},
        {"op": "try", "on_cancel": "reraise", "on_error": "swallow", "body": [
          {"op": "gather", "children": [
            {"name": "t1", "body": [
              {"op": "gather", "children": [
                {"name": "t2", "body": [{"op": "sleep", "ticks": 0}, {"op": "raise", "exc": {"kind": "app", "id": 0}}]},
                {"name": "t3", "body": [{"op": "sleep", "ticks": 0}, {"op": "cancel", "target": "t1"}]}
              ]}
            ]}
          ]}
        ]},
        {"op": "sleep", "ticks": 2}
      ]}},
      {"op": "gather", "return_exceptions": true, "children": [
        {"name": "g1", "body": [{"op": "sleep", "ticks": 5}, {"op": "raise", "exc": {"kind": "value", "id": 9}}]},
        {"name": "g2", "body": [{"op": "sleep", "ticks": 6}]}
      ]},
      {"op": "sleep", "ticks": 37},
      {"op": "await", "task": "helper"},
      {"op": "try", "on_cancel": "none", "on_error": "swallow", "body": [{"op": "await", "task": "victim"}]},
      {"op": "sleep", "ticks": 4}
    ]
  }
}
EOF
"$AF" check "$W/noisy.json" > /dev/null || fail "the test scenario does not validate"
"$AF" run --json "$W/noisy.json" > "$W/run.json" 2>&1
grep -q 'cancellation.swallowed|gather|task-end' "$W/run.json" || fail "the noisy scenario does not hit the gather cancel loss"

# 1. shrink it
"$AF" minimize "$W/noisy.json" --oracle cancellation.swallowed --out "$W/m1" > "$W/log" 2>&1 || fail "minimize: exit $?"
cat "$W/log"
before=$(sed -nE 's/^before: ([0-9]+) ops.*/\1/p' "$W/log")
after=$(sed -nE 's/^after: +([0-9]+) ops.*/\1/p' "$W/log")
[ -n "$before" ] && [ -n "$after" ] || fail "sizes not printed"
[ "$after" -lt "$before" ] || fail "not smaller: $before -> $after ops"
[ "$after" -le 7 ] || fail "not small enough: $after ops"
for f in scenario.json repro.py verdict.json verdicts.json; do [ -f "$W/m1/$f" ] || fail "no $f"; done
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/m1/verdict.json" || fail "verdict.json"
sig=$(sed -nE 's/.*"hash":"([0-9a-f]{16})".*/\1/p' "$W/m1/verdict.json")
grep -q "^signature $sig" "$W/log" || fail "the output verdict has another signature than the input's"
"$AF" run "$W/m1/scenario.json" > "$W/log" 2>&1 || fail "the minimised scenario does not reproduce"
"$AF" run --json "$W/m1/scenario.json" | grep -q "$sig" || fail "the minimised run lacks signature $sig"
"$AF" show "$W/m1/scenario.json"
timeout 30 "$PY" "$W/m1/repro.py" > "$W/py.log" 2>&1
[ $? -ne 0 ] || { cat "$W/py.log"; fail "repro.py passes under plain $PY: the defect does not reproduce there"; }
echo "repro.py fails under $PY as it should: $(tail -1 "$W/py.log")"

# 2. a fixpoint
"$AF" minimize "$W/m1/scenario.json" --signature "$sig" --out "$W/m2" > "$W/log" 2>&1 || fail "second minimize: exit $?"
grep -q "0 accepted" "$W/log" || fail "the minimised scenario shrank again: not a fixpoint"

# 3. a finding folder: default output FOLDER/minimized
# (any finding: which ones a version has differs)
"$AF" fuzz --out "$W/f" --runs 30000 --time 30 --seed 7 --coverage semantic \
  --max-findings 1 --minimize-calls 0 --quiet > "$W/log" 2>&1
d=$(dirname "$(ls "$W/f/findings/"*/verdict.json | head -1)")
[ -d "$d" ] || fail "the engine found no finding to minimise"
"$AF" minimize "$d" > "$W/log" 2>&1 || fail "minimize FOLDER: exit $?"
[ -f "$d/minimized/scenario.json" ] || fail "no $d/minimized/scenario.json"
grep -E '^(before|after):' "$W/log"
"$AF" run "$d/minimized/scenario.json" > /dev/null 2>&1 || fail "the minimised finding does not reproduce"

# 4. exit codes
cat > "$W/quiet.json" <<'EOF'
{"asyncfuzz": 1, "description": "", "expect": [], "main": {"name": "main", "body": [{"op": "sleep", "ticks": 1}]}}
EOF
"$AF" minimize "$W/quiet.json" --out "$W/q" > "$W/log" 2>&1
[ $? -eq 1 ] || fail "a scenario without a verdict: exit $?, expected 1"
"$AF" minimize > /dev/null 2>&1
[ $? -eq 2 ] || fail "no argument: expected exit 2"
"$AF" minimize "$W/quiet.json" --signature xyz > /dev/null 2>&1
[ $? -eq 2 ] || fail "bad signature: expected exit 2"
echo "PASS"
