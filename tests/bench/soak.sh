#!/usr/bin/env bash
# soak.sh - long runs of the supervised commands against a misbehaving
# target adapter, watching for leaks: prints, every few seconds, the RSS
# and open file descriptors of the parent and of its current child, and how
# many children have been restarted. A benchmark: it prints figures and
# asserts nothing (not in ctest).
#
#   tests/bench/soak.sh [BUILD_DIR] [SECONDS_PER_PHASE]   (default build 60)
#
# The adapter (tests/data/adapters/mix.py): shield() crashes the interpreter (SIGSEGV), gather() loops in
# Python (the watchdog stops it: a hang verdict), timeout_at() blocks in C
# (--hang-timeout kills the child). Phases:
#   gen      gen --count 0 with the adapter (children die and restart);
#   fuzz     the built-in engine with the adapter (workers die and restart);
#   replay   replay of a folder whose middle file kills the child, again
#            and again: each replay's peak RSS and time.
set -uo pipefail
BUILD=${1:-build}
SECS=${2:-60}
AF=$(cd "$BUILD" && pwd)/asyncfuzz
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/af-soak.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$W"' EXIT
OPTS=(--watchdog 0.2 --hang-timeout 1 --target "$ROOT/tests/data/adapters/mix.py")

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# watch PID NAME LOG PATTERN: a line every 5 s while PID runs; restarts =
# lines of LOG matching PATTERN
watch() {
  local p=$1 name=$2 log=$3 pattern=$4 t0=$SECONDS
  printf '%-6s %6s %10s %6s %12s %8s %9s\n' "$name" "t(s)" "rss(KiB)" "fds" "child rss" "child fds" "restarts"
  while kill -0 "$p" 2>/dev/null; do
    local kid kr kf
    kid=$(pgrep -P "$p" | head -1)
    kr=-; kf=-
    [ -n "$kid" ] && kr=$(rss "$kid") && kf=$(fds "$kid")
    printf '%-6s %6d %10s %6s %12s %8s %9s\n' "" $((SECONDS - t0)) "$(rss "$p")" "$(fds "$p")" \
      "$kr" "$kf" "$(grep -c "$pattern" "$log" 2>/dev/null)"
    sleep 5
  done
}

echo "soak: $SECS s per phase, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# gen
"$AF" gen --seed 1 --count 0 -q "${OPTS[@]}" --out "$W/gen" > "$W/gen.out" 2> "$W/gen.err" &
pid=$!
( sleep "$SECS"; kill -INT $pid 2>/dev/null ) &
watch $pid gen "$W/gen.err" "asyncfuzz gen: while"
wait $pid 2>/dev/null
echo "gen exit $?"
pid=""
tail -1 "$W/gen.out"; tail -3 "$W/gen.err"

# fuzz (built-in engine)
"$AF" fuzz --time "$SECS" --seed 1 "${OPTS[@]}" --out "$W/fuzz" --quiet > "$W/fuzz.out" 2> "$W/fuzz.err" &
pid=$!
watch $pid fuzz "$W/fuzz.err" "asyncfuzz: \(FINDING crash\|FINDING hang\|crash:\|hang:\)"
wait $pid 2>/dev/null
pid=""
tail -2 "$W/fuzz.err"

# replay, again and again
mkdir -p "$W/suite"
cp "$ROOT"/scenarios/catalog/basic-*.json "$W/suite/"
cat > "$W/suite/basic-m-shield.json" <<'EOF'
{"asyncfuzz": 1, "description": "a shield (the adapter crashes there)", "expect": [],
 "main": {"name": "main", "body": [{"op": "shield", "task": {"name": "t", "body": []}}]}}
EOF
printf '%-6s %6s %10s %8s %10s\n' replay run "peak(KiB)" "time(s)" "result"
t_end=$((SECONDS + SECS))
n=0
while [ $SECONDS -lt $t_end ]; do
  n=$((n + 1))
  /usr/bin/time -f "%M %e" -o "$W/time" "$AF" replay "${OPTS[@]}" "$W/suite" > "$W/replay.out" 2>&1
  printf '%-6s %6d %10s %8s %10s\n' "" $n "$(tail -1 "$W/time" | cut -d' ' -f1)" \
    "$(tail -1 "$W/time" | cut -d' ' -f2)" \
    "$(tail -1 "$W/replay.out" | tr ' ' _)"
done
