#!/usr/bin/env bash
# isolation.sh - a target that crashes the interpreter or hangs in C becomes
# a finding with its input saved, and the campaign goes on, on every engine.
#   bash tests/e2e/isolation.sh BUILD/asyncfuzz
#
# The targets are real vendor adapter files (no test hook in the engines):
#   segv: its shield() dereferences NULL through ctypes (SIGSEGV in C);
#   exit: its shield() calls C exit(3) through ctypes;
#   hang: its shield() calls pause() through ctypes (blocked in C, where no
#         Python-level watchdog can fire).
# For each engine that is built (builtin; libFuzzer; AFL++ with afl-fuzz):
# 1. segv: `fuzz` exits 1; one crash:SIGSEGV finding, complete (scenario,
#    repro, verdict, input), whose scenario has a shield; hit more than once
#    and the campaign ran on past it (execs);
# 2. exit: an adapter that calls C exit(3) in shield(): a crash:exit finding;
# 3. hang: with --hang-timeout 1, a hang:timeout finding whose scenario
#    has a shield.
# Then, for the libFuzzer binary on its own:
# 4. a campaign that dies on the crash leaves its input in the flight
#    record; the next process on the same findings folder files it;
# 5. the finding's repro.py, run with plain python3.11, crashes the same
#    way (it carries the adapter).
set -uo pipefail
cd "$(dirname "$0")/../.."
AF=${1:-build/asyncfuzz}
BIN_DIR=$(dirname "$AF")
W=$(mktemp -d /tmp/af-e2e-iso.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; [ -f "$W/log" ] && tail -30 "$W/log"; exit 1; }

cat > "$W/target_segv.py" <<'EOF'
# test adapter: shield crashes the interpreter (SIGSEGV in C)
import asyncio
import ctypes

from target_asyncio import *  # noqa: F401,F403


def shield(aw):
    ctypes.string_at(0)
    return asyncio.shield(aw)
EOF
cat > "$W/target_exit.py" <<'EOF'
# test adapter: shield calls C exit(3) in the middle of a run
import asyncio
import ctypes

from target_asyncio import *  # noqa: F401,F403


def shield(aw):
    ctypes.CDLL(None).exit(3)
    return asyncio.shield(aw)
EOF
cat > "$W/target_hang.py" <<'EOF'
# test adapter: shield blocks forever in C
import asyncio
import ctypes

from target_asyncio import *  # noqa: F401,F403


def shield(aw):
    ctypes.CDLL(None).pause()
    return asyncio.shield(aw)
EOF
# a small seed corpus with one shield scenario (each hang costs a second)
mkdir -p "$W/seeds"
for s in basic-shield basic-gather basic-wait-for basic-task-group basic-cancel; do
  cp "corpus/asyncio/$s.bin" "$W/seeds/"
done

