#!/usr/bin/env bash
# kill_resume.sh - the supervised commands (harness/cli/cli.h) killed from
# outside, and resumed.
# 1. gen on an adapter that crashes on some runs (its children die and are
#    restarted), killed with kill -9 at random moments, then run again:
#    every signature folder complete, no temporary left, no child left
#    behind by a kill, and the resumed run ends with the findings of an
#    uninterrupted one (the crash finding included).
# 2. SIGINT to gen --count 0 alone (not to its child), while its children
#    die and restart: the campaign ends as --count would (exit 1, the
#    summary, "stopped by SIGINT").
# 3. kill -9 of run / replay / repro while the child is blocked in C: the
#    child goes with its parent. SIGTERM to run alone: the child gets it
#    and run ends by it.
# 4. A child killed from outside: run says so (exit 2, the signal).
# usage: kill_resume.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: kill_resume.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-rel-kill.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
folders() { find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}$' 2>/dev/null | sort; }

A=$(cd "$(dirname "$0")/../data/adapters" && pwd)
cat > "$W/b.json" <<'EOF'
{"asyncfuzz": 1, "description": "one sleep", "expect": [],
 "main": {"name": "main", "body": [{"op": "sleep", "ticks": 1}]}}
EOF

# the children of process $1 (their pids)
children() { pgrep -P "$1" 2>/dev/null; }
# wait up to $2 seconds for process $1 to be gone
gone() {
  local k
  for k in $(seq 1 $(($2 * 20))); do
    kill -0 "$1" 2>/dev/null || return 0
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.05
  done
  return 1
}

# 1. gen killed and resumed
ARGS=(--seed 3 --count 120 -q --target "$A/segv_shield.py")
"$AF" gen "${ARGS[@]}" --out "$W/ref" > "$W/ref.out" 2>&1
[ $? -eq 1 ] || fail "uninterrupted gen: exit $?, expected 1"
grep -q "crash:SIGSEGV" "$W/ref.out" || fail "uninterrupted gen: no crash:SIGSEGV finding"
orphans=0
for k in $(seq 1 6); do
  "$AF" gen "${ARGS[@]}" --out "$W/res" > /dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kids=$(children $pid)
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  pid=""
  for c in $kids; do gone "$c" 5 || orphans=$((orphans + 1)); done
done
[ $orphans -eq 0 ] || fail "kill -9 of gen left $orphans child process(es) running"
"$AF" gen "${ARGS[@]}" --out "$W/res" > "$W/res.out" 2>&1
[ $? -eq 1 ] || fail "resumed gen: exit $?, expected 1"
left=$(find "$W/res/findings" -maxdepth 1 \( -name '.tmp-*' -o -name '.old-*' \) | wc -l)
[ "$left" -eq 0 ] || fail "resumed gen: $left temporaries left in the store"
for d in $(folders "$W/res/findings"); do
  for f in scenario.json repro.py verdict.json input.bin meta.json count; do
    [ -s "$d/$f" ] || fail "resumed gen: $d has no $f"
  done
done
(cd "$W/ref/findings" && folders .) > "$W/ref.list"
(cd "$W/res/findings" && folders .) > "$W/res.list"
if cmp -s "$W/ref.list" "$W/res.list"; then
  echo "ok: gen killed 6 times and resumed: the $(wc -l < "$W/ref.list") findings of an uninterrupted run, no child left behind"
else
  fail "resumed gen: other findings than the uninterrupted run"; diff "$W/ref.list" "$W/res.list"
fi

# 2. SIGINT to gen alone while its children restart
"$AF" gen --seed 3 --count 0 -q --target "$A/segv_shield.py" --out "$W/int" > "$W/int.out" 2> "$W/int.err" &
pid=$!
for k in $(seq 1 200); do grep -q "filed as a finding" "$W/int.err" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
pid=""
if [ $rc -ne 1 ] || ! grep -q "stopped by SIGINT" "$W/int.err" || ! grep -q "^gen: [0-9]* runs" "$W/int.out"; then
  fail "SIGINT to gen: exit $rc, expected 1 with the summary"; tail -5 "$W/int.err"
else
  "$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["campaign"]; assert c["stopped_by"]=="SIGINT" and c["runs"]>0, c' \
    "$W/int/findings/summary.json" && echo "ok: SIGINT to gen alone: exit 1, the summary, stopped_by SIGINT" \
    || fail "SIGINT to gen: summary.json"
fi

# 3. kill -9 of a command whose child is blocked in C; SIGTERM to run alone
for cmd in run replay repro; do
  "$AF" $cmd --hang-timeout 600 --target "$A/block.py" "$W/b.json" > /dev/null 2>&1 &
  pid=$!
  kids=""
  for k in $(seq 1 100); do kids=$(children $pid); [ -n "$kids" ] && break; sleep 0.05; done
  sleep 0.5
  kill -9 $pid
  wait $pid 2>/dev/null
  pid=""
  [ -n "$kids" ] || { fail "$cmd: no child process seen"; continue; }
  for c in $kids; do gone "$c" 5 || fail "kill -9 of $cmd left its child $c running"; done
done
echo "ok: kill -9 of run, replay, repro takes their blocked child along"
"$AF" run --hang-timeout 600 --target "$A/block.py" "$W/b.json" > /dev/null 2>&1 &
pid=$!
for k in $(seq 1 100); do kids=$(children $pid); [ -n "$kids" ] && break; sleep 0.05; done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
pid=""
[ $rc -eq 143 ] || fail "SIGTERM to run: exit $rc, expected 143 (ended by SIGTERM)"
for c in $kids; do gone "$c" 5 || fail "SIGTERM to run left its child $c running"; done
echo "ok: SIGTERM to run alone reaches the child, and run ends by it"

# 4. the child killed from outside
"$AF" run --hang-timeout 600 --target "$A/block.py" "$W/b.json" > "$W/k.out" 2>&1 &
pid=$!
for k in $(seq 1 100); do kids=$(children $pid); [ -n "$kids" ] && break; sleep 0.05; done
sleep 0.5
kill -9 $kids
wait $pid
rc=$?
pid=""
if [ $rc -ne 2 ] || ! grep -q "was killed by signal 9 (SIGKILL)" "$W/k.out"; then
  fail "run whose child was killed: exit $rc, expected 2 naming SIGKILL"; cat "$W/k.out"
else
  echo "ok: a child killed from outside: run says so, exit 2"
fi

echo "kill_resume.sh: $fails failure(s)"
[ $fails -eq 0 ]
