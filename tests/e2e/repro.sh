#!/usr/bin/env bash
# e2e: `asyncfuzz repro` - the standalone program: `python3.11 prog --trace`
# prints exactly `asyncfuzz run --trace`; with the verdicts asserted, it
# fails under python3.11 while the verdicts occur and passes when there are
# none; -o writes the file; errors.
# usage: repro.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: repro.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if [[ $2 != "$3" ]]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi; }

for f in scenarios/catalog/basic-gather.json scenarios/catalog/misuse-dropped-task-pending.json \
         scenarios/catalog/misuse-never-awaited.json scenarios/catalog/basic-task-group-child-error.json; do
  "$AF" repro "$f" >"$tmp/p.py"; check "repro $f" 0 $?
  "$AF" run --trace "$f" >"$tmp/c.txt"
  $PY -I "$tmp/p.py" --trace >"$tmp/py.txt"
  cmp -s "$tmp/c.txt" "$tmp/py.txt" && echo "ok: same trace: $f" || { echo "FAIL: traces differ: $f"; diff "$tmp/c.txt" "$tmp/py.txt" | head -5; fails=$((fails+1)); }
  nv=$("$AF" run --json "$f" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["verdicts"]))')
  $PY -I "$tmp/p.py" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [[ $nv -gt 0 ]]; then
    [[ $rc -eq 1 ]] && grep -q '^verdict: REPRODUCED' "$tmp/out" && grep -q "^interpreter: cpython $("$AF" --version | sed -n 's/^embedded interpreter: CPython \([0-9]*\.[0-9]*\).*/\1/p')" "$tmp/out" && echo "ok: reproduced ($nv verdicts)" || { echo "FAIL: $f: $nv verdicts but the program exits $rc"; tail -3 "$tmp/out"; fails=$((fails+1)); }
  else
    check "no verdict: program passes: $f" 0 $rc
  fi
done

# --no-asserts: the same program without asserts passes.
"$AF" repro --no-asserts scenarios/catalog/misuse-dropped-task-pending.json >"$tmp/p.py"
$PY -I "$tmp/p.py" >/dev/null 2>&1; check "--no-asserts program passes" 0 $?
# -o FILE
"$AF" repro -o "$tmp/out.py" scenarios/catalog/basic-gather.json >"$tmp/stdout"; check "repro -o" 0 $?
[[ -s $tmp/out.py && ! -s $tmp/stdout ]] || { echo "FAIL: -o wrote stdout or nothing"; fails=$((fails+1)); }
# stdin
"$AF" repro - <scenarios/catalog/basic-gather.json >/dev/null; check "repro - (stdin)" 0 $?
# Nesting as deep as the IR allows (AF_MAX_DEPTH), for every op kind that
# owns a body and for a mix: the program compiles (CPython allows 20
# statically nested blocks per function; codegen.c moves deeper ops into
# functions of their own) and gives the in-process trace, a `return` from
# the deepest level included.
$PY - "$tmp" <<'PYEOF'
import json, sys
out = sys.argv[1]
def wrap(kind, level, body):
    if kind == "try":
        return {"op": "try", "body": body, "on_cancel": "reraise", "on_error": "swallow",
                "finally": [{"op": "sleep", "ticks": 1}]}
    if kind == "except_star":
        return {"op": "except_star", "body": body, "match": "exception", "reaction": "swallow"}
    if kind == "hold":
        return {"op": "hold", "resource": "r%d" % level, "release_sleep": 1, "body": body}
    if kind == "timeout":
        return {"op": "timeout", "name": "to%d" % level, "delay": 100, "body": body}
    if kind == "task_group":
        return {"op": "task_group", "name": "g%d" % level, "children": [], "body": body}
    if kind == "lock":  # a lock per level: a Lock is not reentrant
        return {"op": "lock", "primitive": "loc%d" % level, "body": body}
    return {"op": "semaphore", "primitive": "sem", "body": body}
kinds = ["try", "except_star", "hold", "timeout", "task_group", "lock", "semaphore"]
for name in kinds + ["mixed"]:
    body = [{"op": "sleep", "ticks": 1}, {"op": "return", "value": 7}]
    for level in range(7, 0, -1):
        body = [wrap(kinds[level % len(kinds)] if name == "mixed" else name, level, body)]
    doc = {"asyncfuzz": 1, "description": "deep " + name, "expect": [],
           "primitives": [{"name": "loc%d" % i, "kind": "lock"} for i in range(1, 8)] +
                         [{"name": "sem", "kind": "semaphore", "value": 7}],
           "main": {"name": "main", "body": body + [{"op": "sleep", "ticks": 50}]}}
    json.dump(doc, open("%s/deep-%s.json" % (out, name), "w"))
PYEOF
for f in "$tmp"/deep-*.json; do
  "$AF" repro "$f" > "$tmp/p.py" && "$AF" run --trace "$f" > "$tmp/c.txt" &&
    $PY -I "$tmp/p.py" --trace > "$tmp/py.txt" 2> "$tmp/err" && cmp -s "$tmp/c.txt" "$tmp/py.txt" &&
    grep -q '"end",[0-9]*,[0-9]*,"result"' "$tmp/c.txt" && ! grep -q '"task_done",5[0-9]' "$tmp/c.txt" &&
    echo "ok: $(basename "$f"): compiles, same trace, returns from the deepest level" ||
    { echo "FAIL: $(basename "$f"): $(tail -1 "$tmp/err")"; fails=$((fails+1)); }
done

# errors
"$AF" repro >/dev/null 2>&1; check "repro without file" 2 $?
"$AF" repro "$tmp/nope.json" >/dev/null 2>&1; check "repro missing file" 2 $?

echo "repro.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
