#!/usr/bin/env bash
# e2e: the adapter contract and `asyncfuzz conform` (issue 15). Adapter
# errors are exit 2 with the traceback and no finding; the adapter's folder
# and PYTHONPATH are importable; a scenario using what the adapter does not
# support is skipped, never failed; the differential oracle fires on
# async-timeout's #229 and not on stock asyncio with pure-Python tasks; a
# catalog expect entry can name a target; conform's exit codes, matrix
# (JSON, Markdown, JUnit) and the reproducer of #229 failing under plain
# plain python (AF_PYTHON); the example adapter of docs/VENDORS.md is the tested file and
# is conformant; every shipped adapter runs the catalog.
# usage: conform.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: conform.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
# The shipped library adapters need their libraries, as Debian packages
# them for its 3.11 (python3-async-timeout 4.0.2, python3-anyio 3.6.2,
# whose defects the checks below name): another embedded version without
# them skips, saying so.
if ! "$PY" -c 'import async_timeout, anyio' 2>/dev/null; then
  echo "SKIP: async_timeout and anyio are not installed for $("$PY" -V 2>&1) ($PY)"
  exit 77
fi
C=scenarios/catalog
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if [[ $2 != "$3" ]]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi; }
has() { if grep -q -- "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1: no '$2' in $3"; sed 's/^/  | /' "$3" | tail -20; fails=$((fails+1)); fi; }
hasnt() { if grep -q -- "$2" "$3"; then echo "FAIL: $1: '$2' in $3"; fails=$((fails+1)); else echo "ok: $1"; fi; }

