#!/usr/bin/env bash
# e2e: loops under test (issue 16) through the real binary: the shipped
# adapters that bring their own loop load and run, stock asyncio's own loop
# through the loop path is clean on the catalog, nest_asyncio's loop keeps
# the catalog but its three nested-run misuses (re-entrant: allowed), uvloop
# runs on real time and says so, reruns count how often a verdict comes
# back, a reproducer of a run on nest_asyncio gives the same trace, conform
# judges nest_asyncio (its reference in a process of its own) and uvloop
# (each failure rerun), and a wrong adapter is refused with exit 2 and the
# field named.
# usage: loops.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: loops.sh ASYNCFUZZ}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
has() { grep -qF -- "$2" "$1" || fail "$3: '$2' not in output: $(head -c 600 "$1")"; }
# The loops under test are Debian's python3-nest-asyncio and python3-uvloop,
# packaged for its 3.11 only: on another interpreter the test says so.
for m in nest_asyncio uvloop; do
  "${AF_PYTHON:-/usr/bin/python3.11}" -c "import $m" 2>/dev/null ||
    { echo "SKIP: $m is not installed for ${AF_PYTHON:-/usr/bin/python3.11}"; exit 77; }
done

# stock asyncio's SelectorEventLoop on virtual time, and the vendor example
for t in asyncio_selector vendor_loop; do
  "$AF" replay --target $t scenarios/catalog >"$W/$t" 2>&1 || fail "$t: catalog replay: $(tail -3 "$W/$t")"
  has "$W/$t" "virtual time, deterministic" "$t"
  has "$W/$t" " 0 failed" "$t"
done

# nest_asyncio: a re-entrant loop; exactly the nested-run misuses differ
"$AF" replay --target nest_asyncio scenarios/catalog >"$W/nest" 2>&1
grep '^scenarios/' "$W/nest" | cut -d: -f1 | sort >"$W/nest.failed"
printf '%s\n' scenarios/catalog/misuse-nested-asyncio-run.json scenarios/catalog/misuse-nested-run-forever.json \
  scenarios/catalog/misuse-nested-run-until-complete.json >"$W/nest.want"
diff "$W/nest.want" "$W/nest.failed" >/dev/null || fail "nest_asyncio: failing set differs: $(cat "$W/nest.failed")"
has "$W/nest" "missing nested-loop" "nest_asyncio (a nested run is no misuse there)"
has "$W/nest" "re-entrant): virtual time, deterministic" "nest_asyncio"

# a reproducer of a run on nest_asyncio: same trace under /usr/bin/python3.11
f=tests/scenarios/oracles-reentrant/nested-fires-reentrant-stop-scope.json
"$AF" repro --target nest_asyncio "$f" >"$W/r.py" || fail "repro on nest_asyncio"
/usr/bin/python3.11 "$W/r.py" --trace >"$W/r.trace" 2>&1
"$AF" run --trace --target nest_asyncio "$f" >"$W/in.trace"
cmp -s "$W/r.trace" "$W/in.trace" || fail "nest_asyncio reproducer's trace differs from the in-process run"
/usr/bin/python3.11 "$W/r.py" >"$W/r.out" 2>&1; [[ $? -eq 1 ]] || fail "nest_asyncio reproducer did not exit 1"
has "$W/r.out" "verdict: REPRODUCED" "nest_asyncio reproducer"

# uvloop: real time, scaled; the mode in every result; reruns measured
f=scenarios/catalog/loop-timers-by-when.json
"$AF" run --target uvloop --tick-ms 2 --reruns 3 "$f" >"$W/uv" 2>&1; [[ $? -eq 1 ]] || fail "uvloop run exit"
has "$W/uv" "loop: realtime (uvloop.Loop), 2 ms per tick: real time, NOT deterministic" "uvloop"
has "$W/uv" "returned an instance of uvloop.loop.TimerHandle, not of asyncio.TimerHandle" "uvloop handle type"
has "$W/uv" "reruns: 3," "uvloop reruns"
has "$W/uv" "loop.handle 3/3" "uvloop reruns"
"$AF" run --json --target uvloop --reruns 2 "$f" >"$W/uv.json" 2>&1
/usr/bin/python3.11 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["loop"] == {"mode": "realtime", "class": "uvloop.Loop", "reentrant": False, "tick_ms": 5,
                     "deterministic": False}, d["loop"]
