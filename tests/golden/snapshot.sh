#!/usr/bin/env bash
# snapshot.sh - everything asyncfuzz's behaviour consists of, as files, so that
# two builds (before and after a refactoring) can be compared with diff -r.
#
# Usage: tests/golden/snapshot.sh BUILD_DIR OUT_DIR
#
# Writes, for the given build's `asyncfuzz`:
#   scenarios/<file>.{trace,json,show,repro,bytes}  every catalog and oracle
#       scenario: its trace, its verdicts (run --json), its tree, its
#       reproducer (as an AST without docstrings), its encoding;
#   corpus/<seed>.{json,show}  every corpus seed decoded (with and without misuse);
#   gen-<name>/<signature>/<file>  the findings of fixed-seed `gen` runs, found
#       wherever the store puts them (a folder holding scenario.json, named
#       by the signature hash at the end of its name), and the summary's
#       findings without timings.
# It judges nothing: compare.sh diffs two snapshots. Run from any directory.
set -uo pipefail
BUILD=$(cd "$1" && pwd)
OUT=$2
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AF=$BUILD/asyncfuzz
rm -rf "$OUT"
mkdir -p "$OUT/scenarios" "$OUT/corpus"

# Reproducers carry the harness's Python source: its comments and docstrings
# (which name files, and move with them) are not behaviour.
strip_comments() { python3 "$ROOT/tests/golden/py_normal.py"; }

# relative paths: outputs that name a file read the same from any checkout
cd "$ROOT"
for f in scenarios/catalog/*.json tests/scenarios/oracles*/*.json; do
    base=$(basename "$(dirname "$f")")-$(basename "$f" .json)
    o=$OUT/scenarios/$base
    "$AF" run --trace "$f" >"$o.trace" 2>&1; echo "exit $?" >>"$o.trace"
    "$AF" run --json "$f" >"$o.json" 2>&1; echo "exit $?" >>"$o.json"
    "$AF" show "$f" >"$o.show" 2>&1
    "$AF" repro "$f" 2>&1 | strip_comments >"$o.repro"; echo "exit ${PIPESTATUS[0]}" >>"$o.repro"
    "$AF" encode --misuse "$f" 2>&1 | od -An -tx1 >"$o.bytes"
done

for f in corpus/asyncio/*; do
    o=$OUT/corpus/$(basename "$f")
    "$AF" decode "$f" >"$o.json" 2>&1
    "$AF" decode --misuse "$f" >"$o.misuse.json" 2>&1
    "$AF" show --bytes "$f" >"$o.show" 2>&1
done

# gen: findings by signature, whatever the store's layout.
gen_snapshot() {
    local name=$1; shift
    local tmp; tmp=$(mktemp -d)
    "$AF" gen -q --out "$tmp/out" "$@" >/dev/null 2>&1
    echo "exit $?" >"$OUT/gen-$name.exit"
    find "$tmp/out" -name scenario.json -not -path '*/minimized/*' | sort | while read -r s; do
        d=$(dirname "$s")
        sig=$(basename "$d" | grep -o '[0-9a-f]\{16\}$')
        mkdir -p "$OUT/gen-$name/$sig"
        for file in scenario.json trace.jsonl input.bin; do
            [ -f "$d/$file" ] && cp "$d/$file" "$OUT/gen-$name/$sig/"
        done
        [ -f "$d/repro.py" ] && strip_comments <"$d/repro.py" >"$OUT/gen-$name/$sig/repro.py"
        # verdicts: every verdict of the run, without where the folder is
        if [ -f "$d/verdicts.json" ]; then
            grep -v '"dir"' "$d/verdicts.json" >"$OUT/gen-$name/$sig/verdicts.json"
        fi
    done
    find "$tmp/out" -name summary.json | head -1 | xargs -r grep -o '"signature": *"[0-9a-f]*", *"text": *"[^"]*", *"count": *[0-9]*' \
        | sort >"$OUT/gen-$name.summary"
    rm -rf "$tmp"
}
gen_snapshot seed1 --seed 1 --count 3000
gen_snapshot seed2-misuse --seed 2 --count 2000 --misuse
gen_snapshot seed3-all --seed 3 --count 1000 --all-verdicts
echo "snapshot: $(find "$OUT" -type f | wc -l) files in $OUT"
