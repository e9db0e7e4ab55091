#!/usr/bin/env bash
# crash_sites.sh - the libFuzzer target aborts in a function of the
# finding's signature family (harness/engines/crash_site.h): two catalog
# defects of different families crash with different top frames below
# abort(), each named after its rule (the code of the verdict's signature
# text, as `run --json` gives it), as ClusterFuzz's grouping reads them; a
# third scenario of one of those families crashes in the same frame. The
# defects are the embedded version's: on 3.11 gh-86296's wait_for block and
# gh-116720's task group block-raise; from 3.12 on (where both are fixed or
# changed) the gather cancel loss's task-end and gh-134471's timeout
# block-raise.
# Exit 77 when asyncfuzz-libfuzzer is not built.
# usage: crash_sites.sh BUILD/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: crash_sites.sh ASYNCFUZZ}
LF=$(dirname "$AF")/asyncfuzz-libfuzzer
[ -x "$LF" ] || { echo "SKIP: $LF not built"; exit 77; }
W=$(mktemp -d /tmp/af-e2e-crash-sites.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
unset AF_KEEP_GOING AF_ORACLES AF_TARGET

# The first frame below abort() of the crash stack libFuzzer prints for
# the catalog scenario $1, with the oracles $2 only (one family).
top_frame() {
  "$AF" encode "scenarios/catalog/$1.json" -o "$W/$1.bin" || return
  AF_ORACLES=$2 AF_FINDINGS=$W/findings-$1-$2 "$LF" "$W/$1.bin" > "$W/$1.log" 2>&1
  grep -q "deadly signal" "$W/$1.log" || { fail "$1: no crash"; return; }
  awk '/ in abort /{getline; print $4; exit}' "$W/$1.log"
}
# The frame the rule of scenario $1's target-caused cancellation.swallowed
# verdict is named by: asyncfuzz_finding_SWALLOWED_<code>.
expected_frame() {
  "$AF" run --json "scenarios/catalog/$1.json" | python3 -c '
import json, sys
for v in json.load(sys.stdin)["verdicts"]:
    if v["oracle"] == "cancellation.swallowed" and v["cause"] == "target":
        code = v["signature"]["text"].split("|")[2]
        print("asyncfuzz_finding_SWALLOWED_" + code.upper().replace("-", "_"))
        break'
}
full=$("$AF" --version | sed -n 's/^embedded interpreter: CPython \([0-9.]*\).*/\1/p')
if [ "${full%.*}" = 3.11 ]; then
  one=defect-wait-for-cancel-race two=defect-task-group-aexit-uncancel
  same=defect-wait-for-cancel-race-nested-gather-message
else
  one=defect-gather-cancel-lost-to-child-error two=defect-timeout-converts-pending-cancel
  same=corner-finally-outer-replaces-after-inner-passes
fi
for s in $one $two $same; do
  frame=$(top_frame $s cancellation.swallowed)
  want=$(expected_frame $s)
  echo "$s: $frame"
  [ -n "$want" ] || fail "$s: no target-caused cancellation.swallowed on $full"
  [ "$frame" = "$want" ] || fail "$s's top frame: '$frame', not '$want'"
done
a=$(expected_frame $one) b=$(expected_frame $two) c=$(expected_frame $same)
[ "$a" != "$b" ] || fail "$one and $two are of one family: '$a'"
[ "$c" = "$a" ] || [ "$c" = "$b" ] || fail "$same is of neither family: '$c'"
echo "crash_sites.sh: $fails failure(s)"
[ $fails -eq 0 ]
