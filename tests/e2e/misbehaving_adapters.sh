#!/usr/bin/env bash
# misbehaving_adapters.sh - every command that runs a target stays bounded
# and never exits 0 when the target adapter misbehaves (harness/cli/cli.h:
# supervised commands; harness/accel/watchdog_c.h: the watchdog inside a
# callback). Real adapter files, no test hook:
#   in a primitive (sleep): a Python loop (the watchdog stops it: a `hang`
#   verdict), a block in C (ctypes pause(): --hang-timeout), os._exit(0),
#   C exit(3), a segfault (ctypes.string_at(0)), raise SystemExit(0);
#   at import: a Python loop, os._exit(0), C exit(3), a segfault,
#   raise SystemExit(3), an exception.
# (the adapter files: tests/data/adapters/). For run, replay (the bad file in the middle: the others pass, exit 1,
# the JUnit file says why), repro, gen (a crash / hang finding filed, gen
# goes on to --count), minimize, fuzz (an adapter that does not load:
# exit 2 at once). Each case asserts the exit code and the message.
# usage: misbehaving_adapters.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: misbehaving_adapters.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-misb.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
cases=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ---- adapters: tests/data/adapters/ ----
A=$(cd "$(dirname "$0")/../data/adapters" && pwd)

# ---- scenarios: a.json and c.json call no primitive, b.json sleeps ----
plain='{"asyncfuzz": 1, "description": "nothing to run", "expect": [], "main": {"name": "main", "body": []}}'
echo "$plain" > "$W/a.json"
echo "$plain" > "$W/c.json"
cat > "$W/b.json" <<'EOF'
{"asyncfuzz": 1, "description": "one sleep", "expect": [],
 "main": {"name": "main", "body": [{"op": "sleep", "ticks": 1}]}}
EOF

# BOUND (seconds) a command may take, whatever its adapter does
BOUND=60
FAST=(--watchdog 0.3 --hang-timeout 1)

# expect NAME CODE TEXT... -- CMD...: exit CODE, stderr+stdout containing
# every TEXT, within BOUND seconds.
expect() {
  local name=$1 code=$2
  shift 2
  local texts=()
  while [ "$1" != "--" ]; do texts+=("$1"); shift; done
  shift
  cases=$((cases + 1))
  local t0=$SECONDS
  timeout -k 5 "$BOUND" "$@" > "$W/out" 2>&1
  local rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    fail "$name: not done after ${BOUND}s"; return
  fi
  [ $rc -eq "$code" ] || { fail "$name: exit $rc, expected $code"; sed 's/^/    /' "$W/out" | head -20; return; }
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$W/out" || { fail "$name: no '$t' in the output"; sed 's/^/    /' "$W/out" | head -20; return; }
  done
  echo "ok: $name (exit $rc, $((SECONDS - t0)) s)"
}

LOAD="while starting the interpreter and loading the target adapter"
in_sleep() { # ADAPTER: the words of its death while running b.json
  case $1 in
    block) echo "was still running after";;
    osexit) echo "exited with status 0 without finishing";;
    cexit) echo "exited with status 3 without finishing";;
    segv) echo "was killed by signal 11 (SIGSEGV)";;
    sysexit) echo "the target raised SystemExit";;
  esac
}
at_import() {
  case $1 in
    import_loop) echo "was still running after";;
    import_osexit) echo "exited with status 0 without finishing";;
    import_cexit) echo "exited with status 3 without finishing";;
    import_segv) echo "was killed by signal 11 (SIGSEGV)";;
    import_sysexit) echo "SystemExit: 3";;
    import_raise) echo "ValueError: this adapter does not load";;
  esac
}

# ---- run ----
expect "run loop" 1 "unexpected hang" "the watchdog budget stopped the run" -- \
  "$AF" run "${FAST[@]}" --target "$A/loop.py" "$W/b.json"
