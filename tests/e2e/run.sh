#!/usr/bin/env bash
# e2e: `asyncfuzz run` - exit codes, human / --json / --trace output, stdin,
# expectations filtered by Python version, usage errors, --help.
# usage: run.sh PATH/TO/asyncfuzz   (ctest passes it; cwd = the source tree)
set -uo pipefail
AF=${1:?usage: run.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
  if [[ $2 != "$3" ]]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi
}
cat_dir=scenarios/catalog

# A scenario with no verdict and none expected: 0, "ok" line.
out=$("$AF" run $cat_dir/basic-cancel.json); rc=$?
check "run basic-cancel" 0 $rc
grep -q '^ok: verdicts as expected$' <<<"$out" || { echo "FAIL: no ok line"; echo "$out"; fails=$((fails+1)); }

# Expected verdict found: 0.
"$AF" run $cat_dir/misuse-dropped-task-pending.json >/dev/null; check "run expected leaked-task" 0 $?

# The same scenario with its expect removed: the verdict is unexpected -> 1.
$PY - "$cat_dir/misuse-dropped-task-pending.json" "$tmp/noexpect.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); d["expect"] = []
json.dump(d, open(sys.argv[2], "w"))
PYEOF
out=$("$AF" run "$tmp/noexpect.json"); rc=$?
check "run unexpected verdict" 1 $rc
grep -q '^FAIL: unexpected leaked-task' <<<"$out" || { echo "FAIL: no FAIL line: $out"; fails=$((fails+1)); }

# An expected verdict that does not occur -> 1 (missing).
$PY - "$cat_dir/basic-cancel.json" "$tmp/missing.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); d["expect"] = [{"oracle": "cleanup"}]
json.dump(d, open(sys.argv[2], "w"))
PYEOF
out=$("$AF" run "$tmp/missing.json"); rc=$?
check "run missing verdict" 1 $rc
grep -q 'missing cleanup' <<<"$out" || { echo "FAIL: no 'missing cleanup': $out"; fails=$((fails+1)); }

# Expectations for another Python version do not apply here; those naming
# this one (its minor version, its patch release, a range holding it) do.
full=$("$AF" --version | sed -n 's/^embedded interpreter: CPython \([0-9.]*\).*/\1/p')
this=${full%.*}; patch=${full##*.}
expect_run() { # expect_run NAME SCENARIO ORACLE PYTHON-VERSIONS(comma-separated) EXPECTED_RC
  $PY - "$cat_dir/$2" "$tmp/py.json" "$3" "$4" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); d["expect"] = [{"oracle": sys.argv[3], "python": sys.argv[4].split(",")}]
json.dump(d, open(sys.argv[2], "w"))
PYEOF
  "$AF" run "$tmp/py.json" >/dev/null; check "$1" "$5" $?
}
others=$(for m in 11 12 13 14; do [[ 3.$m != "$this" ]] && printf '3.%s,' $m; done)
expect_run "run expect for other versions ignored on $full" basic-cancel.json cleanup "${others%,}" 0
expect_run "run expect for $this applies on $full" misuse-dropped-task-pending.json leaked-task "$this" 0
expect_run "run expect for $full applies" misuse-dropped-task-pending.json leaked-task "$full" 0
expect_run "run expect for $this.$((patch + 1)) ignored on $full" basic-cancel.json cleanup "$this.$((patch + 1))" 0
expect_run "run expect for $this.$((patch + 1)) missing its verdict: unexpected on $full" \
  misuse-dropped-task-pending.json leaked-task "$this.$((patch + 1))" 1
expect_run "run expect for $this.0-$this.$((patch + 2)) applies on $full" misuse-dropped-task-pending.json \
  leaked-task "$this.0-$this.$((patch + 2))" 0

