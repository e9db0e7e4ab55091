#!/usr/bin/env bash
# e2e: `asyncfuzz report CAMPAIGN` on a campaign folder built from real
# runs: three short built-in engine runs (campaign.json, history.jsonl,
# stats/<run-id>/plot_data and meta.json's baseline labels written by
# `fuzz` itself), every cause kept (AF_ALL_CAUSES=1: the scenario-caused
# signatures are in no baseline, so new; stock 3.11's are known). Checked: the exit code (1 when new findings are
# listed, 0 when all are known, 2 on errors), the four documents (new
# findings first; JUnit fails the new and passes the known naming their
# issue; JSON agrees with the folders), that the campaign folder is left
# as it was, that a plain findings store and an old campaign still give a
# report saying what is missing, and the HTML page in headless chromium:
# it loads nothing from a network, its script runs without error and finds
# its three plots (with data) and a timeline per finding with a trace; a
# page with a script error or a missing plot is caught. The screenshot is
# kept as build/report-test/report.png.
# usage: report.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: report.sh ASYNCFUZZ}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
OUT=${AF_BINARY_DIR:-$(dirname "$AF")}/report-test
W=$(mktemp -d /tmp/af-e2e-report.XXXXXX)
trap 'rm -rf "$W"' EXIT
unset AF_TARGET AF_ORACLES AF_REFERENCE
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ok() { echo "ok: $*"; }
mkdir -p "$OUT"

# ---- a campaign from real runs ----
C=$W/campaign
run_fuzz() { # SEED
  local rc
  AF_ALL_CAUSES=1 "$AF" fuzz --runs 2500 --seed "$1" --out "$C" 2>"$W/log$1" >/dev/null; rc=$?
  [[ $rc -le 1 ]] || { fail "fuzz --seed $1: exit $rc"; cat "$W/log$1"; }
}
# seed 3 first: from an empty corpus it meets known defects on 3.11, 3.12 and
# 3.13 alike (1 and 2 first reach none of 3.12+'s in 2500 runs)
for seed in 3 1 2; do run_fuzz $seed; done
(cd "$C" && find findings history.jsonl campaign.json stats -type f | sort | xargs md5sum) > "$W/before"

"$AF" report "$C" > "$W/report.out" 2>&1; rc=$?
[[ $rc == 1 ]] && ok "report exits 1 with a new finding" || { fail "report exit $rc"; cat "$W/report.out"; }
for f in report.md report.html report.junit.xml report.json; do
  [[ -s $C/report/$f ]] || fail "$f not written"
done
(cd "$C" && find findings history.jsonl campaign.json stats -type f | sort | xargs md5sum) > "$W/after"
cmp -s "$W/before" "$W/after" && ok "the campaign folder is left as it was" ||
  fail "report changed the campaign folder"

$PY - "$C" <<'PYEOF' || fails=$((fails+1))
import json, os, re, sys, xml.etree.ElementTree as ET
camp = sys.argv[1]
rep = os.path.join(camp, "report")
metas = {}
for sig in os.listdir(os.path.join(camp, "findings")):
    p = os.path.join(camp, "findings", sig, "meta.json")
    if os.path.isfile(p):
        metas[sig] = json.load(open(p))
new = {s for s, m in metas.items() if m["baseline"]["status"] == "new"}
known = set(metas) - new
assert new and known, (new, known)
# JSON: the model, in agreement with the folders
j = json.load(open(os.path.join(rep, "report.json")))
assert j["summary"] == {"new": len(new), "known": len(known), "runs": 3}, j["summary"]
status = [f["status"] for f in j["findings"]]
assert status == sorted(status, key=lambda s: s != "new"), status
for f in j["findings"]:
    m = metas[f["signature"]]
    assert f["status"] == m["baseline"]["status"] and f["issue"] == m["baseline"]["issue"], f
    assert f["count"] == int(open(os.path.join(camp, "findings", f["signature"], "count")).read())
    assert f["evidence"] and f["cause"] and f["folder"] == "findings/" + f["signature"], f