expect "run --no-accel loop" 1 "unexpected hang" "the watchdog budget stopped the run" -- \
  "$AF" run --no-accel "${FAST[@]}" --target "$A/loop.py" "$W/b.json"
for a in block osexit cexit segv sysexit; do
  expect "run $a" 2 "asyncfuzz run: while running $W/b.json" "$(in_sleep $a)" -- \
    "$AF" run "${FAST[@]}" --target "$A/$a.py" "$W/b.json"
done
for a in import_loop import_osexit import_cexit import_segv; do
  expect "run $a" 2 "$LOAD '$A/$a.py'" "$(at_import $a)" -- \
    "$AF" run "${FAST[@]}" --target "$A/$a.py" "$W/b.json"
done
for a in import_sysexit import_raise; do
  expect "run $a" 2 "loading the target adapter '$A/$a.py'" "$(at_import $a)" "Traceback" -- \
    "$AF" run "${FAST[@]}" --target "$A/$a.py" "$W/b.json"
done
# the same run traces alike with and without the accelerators, and in its reproducer
"$AF" run --trace "${FAST[@]}" --target "$A/loop.py" "$W/b.json" > "$W/accel.trace"
"$AF" run --trace --no-accel "${FAST[@]}" --target "$A/loop.py" "$W/b.json" > "$W/noaccel.trace"
"$AF" repro "${FAST[@]}" --target "$A/loop.py" "$W/b.json" > "$W/loop_repro.py"
# (the reproducer's watchdog is probe.DEFAULT_OPTIONS': 10 s; both runs at once)
timeout 60 "$PY" "$W/loop_repro.py" > "$W/repro.out" 2>&1 &
repro_pid=$!
timeout 60 "$PY" "$W/loop_repro.py" --trace > "$W/repro.trace"
wait $repro_pid
repro_rc=$?
cases=$((cases + 1))
if ! grep -q '"budget",0,1,"watchdog"' "$W/accel.trace"; then
  fail "the loop's trace has no watchdog budget event"; cat "$W/accel.trace"
elif ! cmp -s "$W/accel.trace" "$W/noaccel.trace" || ! cmp -s "$W/accel.trace" "$W/repro.trace"; then
  fail "the loop's traces differ: accelerators / --no-accel / reproducer"
  diff "$W/accel.trace" "$W/noaccel.trace"; diff "$W/accel.trace" "$W/repro.trace"
else
  echo "ok: the loop's trace is the same with and without the accelerators and in its reproducer"
fi
# the reproducer ends (the hang reproduced: exit 1) instead of hanging
cases=$((cases + 1))
if [ $repro_rc -ne 1 ] || ! grep -q "^reproduced: hang: the watchdog budget stopped the run" "$W/repro.out" ||
  ! grep -q "^verdict: REPRODUCED" "$W/repro.out"; then
  fail "the loop's reproducer: exit $repro_rc, expected 1 with the hang reproduced"
  head -20 "$W/repro.out"
else
  echo "ok: the loop's reproducer ends, the hang reproduced"
fi

# ---- replay: a.json b.json c.json, the bad one in the middle ----
for a in block osexit segv sysexit; do
  expect "replay $a" 1 "$W/b.json: while running $W/b.json" "$(in_sleep $a)" "2 passed, 1 failed" -- \
    "$AF" replay "${FAST[@]}" --junit "$W/$a.xml" --target "$A/$a.py" "$W/a.json" "$W/b.json" "$W/c.json"
  cases=$((cases + 1))
  "$PY" - "$W/$a.xml" "$(in_sleep $a)" <<'PYEOF' || fail "replay $a: the JUnit file"
import sys, xml.etree.ElementTree as ET
cases = {c.get("name").rsplit("/", 1)[1]: c for c in ET.parse(sys.argv[1]).getroot().iter("testcase")}
assert sorted(cases) == ["a.json", "b.json", "c.json"], cases
assert cases["a.json"].find("failure") is None and cases["c.json"].find("failure") is None
f = cases["b.json"].find("failure")
assert f is not None and sys.argv[2] in f.get("message"), ET.tostring(cases["b.json"])
PYEOF
done
expect "replay loop" 1 "unexpected hang" "2 passed, 1 failed" -- \
  "$AF" replay "${FAST[@]}" --target "$A/loop.py" "$W/a.json" "$W/b.json" "$W/c.json"