# --json: one JSON object with the comparison and the verdicts.
"$AF" run --json "$tmp/noexpect.json" >"$tmp/out.json"; check "run --json exit" 1 $?
$PY - "$tmp/out.json" "$this" <<'PYEOF' || fails=$((fails+1))
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["python"] == sys.argv[2], d
assert d["unexpected"] == ["leaked-task"] and d["missing"] == [] and d["expected"] == [], d
assert d["verdicts"] and d["verdicts"][0]["oracle"] == "leaked-task", d
print("ok: --json content")
PYEOF

# --trace: JSON lines, each a JSON array starting with a known kind, ending in end/budget.
"$AF" run --trace $cat_dir/basic-gather.json >"$tmp/trace.jsonl"; check "run --trace exit" 0 $?
$PY - "$tmp/trace.jsonl" <<'PYEOF' || fails=$((fails+1))
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert all(isinstance(e, list) and isinstance(e[0], str) for e in evs)
assert any(e[0] == "end" for e in evs), evs
for l, e in zip(lines, evs):
    assert json.dumps(e, separators=(",", ":")) == l, l
print("ok: --trace is Python's json.dumps text")
PYEOF

# Standard input.
"$AF" run - <$cat_dir/basic-cancel.json >/dev/null; check "run - (stdin)" 0 $?

# Input and usage errors: 2, one message on stderr with the position.
printf '{"asyncfuzz": 1,\n "description": 3}' >"$tmp/bad.json"
"$AF" run "$tmp/bad.json" >/dev/null 2>"$tmp/err"; check "run bad scenario" 2 $?
grep -q "bad.json:2:" "$tmp/err" || { echo "FAIL: no FILE:LINE in: $(cat "$tmp/err")"; fails=$((fails+1)); }
[[ $(wc -l <"$tmp/err") -eq 1 ]] || { echo "FAIL: error printed more than once:"; cat "$tmp/err"; fails=$((fails+1)); }
"$AF" run "$tmp/does-not-exist.json" >/dev/null 2>&1; check "run missing file" 2 $?
"$AF" run >/dev/null 2>&1; check "run without file" 2 $?
"$AF" run --bogus x.json >/dev/null 2>&1; check "run unknown option" 2 $?
"$AF" run --trace --json $cat_dir/basic-cancel.json >/dev/null 2>&1; check "run --trace --json" 2 $?
"$AF" run --max-iterations 0 $cat_dir/basic-cancel.json >/dev/null 2>&1; check "run bad budget" 2 $?

# --help for every command that runs scenarios: exit 0, a usage line, the
# budgets and --target (tests/e2e/options.sh: the lists are exactly what parses).
for cmd in run replay repro gen fuzz minimize; do
  "$AF" $cmd --help >"$tmp/help" 2>&1; check "$cmd --help" 0 $?
  grep -q "^usage: asyncfuzz $cmd" "$tmp/help" || { echo "FAIL: $cmd --help has no usage line"; fails=$((fails+1)); }
  for opt in --max-iterations --max-vtime --watchdog --slow-ticks --pure-python-tasks --no-accel --target; do
    grep -q -- "$opt" "$tmp/help" || { echo "FAIL: $cmd --help does not mention $opt"; fails=$((fails+1)); }
  done
done

# Budgets from the command line: a deadlock ends with its verdict.
cat >"$tmp/deadlock.json" <<'JEOF'
{"asyncfuzz": 1, "description": "wait on an event nobody sets", "expect": [{"oracle": "deadlock"}],
 "primitives": [{"name": "never", "kind": "event"}],
 "main": {"name": "main", "body": [{"op": "event_wait", "primitive": "never"}]}}
JEOF
timeout 20 "$AF" run --watchdog 5 "$tmp/deadlock.json" >/dev/null; check "run deadlock verdict" 0 $?
cat >"$tmp/hang.json" <<'JEOF'
{"asyncfuzz": 1, "description": "sleeps past a lowered max-vtime", "expect": [{"oracle": "hang"}],
 "main": {"name": "main", "body": [{"op": "sleep", "ticks": 5000}]}}
JEOF
timeout 20 "$AF" run --max-vtime 100 "$tmp/hang.json" >/dev/null; check "run hang verdict (max-vtime)" 0 $?

echo "run.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
