#!/usr/bin/env bash
# findings_survive_kill.sh - a campaign killed with SIGKILL right after a
# finding leaves that finding complete on disk.
#   bash tests/e2e/findings_survive_kill.sh BUILD/asyncfuzz
# The builtin engine runs from an empty corpus (findings come within a
# fraction of a second on stock asyncio); as soon as the first signature
# folder appears, the engine (supervisor and, through PR_SET_PDEATHSIG, its
# workers) is killed with -9. Every signature folder must then be complete:
# scenario.json and verdict.json parse, repro.py compiles, input.bin and
# count exist. Repeated with several jobs and at a later moment, and once
# more with a crash finding (filed by the supervisor).
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-kill.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$W"' EXIT
pid=""
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -20 "$W/log"; exit 1; }
unset AF_TARGET AF_ORACLES
folders() { find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}$' 2>/dev/null | sort; }

check_all() {
  local n=0
  for d in $(folders "$1"); do
    n=$((n + 1))
    for f in scenario.json repro.py verdict.json input.bin count; do
      [ -f "$d/$f" ] || fail "$d: no $f after kill -9"
    done
    "$PY" -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' \
      "$d/scenario.json" "$d/verdict.json" 2> "$W/err" || { cat "$W/err"; fail "$d: JSON incomplete"; }
    "$PY" -c 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")' "$d/repro.py" \
      || fail "$d/repro.py does not compile"
  done
  [ $n -ge 1 ] || fail "no finding folder"
  echo "$n complete folder(s)"
}

# $1 label, $2 out, $3 how many folders to wait for, rest: fuzz options / env
kill_after() {
  local label=$1 out=$2 want=$3
  shift 3
  local envs=() opts=()
  for a in "$@"; do
    case $a in *=*) envs+=("$a") ;; *) opts+=("$a") ;; esac
  done
  env "${envs[@]}" "$AF" fuzz --out "$out" --time 30 --coverage semantic --quiet "${opts[@]}" > "$W/log" 2>&1 &
  pid=$!
  local t=0
  while [ "$(folders "$out/findings" | wc -l)" -lt "$want" ]; do
    sleep 0.01
    t=$((t + 1))
    kill -0 $pid 2>/dev/null || fail "$label: the engine exited before $want finding(s)"
    [ $t -lt 3000 ] || fail "$label: no finding in 30 s"
  done
  kill -9 $pid
  wait $pid 2>/dev/null
  pid=""
  sleep 0.2 # the workers die with their supervisor (PR_SET_PDEATHSIG)
  printf '%s: killed after %s folder(s): ' "$label" "$want"
  check_all "$out/findings"
}

kill_after first "$W/a" 1 --seed 1
kill_after later "$W/b" 5 --seed 2
kill_after jobs2 "$W/c" 3 --seed 3 --jobs 2
# a target adapter whose gather() crashes the interpreter
printf '%s\n' "import ctypes" "from target_asyncio import *  # noqa: F401,F403" \
  "def gather(*aws, **kw):" "    ctypes.string_at(0)" > "$W/target_segv.py"
kill_after crash "$W/d" 1 --seed 4 --target "$W/target_segv.py" AF_ORACLES=differential
grep -l '"crash"' "$W/d/findings/"*/verdict.json > /dev/null || fail "crash: the folder is not the crash"
# no worker left behind
sleep 0.3
if pgrep -f "$W/" > /dev/null; then fail "processes of a killed campaign are still running"; fi
echo "PASS"