# the one folder whose verdict.json has this signature text
finding_with() { grep -l "\"$2\"" "$1"/*/verdict.json 2>/dev/null | head -1 | xargs -r dirname; }

check_finding() { # DIR WHAT
  local d=$1
  for f in scenario.json repro.py verdict.json input.bin count; do
    [ -s "$d/$f" ] || fail "$2: the finding lacks $f"
  done
  grep -q '"shield"' "$d/scenario.json" || fail "$2: the finding's scenario is not the input that killed the process"
}

engines=(builtin)
[ -x "$BIN_DIR/asyncfuzz-libfuzzer" ] && engines+=(libfuzzer)
[ -x "$BIN_DIR/asyncfuzz-afl" ] && command -v afl-fuzz > /dev/null && engines+=(afl)

# One campaign of engine $1 on adapter target_$2.py (seeds $3, $4 seconds,
# more fuzz flags after): exit 1 and a complete finding with signature
# text $5, whose folder goes to $D and hit count to $HITS.
campaign() {
  local e=$1 kind=$2 corpus=$3 secs=$4 text=$5
  shift 5
  timeout 120 "$AF" fuzz --engine "$e" --target "$W/target_$kind.py" --corpus "$corpus" \
    --time "$secs" --seed 7 --coverage semantic --out "$W/$e-$kind" --quiet "$@" > "$W/log" 2>&1
  local rc=$?
  [ $rc -eq 1 ] || fail "$e $kind: exit $rc, expected 1"
  D=$(finding_with "$W/$e-$kind/findings" "$text")
  [ -n "$D" ] || fail "$e $kind: no $text finding"
  check_finding "$D" "$e $kind"
  HITS=$(tr -d ' \n' < "$D/count")
}

for e in "${engines[@]}"; do
  # 1. segv, and the campaign went on past it
  # (a count of runs, not seconds: a loaded machine restarts slower, and
  # this asks whether the campaign goes on, not how fast; the time is a
  # ceiling)
  campaign "$e" segv corpus/asyncio 90 crash:SIGSEGV --runs 600
  [ "${HITS:-0}" -ge 2 ] || fail "$e segv: the campaign did not go on after the crash ($HITS crash)"
  execs=$(grep -oE 'execs [0-9]+|[0-9]+ execs' "$W/log" | grep -oE '[0-9]+' | sort -n | tail -1)
  [ "${execs:-0}" -ge 300 ] || fail "$e segv: only ${execs:-0} execs: the campaign stopped"
  echo "$e segv: crash:SIGSEGV filed once, hit $HITS times, $execs execs"

  # 2. exit() called from the target's code
  campaign "$e" exit "$W/seeds" 2 crash:exit
  echo "$e exit: crash:exit filed, hit $HITS times"

  # 3. hang
  campaign "$e" hang "$W/seeds" 4 hang:timeout --hang-timeout 1
  echo "$e hang: hang:timeout filed, hit $HITS times"
done

LF=$BIN_DIR/asyncfuzz-libfuzzer
if [ -x "$LF" ]; then
  # 4. the libFuzzer binary on its own: it dies on the crash ...
  mkdir -p "$W/lf-corpus"
  cp corpus/asyncio/basic-gather.bin "$W/lf-corpus/"
  AF_FINDINGS=$W/lf AF_TARGET=$W/target_segv.py AF_COVERAGE=semantic \
    "$LF" -runs=200000 -seed=3 -artifact_prefix="$W/lf-" "$W/lf-corpus" > "$W/log" 2>&1
  rc=$?
  [ $rc -ne 0 ] || fail "standalone: libFuzzer did not die on the crash"
  ls "$W"/lf-crash-* > /dev/null 2>&1 || fail "standalone: libFuzzer saved no crash file"
  ls "$W/lf/.inflight/"libfuzzer-* > /dev/null 2>&1 || fail "standalone: no flight record left"
  # ... and the next process on the same folder files it
  AF_FINDINGS=$W/lf AF_TARGET=$W/target_segv.py AF_COVERAGE=semantic \
    "$LF" -runs=0 "$W/lf-corpus" > "$W/log" 2>&1 || fail "standalone: the second start failed"
  # (the start-up check may have filed the signature already: then it is counted)
  grep -qE "^asyncfuzz: (FINDING crash [0-9a-f]+ crash:SIGSEGV|crash:SIGSEGV again \(flight record)" "$W/log" ||
    fail "standalone: the second start did not file the crash"
  d=$(finding_with "$W/lf" "crash:SIGSEGV")
  [ -n "$d" ] || fail "standalone: no crash:SIGSEGV finding"
  check_finding "$d" "standalone"
  grep -q "flight record of libfuzzer process" "$d/meta.json" "$d/hits" 2>/dev/null ||
    [ "$(tr -d ' \n' < "$d/count")" -ge 2 ] || fail "standalone: the recovered crash was not counted"
  [ -z "$(ls "$W/lf/.inflight")" ] || fail "standalone: flight records left: $(ls "$W/lf/.inflight")"
  echo "standalone libFuzzer: died on the crash; the next start filed it from the flight record"

  # 5. the reproducer crashes the same way under plain python3.11
  (cd "$d" && timeout 60 "${AF_PYTHON:-python3.11}" repro.py > "$W/repro.log" 2>&1)
  rc=$?
  [ $rc -eq 139 ] || fail "standalone: repro.py exited $rc, expected 139 (SIGSEGV): $(tail -3 "$W/repro.log")"
  echo "repro.py: SIGSEGV under plain $(basename "${AF_PYTHON:-python3.11}")"
fi
echo "PASS"
