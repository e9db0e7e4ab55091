#!/usr/bin/env bash
# malformed.sh - `asyncfuzz check` on every scenarios/malformed/NAME.json
# must exit 2 (input error) and print on stderr the error whose substring is
# the first line of NAME.expect, in the format FILE:LINE:COL: PATH: MESSAGE.
# A valid catalog file must pass the same check (exit 0), so that a check
# that rejects everything does not pass this test.
#
# usage: bash tests/e2e/malformed.sh PATH/TO/asyncfuzz   (from the repo root)
set -u
bin=${1:?usage: malformed.sh PATH/TO/asyncfuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/scenarios/malformed
fail=0
count=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

for json in "$dir"/*.json; do
    name=$(basename "$json" .json)
    expect_file=$dir/$name.expect
    count=$((count + 1))
    if [ ! -f "$expect_file" ]; then
        echo "FAIL $name: no $name.expect"
        fail=1
        continue
    fi
    want=$(head -n 1 "$expect_file")
    "$bin" check "$json" >/dev/null 2>"$tmp"
    rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL $name: exit code $rc, expected 2"
        sed 's/^/    /' "$tmp"
        fail=1
    elif ! grep -qF -- "$json:$want" "$tmp"; then
        echo "FAIL $name: stderr does not contain: $json:$want"
        sed 's/^/    /' "$tmp"
        fail=1
    fi
done

if [ "$count" -lt 24 ]; then
    echo "FAIL only $count malformed files (at least 24 expected)"
    fail=1
fi

good=$(ls "$root"/scenarios/catalog/*.json 2>/dev/null | head -n 1)
if [ -n "$good" ]; then
    if ! "$bin" check "$good" >/dev/null 2>"$tmp"; then
        echo "FAIL a catalog file does not pass check: $good"
        sed 's/^/    /' "$tmp"
        fail=1
    fi
fi

if [ "$fail" -eq 0 ]; then
    echo "ok: $count malformed files rejected with the expected message"
fi
exit "$fail"
