#!/usr/bin/env bash
# e2e: `asyncfuzz gen` without misuse reports only known asyncio defects of
# the embedded CPython (the shipped baseline, baselines/asyncio-3.N.tsv;
# skipped, saying so, for a version without one): any other target-caused signature is a new defect or a false positive to
# triage. gen says so itself: it exits 0 (nothing new) and labels every
# finding known, with its issue, in meta.json.
# With --misuse, every finding is misuse-caused or one of the known defects
# (and labelled so: the misuse ones new, the others known).
# Every catalog scenario's target-caused verdicts are known defects too.
# usage: gen_known_defects.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: gen_known_defects.sh ASYNCFUZZ}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
minor=$("$AF" --version | sed -n 's/^embedded interpreter: CPython \(3\.[0-9]*\).*/\1/p')
known=baselines/asyncio-$minor.tsv
[[ -f $known ]] || { echo "SKIP: no known-defect list for CPython $minor ($known)"; exit 77; }
fails=0
for mode in plain misuse; do
  for seed in 5 21; do
    flag=""; [[ $mode == misuse ]] && flag=--misuse
    out=$tmp/$mode-$seed
    "$AF" gen --seed $seed --count 4000 $flag --out "$out" -q > /dev/null 2>&1
    rc=$?
    [[ $rc -le 1 ]] || { echo "FAIL: gen $flag --seed $seed exit $rc"; fails=$((fails+1)); continue; }
    [[ $mode == misuse || $rc -eq 0 ]] || { echo "FAIL: gen --seed $seed: exit $rc, want 0 (nothing new)"; fails=$((fails+1)); }
    [[ -f $out/findings/summary.json ]] || continue
    "${AF_PYTHON:-/usr/bin/python3.11}" - "$out/findings/summary.json" "$known" "$mode" <<'PYEOF' || fails=$((fails+1))
import json, sys
summary, known_file, mode = sys.argv[1:]
import os
rows = [l.rstrip("\n").split("\t") for l in open(known_file) if l.strip() and not l.startswith("#")]
known = {r[0]: r[1] for r in rows}
bad = []
for f in json.load(open(summary))["findings"]:
    text = f["text"]
    label = json.load(open(os.path.join(os.path.dirname(summary), f["folder"], "meta.json")))["baseline"]
    if mode == "misuse" and text.endswith("|misuse"):
        if label["status"] != "new":
            bad.append("%s labelled %s, not new" % (text, label["status"]))
        continue
    if text not in known:
        bad.append("%s (%s, %d runs)" % (text, f["folder"], f["count"]))
    elif label["status"] != "known" or label["issue"] != (None if known[text] == "none" else known[text]):
        bad.append("%s labelled %s %s, not known %s" % (text, label["status"], label["issue"], known[text]))
for b in bad:
    print("FAIL: %s finding not among the known defects of %s: %s" % (mode, known_file, b))
print("ok: %s %s: every finding is %s" % (mode, summary, "known or misuse" if mode == "misuse" else "a known defect"))
sys.exit(1 if bad else 0)
PYEOF
  done
done
# The catalog: every target-caused verdict of every catalog scenario is a
# known defect (the table, or an expect entry of the file naming its
# upstream issue). The corner-* files are misreadings found by campaigns
# and fixed: this keeps them fixed.
for f in scenarios/catalog/*.json; do
  "$AF" run --json "$f" 2> /dev/null
  echo
done > "$tmp/catalog.jsonl"
"${AF_PYTHON:-/usr/bin/python3.11}" - "$tmp/catalog.jsonl" "$known" <<'PYEOF' || fails=$((fails+1))
import json, sys
runs, known_file = sys.argv[1:]
known = {l.split("\t")[0] for l in open(known_file) if l.strip() and not l.startswith("#")}
bad, n = [], 0
for line in open(runs):
    if not line.strip():
        continue
    run = json.loads(line)
    n += 1
    doc = json.load(open(run["file"]))
    with_issue = {e["oracle"] for e in doc["expect"] if e.get("issue")}
    for v in run["verdicts"]:
        if v["cause"] == "target" and v["signature"]["text"] not in known and v["oracle"] not in with_issue:
            bad.append("%s: %s (%s)" % (run["file"], v["signature"]["text"], v.get("cause_why", "")))
for b in bad:
    print("FAIL: catalog: target-caused verdict not among the known defects of %s: %s" % (known_file, b))
print("ok: catalog: %d scenarios, every target-caused verdict a known defect" % n if not bad else
      "catalog: %d scenario(s) with unknown target-caused verdicts" % len(bad))
sys.exit(1 if bad or n < 80 else 0)
PYEOF

echo "gen_known_defects.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
