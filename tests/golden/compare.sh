#!/usr/bin/env bash
# compare.sh - shows that two builds behave byte for byte alike: snapshots
# both (snapshot.sh) and diffs them. Exit 0 when identical, 1 with the
# differences listed otherwise.
#
# Usage: tests/golden/compare.sh BUILD_BEFORE BUILD_AFTER [WORK_DIR]
# e.g. to check a refactoring: build the old commit into build-before
#   (git worktree add /tmp/before OLD && bash /tmp/before/scripts/build),
#   then tests/golden/compare.sh /tmp/before/build build
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${3:-$(mktemp -d)}
bash "$HERE/snapshot.sh" "$1" "$WORK/before" || exit 2
bash "$HERE/snapshot.sh" "$2" "$WORK/after" || exit 2
if diff -r "$WORK/before" "$WORK/after" >"$WORK/diff.txt"; then
    echo "compare: identical ($(find "$WORK/before" -type f | wc -l) files)"
    exit 0
fi
echo "compare: DIFFERENT ($(grep -c '^diff\|^Only' "$WORK/diff.txt") files); first lines of $WORK/diff.txt:"
head -60 "$WORK/diff.txt"
exit 1