expect "replay import_segv" 2 "$LOAD" "SIGSEGV" "0 passed, 3 failed" -- \
  "$AF" replay "${FAST[@]}" --junit "$W/imp.xml" --target "$A/import_segv.py" "$W/a.json" "$W/b.json" "$W/c.json"
cases=$((cases + 1))
[ "$(grep -c '<error message="while starting the interpreter' "$W/imp.xml")" -eq 3 ] \
  || fail "replay import_segv: the JUnit file does not say why each file could not run"

# ---- repro ----
for a in block segv sysexit; do
  expect "repro $a" 2 "asyncfuzz repro: while running $W/b.json" "$(in_sleep $a)" -- \
    "$AF" repro "${FAST[@]}" --target "$A/$a.py" "$W/b.json"
done
expect "repro import_osexit" 2 "$LOAD" "$(at_import import_osexit)" -- \
  "$AF" repro "${FAST[@]}" --target "$A/import_osexit.py" "$W/b.json"

# ---- gen: the runs that kill the child are findings, gen goes to --count ----
expect "gen crash, hang, loop" 1 "gen: 80 runs" "filed as a finding, going on with run" -- \
  "$AF" gen --seed 3 --count 80 -q --watchdog 0.2 --hang-timeout 0.5 --target "$A/mix.py" --out "$W/gen"
cases=$((cases + 1))
"$PY" - "$W/gen/findings" <<'PYEOF' || fail "gen: the findings"
import json, os, sys
store = sys.argv[1]
texts = {}
for d in os.listdir(store):
    p = os.path.join(store, d, "verdict.json")
    if os.path.exists(p):
        v = json.load(open(p))
        texts[v["signature"]["text"]] = int(open(os.path.join(store, d, "count")).read())
        for f in ("scenario.json", "repro.py", "input.bin", "meta.json"):
            assert os.path.exists(os.path.join(store, d, f)), (d, f)
assert texts.get("crash:SIGSEGV", 0) >= 1, texts
assert texts.get("hang:timeout", 0) >= 1, texts
assert any(t.startswith("hang|gather|watchdog") for t in texts), texts
s = json.load(open(os.path.join(store, "summary.json")))
assert s["campaign"]["runs"] == 80, s["campaign"]
print("ok: gen findings: " + ", ".join("%s x%d" % kv for kv in sorted(texts.items())))
PYEOF
expect "gen import_cexit" 2 "asyncfuzz gen: $LOAD" "$(at_import import_cexit)" -- \
  "$AF" gen --seed 1 --count 10 "${FAST[@]}" --target "$A/import_cexit.py" --out "$W/gen2"

# ---- minimize ----
expect "minimize segv" 2 "asyncfuzz minimize: while running the input, run 0 of $W/b.json" "SIGSEGV" -- \
  "$AF" minimize "${FAST[@]}" --target "$A/segv.py" --out "$W/min" "$W/b.json"
expect "minimize import_loop" 2 "asyncfuzz minimize: $LOAD" "was still running after" -- \
  "$AF" minimize "${FAST[@]}" --target "$A/import_loop.py" --out "$W/min" "$W/b.json"

# ---- fuzz: an adapter that does not load is an error at once ----
for a in import_loop import_osexit import_segv import_sysexit import_raise; do
  expect "fuzz $a" 2 "$(at_import $a)" -- \
    "$AF" fuzz --time 30 "${FAST[@]}" --target "$A/$a.py" --out "$W/fuzz-$a" --quiet
done

echo "misbehaving_adapters.sh: $cases cases, $fails failure(s)"
[ $fails -eq 0 ]