assert d["reruns"]["runs"] == 2 and d["reruns"]["found"]["loop.handle"] == 2, d["reruns"]
' "$W/uv.json" || fail "uvloop run --json: loop and reruns"
"$AF" run --target uvloop scenarios/catalog/basic-as-completed.json >"$W/uv2" 2>&1 || fail "uvloop: a plain scenario: $(cat "$W/uv2")"
# the default target: a virtual loop, no reruns
"$AF" run --json "$f" | grep -q '"loop"\|"reruns"' && fail "the default target's run --json has a loop or reruns field"

# conform on nest_asyncio (PROCESS_WIDE): the reference runs in a process of
# its own (in this one, asyncio is patched); its default reference runs
# pure-Python tasks as the target does; the failures are exactly the stop-
# scope defect of loop-reenter-stop-scope.json, and the deadlock of a nested
# run_forever nothing stops is the scenario's, no failure
"$AF" conform --target nest_asyncio --time 0 --out "$W/cn" >"$W/cn.out" 2>&1
[[ $? -eq 1 ]] || fail "conform nest_asyncio: exit not 1: $(tail -5 "$W/cn.out")"
has "$W/cn.out" "nest_asyncio 1.5.4 against asyncio (CPython" "conform nest_asyncio (reference loaded beside it)"
has "$W/cn.out" "not conformant, 2 failure(s)" "conform nest_asyncio"
has "$W/cn/conform.md" "pure-Python tasks" "conform nest_asyncio's reference"
has "$W/cn/conform.md" "loop: selector, the library's loop on virtual time (deterministic)" "conform nest_asyncio's mode"
has "$W/cn/conform.md" "nested-loop|reenter|reentrant-stop-scope|@nest_asyncio" "conform nest_asyncio"
has "$W/cn/conform.md" "leaked-task|reenter|pending|@nest_asyncio" "conform nest_asyncio"
grep -q "deadlock" "$W/cn/conform.md" && fail "conform nest_asyncio: the unstoppable nested run_forever is a failure"
grep -q "triage: not triaged" "$W/cn/conform.md" && fail "conform nest_asyncio: an untriaged failure"
"$AF" run --target nest_asyncio --reference asyncio_py scenarios/catalog/basic-gather.json >"$W/rr" 2>&1 ||
  fail "run with a reference beside nest_asyncio: $(tail -3 "$W/rr")"
# conform on uvloop (real time): the mode named, each failure rerun
mkdir "$W/cat"; cp scenarios/catalog/loop-stop-from-callback.json scenarios/catalog/basic-gather.json "$W/cat/"
"$AF" conform --target uvloop --catalog "$W/cat" --time 0 --reruns 3 --tick-ms 2 --out "$W/cu" >"$W/cu.out" 2>&1
[[ $? -eq 1 ]] || fail "conform uvloop: exit not 1: $(tail -5 "$W/cu.out")"
has "$W/cu.out" "loop.stop|stop|late|@uvloop: reproduced" "conform uvloop reruns"
has "$W/cu/conform.md" "on real time (ticks of 2 ms), not deterministic" "conform uvloop's mode"
has "$W/cu/conform.md" "- reruns of the minimised scenario: failed alike in" "conform uvloop's reruns"
has "$W/cu/conform.md" "MagicStack/uvloop#517" "conform uvloop's triage"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["target"]; assert t["loop"]=="realtime" and t["deterministic"] is False, t; assert all("reruns" in f for f in d["failures"]), d["failures"]' "$W/cu/conform.json" ||
  fail "conform uvloop's JSON: loop, deterministic, reruns"

# wrong adapters: exit 2, the field named
bad() {  # name, adapter text, expected message part
  printf '%s\n' "$2" >"$W/target_$1.py"
  "$AF" run --target "$W/target_$1.py" scenarios/catalog/loop-call-soon-fifo.json >"$W/$1.out" 2>&1
  [[ $? -eq 2 ]] || fail "adapter $1: exit not 2"
  has "$W/$1.out" "$3" "adapter $1"
}
bad badmode 'from target_asyncio import *
LOOP = "bogus"' 'LOOP = '"'"'bogus'"'"': expected one of virtual, selector, realtime'
bad nofactory 'from target_asyncio import *
LOOP = "selector"' 'needs loop_factory()'
bad realtimebase 'import asyncio
from target_asyncio import *
LOOP = "realtime"
def loop_factory(): return asyncio.SelectorEventLoop()' 'use LOOP = "selector"'
bad tick 'import asyncio
from target_asyncio import *
LOOP = "selector"
TICK_MS = 0
def loop_factory(): return asyncio.SelectorEventLoop()' 'TICK_MS = 0'

echo "loops.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
