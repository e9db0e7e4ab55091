#!/usr/bin/env bash
# e2e: `asyncfuzz gen` without misuse reports only known asyncio defects of
# Debian's CPython 3.11 (tests/data/known-defects-3.11.tsv): any other
# target-caused signature is a new defect or a false positive to triage.
# With --misuse, every finding is misuse-caused or one of the known defects.
# usage: gen_known_defects.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: gen_known_defects.sh ASYNCFUZZ}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
known=tests/data/known-defects-3.11.tsv
fails=0
for mode in plain misuse; do
  for seed in 5 21; do
    flag=""; [[ $mode == misuse ]] && flag=--misuse
    out=$tmp/$mode-$seed
    "$AF" gen --seed $seed --count 4000 $flag --out "$out" -q > /dev/null 2>&1
    rc=$?
    [[ $rc -le 1 ]] || { echo "FAIL: gen $flag --seed $seed exit $rc"; fails=$((fails+1)); continue; }
    [[ -f $out/summary.json ]] || continue
    /usr/bin/python3.11 - "$out/summary.json" "$known" "$mode" <<'PYEOF' || fails=$((fails+1))
import json, sys
summary, known_file, mode = sys.argv[1:]
known = {l.split("\t")[0] for l in open(known_file) if l.strip() and not l.startswith("#")}
bad = []
for f in json.load(open(summary))["findings"]:
    text = f["text"]
    if mode == "misuse" and text.endswith("|misuse"):
        continue
    if text not in known:
        bad.append("%s (%s, %d runs)" % (text, f["dir"], f["count"]))
for b in bad:
    print("FAIL: %s finding not among the known 3.11 defects: %s" % (mode, b))
print("ok: %s %s: every finding is %s" % (mode, summary, "known or misuse" if mode == "misuse" else "a known defect"))
sys.exit(1 if bad else 0)
PYEOF
  done
done
echo "gen_known_defects.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