assert [r["plot_rows"] > 0 for r in j["runs"]] == [True] * 3, j["runs"]
assert all(r["exit"] in (0, 1) and r["end"] for r in j["runs"]), j["runs"]
# Markdown: new findings first, then the known ones with issue and count, then the trend
md = open(os.path.join(rep, "report.md")).read()
a, b, c = md.index("## New findings (%d)" % len(new)), md.index("## Known findings (%d)" % len(known)), md.index("## Trend over past runs")
assert a < b < c, (a, b, c)
for s in new:
    assert "`%s`" % metas[s]["signature_text"] in md[a:b], ("not in the new section", s)
for s in known:
    row = [l for l in md[b:c].splitlines() if l.startswith("| `" + metas[s]["signature_text"].replace("|", "\\|"))]
    assert row and (metas[s]["baseline"]["issue"] or "none") in row[0] and " %s |" % int(open(os.path.join(camp, "findings", s, "count")).read()) in row[0], (s, row)
assert len([l for l in md[c:].splitlines() if re.match(r"^\| \d{8}T\d{6}Z-\d+ \|", l)]) == 3, md[c:]
# JUnit: one case per signature, the new ones fail, the known pass naming their issue
suite = ET.parse(os.path.join(rep, "report.junit.xml")).getroot().find("testsuite")
cases = suite.findall("testcase")
assert len(cases) == len(metas) and int(suite.get("failures")) == len(new), suite.attrib
for case in cases:
    sig = case.get("name").split()[0]
    if sig in new:
        assert case.find("failure") is not None, sig
    else:
        assert case.find("failure") is None and metas[sig]["baseline"]["issue"] in case.find("system-out").text, sig
print("ok: report.json, report.md, report.junit.xml: %d new, %d known" % (len(new), len(known)))
PYEOF

# the page loads nothing from anywhere: no src/href/url(), and a CSP that forbids it
H=$C/report/report.html
if grep -qiE '(src|href)=|url\(|@import' "$H"; then fail "report.html references outside content"
else ok "report.html references nothing outside itself"; fi
grep -q "default-src 'none'" "$H" || fail "report.html has no Content-Security-Policy"
[[ $(grep -oE 'https?://[^"]*' "$H" | sort -u) == "http://www.w3.org/2000/svg" ]] ||
  fail "report.html names a URL other than the SVG namespace"

# ---- the page in headless chromium ----
CHROMIUM=$(command -v chromium || true)
chrome() { # PROFILE ARGS...: Debian's chromium, headless, closed to the network
  local profile=$1; shift
  rm -rf "$profile"; mkdir -p "$profile"
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars "$@" 2>>"$W/chromium.log"
}
status_of() { # FILE: the page's self-check and errors, from the DOM after its script ran
  chrome "$W/profile" --window-size=1400,1800 --dump-dom "file://$1" |
    head -c 4096 | grep -o '<html[^>]*>'
}
if [[ -z $CHROMIUM ]]; then
  fail "chromium is not installed (scripts/install-deps installs it)"
