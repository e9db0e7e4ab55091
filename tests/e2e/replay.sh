#!/usr/bin/env bash
# e2e: `asyncfuzz replay` - the whole catalog replays with exactly its
# expected verdicts; the output format (one line per failure, then
# "N passed, N failed" alone on the last line); JUnit XML; exit codes.
# usage: replay.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: replay.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if [[ $2 != "$3" ]]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi; }

# 1. The catalog: every scenario with exactly its expected verdicts.
n=$(ls scenarios/catalog/*.json | wc -l)
"$AF" replay --junit "$tmp/junit.xml" scenarios/catalog >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out"; cat "$tmp/err" >&2
check "replay scenarios/catalog" 0 $rc
[[ $(tail -n1 "$tmp/out") == "$n passed, 0 failed" ]] || { echo "FAIL: summary line is '$(tail -n1 "$tmp/out")', expected '$n passed, 0 failed'"; fails=$((fails+1)); }
$PY - "$tmp/junit.xml" "$n" <<'PYEOF' || fails=$((fails+1))
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
cases = suite.findall("testcase")
assert len(cases) == int(sys.argv[2]) == int(suite.get("tests")), (len(cases), sys.argv[2])
bad = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
assert int(suite.get("failures")) + int(suite.get("errors")) == len(bad)
print("ok: junit", len(cases), "cases,", len(bad), "failing")
PYEOF

# 2. A regression: files whose expectations no longer hold -> 1, one line
#    per failing file naming the difference, then the summary.
mkdir "$tmp/reg"
cp scenarios/catalog/basic-cancel.json "$tmp/reg/a_ok.json"
$PY - scenarios/catalog/misuse-dropped-task-pending.json "$tmp/reg/b_unexpected.json" scenarios/catalog/basic-cancel.json "$tmp/reg/c_missing.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); d["expect"] = []; json.dump(d, open(sys.argv[2], "w"))
d = json.load(open(sys.argv[3])); d["expect"] = [{"oracle": "lost-exception"}]; json.dump(d, open(sys.argv[4], "w"))
PYEOF
"$AF" replay --junit "$tmp/reg.xml" "$tmp/reg" >"$tmp/out" 2>&1; rc=$?
check "replay with regressions" 1 $rc
cat "$tmp/out"
[[ $(wc -l <"$tmp/out") -eq 3 ]] || { echo "FAIL: expected 2 failure lines and the summary"; fails=$((fails+1)); }
grep -q "b_unexpected.json: unexpected leaked-task" "$tmp/out" || { echo "FAIL: no unexpected line"; fails=$((fails+1)); }
grep -q "c_missing.json: missing lost-exception" "$tmp/out" || { echo "FAIL: no missing line"; fails=$((fails+1)); }
[[ $(tail -n1 "$tmp/out") == "1 passed, 2 failed" ]] || { echo "FAIL: summary"; fails=$((fails+1)); }
grep -q '<failure message="unexpected leaked-task' "$tmp/reg.xml" || { echo "FAIL: junit has no failure"; fails=$((fails+1)); }

# 3. Files given one by one; -v lists passes too.
"$AF" replay -v "$tmp/reg/a_ok.json" scenarios/catalog/basic-gather.json >"$tmp/out"; check "replay FILES" 0 $?
[[ $(wc -l <"$tmp/out") -eq 3 ]] || { echo "FAIL: -v output"; cat "$tmp/out"; fails=$((fails+1)); }

# 4. An unreadable scenario: reported with its position, counted, exit 2.
printf '{"asyncfuzz": 1, "description": "x", "expect": [], "main": {"body": [{"op": "nope"}]}}' >"$tmp/reg/d_bad.json"
"$AF" replay "$tmp/reg" >"$tmp/out" 2>"$tmp/err"; check "replay with an unreadable file" 2 $?
grep -q "d_bad.json:1:" "$tmp/err" || { echo "FAIL: error without position: $(cat "$tmp/err")"; fails=$((fails+1)); }
[[ $(tail -n1 "$tmp/out") == "1 passed, 3 failed" ]] || { echo "FAIL: summary with error: $(tail -n1 "$tmp/out")"; fails=$((fails+1)); }

# 5. Runs share the process: nothing one run registers by name may be found
#    by the next. x is still suspended when the run's references are
#    dropped; collecting it runs its finally, whose wait creates task a after
#    the run (start() -> probe.tasks["a"]). The next scenario cancels and
#    awaits a task a it has not created yet: both must be no-ops there
#    (before the fix they acted on the previous run's a: a spurious
#    CancelledError, a wrong cancelling() count).
mkdir "$tmp/names"
$PY - "$tmp/names" <<'PYEOF'
import json, sys
def tr(body):
    return {"op": "try", "body": body, "on_cancel": "uncancel", "finally": []}
ew = {"op": "event_wait", "primitive": "e"}
inner = [ew]
for _ in range(4):  # outlives the harness's three cleanup cancels
    inner = [tr(inner), ew]
x = {"name": "x", "body": [{"op": "try", "body": inner, "on_cancel": "uncancel", "finally": [
    {"op": "wait", "children": [{"name": "a", "body": []}], "timeout": 1}]}]}
json.dump({"asyncfuzz": 1, "description": "creates task a while being collected",
           "expect": [{"oracle": "leaked-task"}, {"oracle": "lost-exception"}],
           "primitives": [{"name": "e", "kind": "event"}],
           "main": {"name": "p", "body": [{"op": "spawn", "task": x}, {"op": "sleep", "ticks": 1}]}},
          open(sys.argv[1] + "/a_late_task.json", "w"))
json.dump({"asyncfuzz": 1, "description": "cancel and await a task not created yet", "expect": [],
           "main": {"name": "v", "body": [{"op": "cancel", "target": "a", "count": 2},
                                          {"op": "await", "task": "a"},
                                          {"op": "spawn", "task": {"name": "a", "body": []}}]}},
          open(sys.argv[1] + "/b_name_not_yet.json", "w"))
PYEOF
"$AF" replay "$tmp/names" >"$tmp/out" 2>&1; check "replay: no name survives its run" 0 $?
cat "$tmp/out"

# 6. Usage errors.
"$AF" replay >/dev/null 2>&1; check "replay without files" 2 $?
"$AF" replay "$tmp/empty-dir-does-not-exist" >/dev/null 2>&1; check "replay missing path" 2 $?
"$AF" replay --junit >/dev/null 2>&1; check "replay --junit without file" 2 $?

echo "replay.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