# 1. Adapter errors: exit 2, the traceback, no finding (run and conform).
mkdir -p "$tmp/ad/pkg"
cat > "$tmp/ad/target_naive.py" <<'EOF'
# async-timeout as its docs read: expired is a property there
import async_timeout
CONTRACT = 1
NAME = "naive"
PROVIDES = frozenset({"timeout", "reschedule"})
UNSUPPORTED = frozenset({"cancel_scope"})
def version(): return "naive"
timeout = async_timeout.timeout
timeout_at = async_timeout.timeout_at
EOF
printf 'NAME = "x"\n' > "$tmp/ad/target_nocontract.py"
cat > "$tmp/ad/target_setupfail.py" <<'EOF'
import asyncio
CONTRACT = 1
NAME = "setupfail"
PROVIDES = frozenset({"sleep"})
def version(): return "0"
sleep = asyncio.sleep
def setup(): raise ValueError("boom in setup")
EOF
cat > "$tmp/ad/target_missing.py" <<'EOF'
CONTRACT = 1
NAME = "missing"
PROVIDES = frozenset({"event"})
def version(): return "0"
EOF
for a in naive:"expired is a bool, not a method" nocontract:"CONTRACT is missing" \
         setupfail:"setup() raised ValueError: boom in setup" missing:"Event"; do
  name=${a%%:*}; want=${a#*:}
  "$AF" run --target "$tmp/ad/target_$name.py" $C/basic-timeout.json > "$tmp/out" 2>&1; rc=$?
  check "run, adapter error ($name)" 2 $rc
  has "run, adapter error ($name) says why" "$want" "$tmp/out"
  has "run, adapter error ($name) has the traceback" "Traceback" "$tmp/out"
  hasnt "run, adapter error ($name) is no verdict" "cancellation\." "$tmp/out"
done
"$AF" conform --target "$tmp/ad/target_naive.py" --time 0 --out "$tmp/cn" > "$tmp/out" 2>&1; rc=$?
check "conform, adapter error" 2 $rc
has "conform, adapter error says why" "expired is a bool, not a method" "$tmp/out"
[[ -z $(ls "$tmp/cn/findings" 2>/dev/null | grep -v summary) ]] && echo "ok: conform, adapter error files no finding" ||
  { echo "FAIL: conform, adapter error filed findings"; fails=$((fails+1)); }

# 2. The adapter's folder and PYTHONPATH are importable.
printf 'import asyncio\nsleep = asyncio.sleep\n' > "$tmp/ad/pkg/helper_mod.py"
printf 'from helper_mod import sleep\n' > "$tmp/ad/sibling.py"
cat > "$tmp/ad/target_sib.py" <<'EOF'
import sibling
CONTRACT = 1
NAME = "sib"
PROVIDES = frozenset({"sleep"})
def version(): return "sib 1"
sleep = sibling.sleep
EOF
PYTHONPATH="$tmp/ad/pkg" "$AF" run --target "$tmp/ad/target_sib.py" $C/basic-gather.json > "$tmp/out" 2>&1; rc=$?
check "adapter folder + PYTHONPATH importable" 0 $rc
"$AF" run --target "$tmp/ad/target_sib.py" $C/basic-gather.json > "$tmp/out" 2>&1; rc=$?
check "without PYTHONPATH: adapter error" 2 $rc
has "without PYTHONPATH: names the module" "No module named 'helper_mod'" "$tmp/out"

# 3. The skip path: what the adapter declares UNSUPPORTED is skipped.
cat > "$tmp/ad/target_okto.py" <<'EOF'
import target_async_timeout as t
CONTRACT = 1
NAME = "okto"
PROVIDES = frozenset({"timeout", "reschedule"})
UNSUPPORTED = frozenset({"cancel_scope"})
def version(): return "okto 1"
timeout = t.timeout
timeout_at = t.timeout_at
EOF
"$AF" run --target "$tmp/ad/target_okto.py" $C/basic-cancel-scope-before.json > "$tmp/out" 2>&1; rc=$?
check "run, unsupported op: skipped" 0 $rc
has "run, unsupported op: says skipped" "skipped: uses cancel_scope, which okto does not support" "$tmp/out"
"$AF" replay --target "$tmp/ad/target_okto.py" $C/basic-cancel-scope-before.json $C/basic-gather.json \
  --junit "$tmp/okto.xml" > "$tmp/out" 2>&1; rc=$?
check "replay, unsupported op: skipped" 0 $rc
has "replay summary counts the skip" "1 passed, 0 failed, 1 skipped" "$tmp/out"
has "replay JUnit: <skipped>" "<skipped message=" "$tmp/okto.xml"

# 4. The differential oracle: fires on #229 (async-timeout), not on stock
#    asyncio with pure-Python tasks; a catalog expect entry names a target.
S229=$C/corner-timeout-external-cancel-same-tick.json
"$AF" run --target async_timeout --reference asyncio $S229 > "$tmp/out" 2>&1
has "differential fires on async-timeout #229" "^  differential .*TimeoutError.*CancelledError" "$tmp/out"
has "its single-run verdict is placed at the library's timeout" "cancellation.converted task worker at main/0:gather/worker/0:timeout" "$tmp/out"
"$AF" run --target asyncio_py --reference asyncio $S229 > "$tmp/out" 2>&1; rc=$?
check "differential quiet: asyncio_py vs asyncio, #229 shape" 0 $rc
hasnt "no differential verdict on asyncio_py" "differential" "$tmp/out"
"$AF" replay --target async_timeout --reference asyncio $S229 > "$tmp/out" 2>&1; rc=$?
check "replay with target: expect entries naming async-timeout hold" 0 $rc
"$AF" replay $S229 > "$tmp/out" 2>&1; rc=$?
check "replay on stock asyncio: the target's entries do not apply" 0 $rc

# gen --reference: stock asyncio against itself files nothing; async-timeout
# against asyncio files differential findings, and no verdict stock
# asyncio gives too (cancellation.count at asyncio's own task_group).
"$AF" gen --seed 3 --count 2000 --target asyncio --reference asyncio --out "$tmp/g0" > "$tmp/out" 2>&1; rc=$?
check "gen --reference, asyncio against itself" 0 $rc
has "gen --reference, asyncio against itself: no finding" " 0 findings" "$tmp/out"
"$AF" gen --seed 3 --count 2000 --target async_timeout --out "$tmp/g1" > "$tmp/out1" 2>&1
"$AF" gen --seed 3 --count 2000 --target async_timeout --reference asyncio --out "$tmp/g2" > "$tmp/out2" 2>&1
has "gen without --reference: asyncio's own task_group verdict filed" "cancellation.count|task_group|task-end|@async-timeout" "$tmp/out1"
hasnt "gen --reference: the verdict asyncio shares is not" "cancellation.count|task_group|task-end|@async-timeout" "$tmp/out2"
has "gen --reference: differential findings" "differential|" "$tmp/out2"

# 5. conform: stock asyncio against itself is conformant (exit 0).
"$AF" conform --target asyncio_py --time 0 --out "$tmp/cpy" > "$tmp/out" 2>&1; rc=$?
check "conform asyncio_py (catalog)" 0 $rc
has "conform asyncio_py: conformant" "conformant, 0 failure(s)" "$tmp/out"

# 6. conform async-timeout: not conformant (exit 1); #229 in the matrix
#    with a minimised reproducer that fails under plain python3.11.
"$AF" conform --target async_timeout --time 0 --out "$tmp/cat" > "$tmp/out" 2>&1; rc=$?
check "conform async_timeout" 1 $rc
has "matrix row: cancellation-delivered fails" "^cancellation-delivered *FAIL" "$tmp/out"
$PY - "$tmp/cat" <<'PYEOF' || fails=$((fails+1))
import json, os, subprocess, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
d = json.load(open(os.path.join(out, "conform.json")))
assert d["conformant"] is False and d["target"]["name"] == "async-timeout", d["target"]
assert d["catalog"]["skipped"] > 0 and all("why" in s for s in d["catalog"]["skipped_scenarios"])
conv = [f for f in d["failures"] if f["text"].startswith("cancellation.converted|timeout|external-timeout|@async-timeout")]
assert conv, [f["text"] for f in d["failures"]]
f = conv[0]
assert f["contract"] == "timeouts-raise-on-expiry" and f["primitive"] == "timeout", f
assert any(t["upstream"].startswith("aio-libs/async-timeout#229") for t in f["triage"]), f["triage"]
r = subprocess.run(["/usr/bin/python3.11", os.path.join(out, f["reproducer"])], capture_output=True, text=True, timeout=60)
assert r.returncode == 1 and "REPRODUCED" in r.stdout and "cancellation.converted" in r.stdout, (r.returncode, r.stdout[-800:], r.stderr[-800:])
print("ok: #229 filed, triaged, its reproducer fails under python3.11")
suite = ET.parse(os.path.join(out, "conform.xml")).getroot().find("testsuite")
assert int(suite.get("failures")) > 0 and int(suite.get("tests")) == len(suite.findall("testcase"))
md = open(os.path.join(out, "conform.md")).read()
assert "| `cancellation-delivered` | **fail** |" in md and "aio-libs/async-timeout#229" in md
print("ok: conform.json, conform.xml, conform.md agree")
PYEOF

# 6b. Every failure's reproducer is evidence under plain python3.11 (exit 1,
#     REPRODUCED), differential ones included (the library's recorded
#     behaviour, or a run of its own on stock asyncio).
for d in "$tmp"/cat/findings/*/; do
  $PY "$d/repro.py" > "$tmp/rp" 2>&1; rc=$?
  [[ $rc == 1 ]] && grep -q '^verdict: REPRODUCED' "$tmp/rp" ||
    { echo "FAIL: reproducer $(basename "$d") exit $rc: $(tail -n1 "$tmp/rp")"; fails=$((fails+1)); }
done
echo "ok: $(ls -d "$tmp"/cat/findings/*/ | wc -l) async-timeout reproducers checked"

