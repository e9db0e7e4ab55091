#!/usr/bin/env bash
# conform.sh - figures for `asyncfuzz conform`'s fuzzing phase (prints,
# asserts nothing; issue 15: it should run at least 1/3 of `fuzz`'s
# execs/s on stock asyncio, since it runs each input on the target and the
# reference). One after the other, same seconds each:
#   fuzz on stock asyncio; conform of stock asyncio (against itself); conform
#   of async_timeout and of anyio (both against stock asyncio).
#   bash tests/bench/conform.sh [BUILD/asyncfuzz] [SECONDS]   (default 30)
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
SECS=${2:-30}
W=$(mktemp -d /tmp/af-bench-conform.XXXXXX)
trap 'rm -rf "$W"' EXIT
rate() { sed -n 's/.* execs in \([0-9.]*\) s (\([0-9]*\)\/s.*/\2/p' | head -n1; }
f=$("$AF" fuzz --time "$SECS" --quiet --out "$W/fuzz" 2>&1 | rate)
echo "fuzz, stock asyncio:                 $f execs/s"
for t in asyncio async_timeout anyio; do
  c=$("$AF" conform --target "$t" --time "$SECS" --out "$W/$t" 2>&1 | grep 'fuzzing:' | rate)
  printf "conform --target %-14s %6s execs/s (each on both), %s of fuzz's\n" "$t:" "$c" \
    "$(awk -v a="$c" -v b="$f" 'BEGIN { printf "%.2f", a / b }')"
done
