#!/usr/bin/env bash
# e2e: `asyncfuzz gen` stopped by force or by a signal.
# 1. kill -9 at random moments, then the same command again (a resume): no
#    signature folder is ever partial, the resumed run repairs what the
#    killed ones left (temporary folders) and ends with exactly the
#    findings of an uninterrupted run (the same folders, the same files);
# 2. Ctrl-C (SIGINT) of `gen --count 0`, the documented way to stop it, and
#    SIGTERM: the run ends as --count would: exit 1 (findings), the lines
#    and total on stdout, OUT/findings/summary.json with the runs made and
#    "stopped_by", counts that match what was printed.
# usage: gen_interrupt.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: gen_interrupt.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-genint.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }
ARGS=(--seed 11 --count 600 --misuse --all-verdicts -q)
FILES="scenario.json repro.py verdict.json verdicts.json trace.jsonl input.bin"
folders() { find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}$' 2>/dev/null | sort; }

# Every signature folder has every file, and its JSON parses.
check_complete() {
  local d f bad=0
  for d in $(folders "$1"); do
    for f in $FILES meta.json count; do
      [ -f "$d/$f" ] || { fail "$2: $d has no $f"; bad=1; }
    done
    "$PY" -c 'import json,sys; [json.load(open(p)) for p in sys.argv[1:]]' \
      "$d/scenario.json" "$d/verdict.json" "$d/verdicts.json" "$d/meta.json" 2>/dev/null \
      || { fail "$2: $d: a JSON file is cut short"; bad=1; }
  done
  return $bad
}

# 1. kill -9 and resume
"$AF" gen "${ARGS[@]}" --out "$W/ref" > "$W/ref.out" 2>&1
[ $? -eq 1 ] || fail "uninterrupted run: exit $?, expected 1"
nref=$(folders "$W/ref/findings" | wc -l)
[ "$nref" -ge 10 ] || fail "uninterrupted run: only $nref findings"
temps=0
for k in $(seq 1 12); do
  "$AF" gen "${ARGS[@]}" --out "$W/res" > /dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%02d' $((RANDOM % 100)))"
  [ $((RANDOM % 2)) -eq 0 ] && sleep 0.5
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  pid=""
  check_complete "$W/res/findings" "kill $k"
  t=$(find "$W/res/findings" -maxdepth 1 -name '.tmp-*' 2>/dev/null | wc -l)
  temps=$((temps + t))
done
echo "12 kills: $(folders "$W/res/findings" | wc -l) complete folder(s) on disk, $temps temporary folder(s) left behind by the kills"
"$AF" gen "${ARGS[@]}" --out "$W/res" > "$W/res.out" 2> "$W/res.err"
rc=$?
[ $rc -eq 1 ] || fail "resumed run: exit $rc, expected 1"
left=$(find "$W/res/findings" -maxdepth 1 \( -name '.tmp-*' -o -name '.old-*' -o -name '*.tmp.*' \) | wc -l)
[ "$left" -eq 0 ] || fail "resumed run: $left temporaries left in the store"
# what the last kill left is repaired by the resumed run, which says so
if [ "$t" -gt 0 ]; then
  grep -q "removed a temporary folder" "$W/res.err" || fail "the repair did not say what it removed"
fi
check_complete "$W/res/findings" "resumed"
(cd "$W/ref/findings" && folders . ) > "$W/ref.list"
(cd "$W/res/findings" && folders . ) > "$W/res.list"
cmp -s "$W/ref.list" "$W/res.list" || { fail "resumed run: other findings than the uninterrupted run"; diff "$W/ref.list" "$W/res.list" | head; }
same=0
for d in $(cat "$W/ref.list"); do
  for f in $FILES; do
    cmp -s "$W/ref/findings/$d/$f" "$W/res/findings/$d/$f" || fail "resumed run: $d/$f differs"
  done
  same=$((same + 1))
done
echo "ok: kill -9 and resume: $same folder(s), each file identical to the uninterrupted run's"

# 2. SIGINT and SIGTERM of gen --count 0
stop_with() {
  local sig=$1 out=$W/stop-$1
  "$AF" gen --seed 7 --count 0 --misuse --out "$out" > "$out.out" 2> "$out.err" &
  pid=$!
  local t=0
  while [ "$(folders "$out/findings" | wc -l)" -lt 3 ] && [ $t -lt 600 ]; do sleep 0.05; t=$((t + 1)); done
  sleep 0.3
  kill -"$sig" $pid
  wait $pid
  local rc=$?
  pid=""
  [ $rc -eq 1 ] || { fail "$sig: exit $rc, expected 1 (findings)"; cat "$out.err"; return; }
  grep -q "stopped by SIG$sig after [0-9]* runs" "$out.err" || fail "$sig: no 'stopped by' line"
  "$PY" - "$out/findings/summary.json" "$out.out" "SIG$sig" <<'PYEOF' || fail "$sig: summary"
import json, re, sys
path, out, sig = sys.argv[1:]
s = json.load(open(path))
c = s["campaign"]
text = open(out).read()
total = re.search(r"^gen: (\d+) runs in .*, (\d+) findings", text, re.M)
assert total, text
assert c["stopped_by"] == sig and c["runs"] == int(total.group(1)) > 0, (c, total.group(0))
printed = {m.group(2): int(m.group(1)) for m in re.finditer(r"^ *(\d+) +\S+ +([0-9a-f]{16}) ", text, re.M)}
assert len(printed) == int(total.group(2)) == s["unique"], (printed, s["unique"])
assert printed == {f["signature"]: f["count"] for f in s["findings"]}, "counts differ"
print("ok: %s: exit 1 after %d runs, summary.json with %d findings, stopped_by %s" % (sig, c["runs"], s["unique"], c["stopped_by"]))
PYEOF
  check_complete "$out/findings" "$sig"
}
stop_with INT
stop_with TERM

echo "gen_interrupt.sh: $fails failure(s)"
[ $fails -eq 0 ]
