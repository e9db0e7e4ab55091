#!/usr/bin/env bash
# e2e: `asyncfuzz gen` - deterministic per seed, findings filed in the
# findings store OUT/findings/<signature>/ (scenario.json that replays with
# its verdicts, repro.py that fails under python3.11 while the finding
# holds, verdict.json, verdicts.json, trace.jsonl, input.bin, meta.json,
# count), deduplicated by signature, summary, exit codes.
# usage: gen.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: gen.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if [[ $2 != "$3" ]]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails+1)); else echo "ok: $1"; fi; }

# Misuse allowed: the misuse ops predict verdicts, so there are findings.
"$AF" gen --seed 7 --count 300 --misuse --out "$tmp/f1" -q >"$tmp/out1" 2>"$tmp/err1"; rc=$?
cat "$tmp/err1" >&2
check "gen --misuse finds something" 1 $rc
tail -n1 "$tmp/out1" | grep -q "^gen: 300 runs in" || { echo "FAIL: no total line"; cat "$tmp/out1"; fails=$((fails+1)); }
nf=$(find "$tmp/f1/findings" -mindepth 1 -maxdepth 1 -type d | wc -l)
[[ $nf -gt 0 ]] || { echo "FAIL: no finding folder"; fails=$((fails+1)); }
echo "findings: $nf"

# Every finding folder is complete.
for d in "$tmp/f1"/findings/*/; do
  for f in scenario.json repro.py verdict.json verdicts.json trace.jsonl input.bin meta.json count; do
    [[ -f $d/$f ]] || { echo "FAIL: $d$f missing"; fails=$((fails+1)); }
  done
done

# Deduplication: one folder per signature, counts add up in summary.json.
$PY - "$tmp/f1/findings" "$tmp/out1" <<'PYEOF' || fails=$((fails+1))
import json, os, re, sys
root, out = sys.argv[1:]
s = json.load(open(os.path.join(root, "summary.json")))
c = s["campaign"]
assert c["command"] == "gen" and c["runs"] == 300 and c["seed"] == 7 and c["misuse"] is True, c
assert c["stopped_by"] is None and c["new_signatures"] == len(s["findings"]), c
sigs = [f["signature"] for f in s["findings"]]
assert len(sigs) == len(set(sigs)), "duplicate signatures"
assert s["unique"] == len(sigs) and s["total"] == sum(f["count"] for f in s["findings"]), s
dirs = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
assert sorted(f["folder"] for f in s["findings"]) == dirs
# the counts are those gen printed: one line per signature, runs first
printed = {m.group(2): int(m.group(1)) for m in re.finditer(r"^ *(\d+) +\S+ +([0-9a-f]{16}) ", open(out).read(), re.M)}
assert printed == {f["signature"]: f["count"] for f in s["findings"]}, (printed, s["findings"])
for f in s["findings"]:
    assert f["count"] >= 1 and f["engine"] == "gen" and ", run " in f["origin"], f
    d = os.path.join(root, f["folder"])
    v = json.load(open(os.path.join(d, "verdicts.json")))
    assert v["signature"]["hash"] == f["signature"], (v["signature"], f)
    assert any(x["signature"]["hash"] == f["signature"] for x in v["verdicts"])
    assert json.load(open(os.path.join(d, "verdict.json")))["signature"]["hash"] == f["signature"]
    m = json.load(open(os.path.join(d, "meta.json")))
    assert m["signature"] == f["signature"] and m["origin"] == v["origin"] == f["origin"], (m, v)
    assert int(open(os.path.join(d, "count")).read()) == f["count"]
print("ok: summary.json,", len(sigs), "signatures,", sum(f["count"] for f in s["findings"]), "occurrences")
PYEOF

# Same seed, same findings (names and files).
"$AF" gen --seed 7 --count 300 --misuse --out "$tmp/f2" -q >"$tmp/out2" 2>/dev/null
# (meta.json holds times, .lock is the store's lock file; the campaign's
# campaign.json and history.jsonl beside the store hold times and run ids)
(cd "$tmp/f1/findings" && find . -type f ! -name summary.json ! -name meta.json ! -name .lock | sort | xargs md5sum) >"$tmp/sum1"
(cd "$tmp/f2/findings" && find . -type f ! -name summary.json ! -name meta.json ! -name .lock | sort | xargs md5sum) >"$tmp/sum2"
cmp -s "$tmp/sum1" "$tmp/sum2" && echo "ok: same seed, same findings" || { echo "FAIL: seed 7 gave different findings"; diff "$tmp/sum1" "$tmp/sum2" | head; fails=$((fails+1)); }

# Each finding's scenario replays with exactly its verdicts ...
"$AF" replay "$tmp"/f1/findings/*/scenario.json >"$tmp/rep" 2>&1; rc=$?
check "findings replay as their own regression scenarios" 0 $rc
[[ $rc -eq 0 ]] || head -5 "$tmp/rep"
# ... and its reproducer reproduces it (exit 1, its verdict line) under the plain python of the embedded version ($AF_PYTHON).
ok=0; bad=0
for d in "$tmp"/f1/findings/*/; do
  timeout 20 $PY -I "$d/repro.py" >"$tmp/pyout" 2>"$tmp/pyerr"; rc=$?
  if [[ $rc -eq 0 ]]; then bad=$((bad+1)); echo "FAIL: $d/repro.py exited 0: the finding does not reproduce"
  elif [[ $rc -eq 1 ]] && grep -q '^verdict: REPRODUCED' "$tmp/pyout"; then ok=$((ok+1))
  else bad=$((bad+1)); echo "FAIL: $d/repro.py exited $rc without its verdict line:"; tail -3 "$tmp/pyout" "$tmp/pyerr"; fi
done
[[ $bad -eq 0 ]] && echo "ok: $ok reproducers reproduce (exit 1, verdict: REPRODUCED)" || fails=$((fails+bad))

# Without misuse: every verdict is a finding against asyncio itself or the
# harness. The exit code says whether a new one was (0 or 1, never 2): the
# first findings of stock 3.11 are in its shipped baseline.
"$AF" gen --seed 1 --count 200 --out "$tmp/f3" -q >"$tmp/out3" 2>"$tmp/err3"; rc=$?
[[ $rc -eq 0 || $rc -eq 1 ]] && echo "ok: gen without misuse ran (exit $rc)" || { echo "FAIL: gen without misuse: exit $rc"; cat "$tmp/err3"; fails=$((fails+1)); }
[[ -f "$tmp/f3/campaign.json" && -f "$tmp/f3/history.jsonl" ]] || { echo "FAIL: no campaign.json / history.jsonl"; fails=$((fails+1)); }
[[ $rc -eq 0 && ! -e "$tmp/f3/findings" ]] || [[ -f "$tmp/f3/findings/summary.json" ]] || { echo "FAIL: findings folder vs exit code"; fails=$((fails+1)); }

# Usage errors.
"$AF" gen --count 3 >/dev/null 2>&1; check "gen without --seed" 2 $?
"$AF" gen --seed 1 >/dev/null 2>&1; check "gen without --count" 2 $?
"$AF" gen --seed x --count 3 >/dev/null 2>&1; check "gen bad seed" 2 $?
"$AF" gen --seed 1 --count 3 --max-len 0 >/dev/null 2>&1; check "gen bad --max-len" 2 $?

echo "gen.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