else
  html=$(status_of "$H")
  echo "chromium: $html"
  [[ $html == *'data-report-status="ok"'* ]] && ok "the page's script ran and found its plots and timelines" ||
    fail "page status: $html"
  [[ $html == *'data-plots-with-data="3"'* ]] || fail "the three plots do not all have data"
  [[ $html =~ data-lanes=\"([0-9]+)\" && ${BASH_REMATCH[1]} -gt 0 ]] || fail "no timeline lane"
  [[ $html != *data-errors* ]] || fail "script errors: $html"
  rm -f "$OUT/report.png"
  chrome "$W/profile" --window-size=1400,1800 --screenshot="$OUT/report.png" "file://$H" >/dev/null
  [[ $(head -c 8 "$OUT/report.png" 2>/dev/null | od -An -tx1 | tr -d ' ') == 89504e470d0a1a0a &&
     $(stat -c %s "$OUT/report.png") -gt 20000 ]] && ok "screenshot $OUT/report.png" ||
    fail "no screenshot"
  # the check catches what it is for: a script error, a missing plot
  sed 's|</body>|<script>noSuchFunction();</script></body>|' "$H" > "$W/broken.html"
  html=$(status_of "$W/broken.html")
  [[ $html == *'data-errors="'*noSuchFunction* ]] && ok "a script error is recorded" ||
    fail "a script error went unnoticed: $html"
  $PY -c 'import re,sys; t=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<svg[^>]*class=\"plot\".*?</svg>", "", t, count=1, flags=re.S))' "$H" "$W/noplot.html"
  html=$(status_of "$W/noplot.html")
  [[ $html == *'data-report-status="error: plots: 2 of 3'* ]] && ok "a missing plot is caught" ||
    fail "a missing plot went unnoticed: $html"
fi

# ---- every signature known: exit 0 ----
K=$W/known; cp -r "$C" "$K"; rm -rf "$K/report"
$PY - "$K" <<'PYEOF'
import json, os, sys
for sig in os.listdir(os.path.join(sys.argv[1], "findings")):
    p = os.path.join(sys.argv[1], "findings", sig, "meta.json")
    if os.path.isfile(p):
        m = json.load(open(p)); m["baseline"]["status"] = "known"; m["baseline"]["issue"] = m["baseline"]["issue"] or "team-1"
        json.dump(m, open(p, "w"))
PYEOF
"$AF" report "$K" --format md,junit > "$W/k.out"; rc=$?
[[ $rc == 0 ]] && ok "all known: exit 0" || fail "all known: exit $rc"
grep -q "No new finding: every signature is known." "$K/report/report.md" || fail "all known: md"
[[ -f $K/report/report.junit.xml && ! -e $K/report/report.html ]] || fail "--format md,junit wrote other files"
grep -q 'failures="0"' "$K/report/report.junit.xml" || fail "all known: JUnit has failures"

# ---- a plain findings store, an old campaign: a report saying what is missing ----
"$AF" report "$C/findings" --out "$W/plain" --format md,html > "$W/p.out"; rc=$?
[[ $rc == 1 ]] || fail "plain store: exit $rc"
grep -q "a plain findings store" "$W/plain/report.md" && ok "a plain findings store gives a report" ||
  fail "plain store: the report does not say what it is"
# an old campaign: a findings store from before campaign folders had a
# memory (no campaign.json, history or statistics, no labels in meta.json)
"$AF" gen --seed 7 --count 300 --misuse --out "$W/old" -q > /dev/null
rm -rf "$W/old/campaign.json" "$W/old/history.jsonl" "$W/old/stats"
"$PY" - "$W/old/findings" <<'PYEOF'
import json, os, sys
for d in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], d, "meta.json")
    if os.path.exists(p):
        m = json.load(open(p))
        m.pop("baseline", None)
        json.dump(m, open(p, "w"), indent=1)
PYEOF
"$AF" report "$W/old" > "$W/o.out"; rc=$?
[[ $rc == 1 ]] || fail "old campaign: exit $rc"
for m in "no campaign.json" "no history.jsonl" "no stats/" "carry no baseline label"; do
  grep -q "$m" "$W/old/report/report.md" || fail "old campaign: '$m' not said"
done
grep -q "^  missing: no history.jsonl" "$W/o.out" && ok "an old campaign gives a report saying what is missing" ||
  fail "old campaign: stdout"

# ---- errors: exit 2 ----
"$AF" report "$W/nowhere" 2>"$W/e1"; rc=$?
[[ $rc == 2 ]] && grep -q "not a folder" "$W/e1" || fail "missing folder: exit $rc: $(cat "$W/e1")"
mkdir "$W/empty"; "$AF" report "$W/empty" 2>"$W/e2"; rc=$?
[[ $rc == 2 ]] && grep -q "not a campaign folder" "$W/e2" || fail "empty folder: exit $rc: $(cat "$W/e2")"
"$AF" report "$C" --format pdf 2>"$W/e3"; rc=$?
[[ $rc == 2 ]] || fail "--format pdf: exit $rc"
touch "$W/file"; "$AF" report "$C" --out "$W/file/x" > /dev/null 2>"$W/e4"; rc=$?
[[ $rc == 2 ]] || fail "unwritable --out: exit $rc"
[[ $fails == 0 ]] && ok "errors exit 2"

echo "report.sh: $fails failure(s)"
exit $((fails > 0))