# 7. The example adapter of docs/VENDORS.md: the file shown is the file
#    tested, and it is conformant.
$PY - docs/VENDORS.md docs/vendors/target_mytimeout.py <<'PYEOF' || fails=$((fails+1))
import sys
doc, src = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert src.strip() in doc, "docs/VENDORS.md does not show docs/vendors/target_mytimeout.py as it is"
print("ok: VENDORS.md shows the tested example adapter")
PYEOF
"$AF" conform --target docs/vendors/target_mytimeout.py --time 0 --out "$tmp/cmy" > "$tmp/out" 2>&1; rc=$?
check "conform the VENDORS.md example" 0 $rc

# 8. anyio: the catalog runs through the adapter (task groups, cancel
#    scopes, start) and its known defects are reported (exit 1), with a
#    short fuzzing phase and its progress line.
"$AF" conform --target anyio --time 2 --out "$tmp/cay" > "$tmp/out" 2>&1; rc=$?
check "conform anyio" 1 $rc
has "anyio version read from the module" "anyio 3.6.2 against asyncio" "$tmp/out"
has "fuzzing phase ran on both" "fuzzing: [0-9]* execs" "$tmp/out"
has "anyio: task group swallowing its cancellation (F)" "cancellation.count|task_group" "$tmp/cay/conform.md"
for d in "$tmp"/cay/findings/*/; do
  $PY "$d/repro.py" > "$tmp/rp" 2>&1; rc=$?
  [[ $rc == 1 ]] || { echo "FAIL: anyio reproducer $(basename "$d") exit $rc: $(tail -n1 "$tmp/rp")"; fails=$((fails+1)); }
done

# 9. Usage errors: exit 2.
"$AF" conform --time 0 > "$tmp/out" 2>&1; rc=$?
check "conform without --target" 2 $rc
"$AF" conform --target nosuch --time 0 --out "$tmp/x" > "$tmp/out" 2>&1; rc=$?
check "conform with an unknown target" 2 $rc
"$AF" conform --target async_timeout --reference nosuch --time 0 --out "$tmp/x" > "$tmp/out" 2>&1; rc=$?
check "conform with an unknown reference" 2 $rc

[[ $fails == 0 ]] && echo "conform: all ok" || echo "conform: $fails failure(s)"
exit $((fails > 0))
