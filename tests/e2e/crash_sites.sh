#!/usr/bin/env bash
# crash_sites.sh - the libFuzzer target aborts in a function of the
# finding's signature family (harness/engines/crash_site.h): two catalog
# defects of different families (gh-86296's wait_for block, gh-116720's
# task group block-raise) crash with different top frames below abort(),
# each named after its rule, as ClusterFuzz's grouping reads them; the
# same family twice gives the same frame.
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
a=$(top_frame defect-wait-for-cancel-race cancellation.swallowed)
b=$(top_frame defect-task-group-aexit-uncancel cancellation.swallowed)
c=$(top_frame defect-wait-for-cancel-race-nested-gather-message cancellation.swallowed)
echo "wait_for race: $a; task group: $b; wait_for race under gather: $c"
[ "$a" = asyncfuzz_finding_SWALLOWED_BLOCK ] || fail "gh-86296's top frame: '$a'"
[ "$b" = asyncfuzz_finding_SWALLOWED_BLOCK_RAISE ] || fail "gh-116720's top frame: '$b'"
[ "$c" = "$a" ] || fail "the same family crashed elsewhere: '$c' vs '$a'"
echo "crash_sites.sh: $fails failure(s)"
[ $fails -eq 0 ]
