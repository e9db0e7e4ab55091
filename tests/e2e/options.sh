#!/usr/bin/env bash
# options.sh - the options of every command, through the binary (the table
# is harness/options/options.def; tests/unit/test_options.c tests the parser).
#   bash tests/e2e/options.sh BUILD/asyncfuzz   (AF_BINARY_DIR=BUILD)
#
# 1. each command's --help lists exactly the options it accepts: every
#    option named in any command's help is accepted by the commands whose
#    help lists it and refused ("unknown option ... for CMD") by the others;
# 2. --version and -V, alone and after every command;
# 3. option checks: strict numbers, ranges, a missing --corpus folder or
#    --dict file named before anything starts, `check` on an empty folder;
# 4. every engine honours the budgets and a --target path of 100+ bytes:
#    `fuzz --max-vtime 1` files the hang every run then hits, and the
#    finding's repro.py names the long adapter path.
set -uo pipefail
AF=${1:?usage: options.sh ASYNCFUZZ}
BIN_DIR=${AF_BINARY_DIR:-$(dirname "$AF")}
W=$(mktemp -d /tmp/af-e2e-options.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset AF_TARGET AF_ORACLES AF_REFERENCE AF_PURE_PYTHON AF_NO_ACCEL AF_QUIET

commands=$("$AF" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
[ "$(echo "$commands" | wc -w)" -ge 10 ] || fail "asyncfuzz --help lists $(echo "$commands" | wc -w) commands"

# 1. help == accepted
help_options() { # CMD: "-o --out" ... one per line, long and short forms
  "$AF" "$1" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' | tr -d ' ,' | sed 's/--/ --/' |
    tr ' ' '\n' | grep -v '^$' | sort -u
}
for c in $commands; do help_options "$c" > "$W/help-$c"; done
cat "$W"/help-* | sort -u > "$W/all"
checked=0
for c in $commands; do
  while read -r opt; do
    case $opt in
      --*) arg="$opt=1" ;; # never consumes the --help after it
      *) arg=$opt ;;
    esac
    "$AF" "$c" "$arg" --help > /dev/null 2> "$W/err" < /dev/null
    if grep -qx -- "$opt" "$W/help-$c"; then
      grep -q "unknown option" "$W/err" && fail "$c --help lists $opt but $c refuses it: $(head -1 "$W/err")"
    else
      grep -q "unknown option '$opt' for $c" "$W/err" || fail "$c accepts $opt, which its --help does not list"
    fi
    checked=$((checked + 1))
  done < "$W/all"
done
ok "help == accepted: $checked (command, option) pairs"

# 2. --version everywhere
"$AF" --version > "$W/v" || fail "--version: exit $?"
grep -qE '^asyncfuzz [0-9]+\.[0-9]+' "$W/v" || fail "--version: no asyncfuzz version: $(cat "$W/v")"
grep -qE 'CPython 3\.[0-9]+\.[0-9]+' "$W/v" || fail "--version: no interpreter version: $(cat "$W/v")"
grep -q '^build: ' "$W/v" || fail "--version: no build line"
for c in $commands; do
  "$AF" "$c" --version | cmp -s - "$W/v" || fail "$c --version differs from asyncfuzz --version"
  "$AF" "$c" -V | cmp -s - "$W/v" || fail "$c -V differs from asyncfuzz --version"
done
"$AF" -V | cmp -s - "$W/v" || fail "-V differs from --version"
ok "--version: $(head -2 "$W/v" | tr '\n' ' ')"

# 3. option checks: exit 2 and a message naming the option, value and range
expect_usage() { # WANT_TEXT COMMAND ARGS...
  local want=$1
  shift
  timeout 20 "$AF" "$@" > "$W/out" 2> "$W/err" < /dev/null
  local rc=$?
  [ $rc -eq 2 ] || { fail "$*: exit $rc, want 2"; return; }
  grep -qF -- "$want" "$W/err" || fail "$*: no '$want' in: $(head -2 "$W/err")"
}
expect_usage "--count: ' -1' is not an integer in 0..18446744073709551615" gen --seed 1 --count ' -1'
expect_usage "--count: '1e3' is not an integer" gen --seed 1 --count 1e3
expect_usage "--seed: '10abc' is not an integer (decimal or 0x hex)" fuzz --seed 10abc
expect_usage "--max-len: '65537' is not an integer in 1..65536" fuzz --max-len 65537
expect_usage "--max-len: '0' is not an integer in 1..65536" gen --seed 1 --count 1 --max-len 0
expect_usage "--watchdog: '-1' is not a number of seconds in 0.001..86400" replay --watchdog=-1 x
expect_usage "--jobs: '0' is not an integer in 1..256" fuzz --jobs 0
expect_usage "unknown option '--bogus' for run" run --bogus x.json
expect_usage "--corpus: '$W/no/such/dir': No such file or directory" fuzz --corpus "$W/no/such/dir" --out "$W/c"
[ -e "$W/c" ] && fail "fuzz --corpus MISSING created its --out folder"
expect_usage "--dict: '$W/no.dict': No such file or directory" fuzz --engine libfuzzer --dict "$W/no.dict" --out "$W/d"
[ -e "$W/d" ] && fail "fuzz --dict MISSING started the engine"
AF_MAX_VTIME=x "$AF" fuzz --runs 1 --out "$W/e" > /dev/null 2> "$W/err"
[ $? -eq 2 ] && grep -q "AF_MAX_VTIME: 'x' is not an integer" "$W/err" || fail "AF_MAX_VTIME=x: $(cat "$W/err")"
# the same number syntax in every command that takes --seed
"$AF" gen --seed 0x10 --count 1 --out "$W/g" -q > /dev/null 2>&1
[ $? -le 1 ] || fail "gen --seed 0x10 refused"
timeout 60 "$AF" fuzz --seed 0x10 --runs 20 --out "$W/f" --quiet --coverage semantic > "$W/out" 2>&1
[ $? -le 1 ] || fail "fuzz --seed 0x10 refused: $(tail -2 "$W/out")"
ok "strict numbers, ranges, missing --corpus / --dict named"
# check on a folder without scenarios: a message, not the usage text
mkdir -p "$W/empty"
"$AF" check "$W/empty" > "$W/out" 2> "$W/err"
rc=$?
[ $rc -eq 2 ] || fail "check EMPTY_DIR: exit $rc, want 2"
grep -q "$W/empty: no \*.json file in this folder" "$W/err" || fail "check EMPTY_DIR: $(cat "$W/err")"
grep -q "usage:" "$W/err" && fail "check EMPTY_DIR printed the usage text"
ok "check EMPTY_DIR: $(cat "$W/err")"

# 4. budgets and a long --target on every engine
long=$W/a-folder-name-long-enough-that-the-whole-adapter-path-passes-one-hundred-bytes-easily
mkdir -p "$long"
target=$long/target_long_name.py
printf 'from target_asyncio import *  # noqa: F401,F403\n' > "$target"
[ ${#target} -ge 100 ] || fail "the adapter path is only ${#target} bytes"
"$AF" run --target "$target" --max-vtime 1 --json scenarios/catalog/basic-cancel.json > "$W/out" 2>&1
grep -q '"unexpected":\["hang"\]' "$W/out" || fail "run --target LONG --max-vtime 1: $(head -c 300 "$W/out")"
engines=(builtin)
[ -x "$BIN_DIR/asyncfuzz-libfuzzer" ] && engines+=(libfuzzer)
[ -x "$BIN_DIR/asyncfuzz-afl" ] && command -v afl-fuzz > /dev/null && engines+=(afl)
for e in "${engines[@]}"; do
  out=$W/budget-$e
  timeout 120 "$AF" fuzz --engine "$e" --target "$target" --max-vtime 1 --corpus corpus/asyncio \
    --time 4 --seed 3 --coverage semantic --out "$out" --quiet > "$W/log" 2>&1
  rc=$?
  [ $rc -eq 1 ] || { fail "$e: fuzz --max-vtime 1: exit $rc, want 1: $(tail -3 "$W/log")"; continue; }
  d=$(grep -l '"hang||hang"' "$out"/findings/*/verdict.json 2> /dev/null | head -1 | xargs -r dirname)
  [ -n "$d" ] || { fail "$e: --max-vtime 1 gave no hang||hang finding"; continue; }
  grep -qF "$target" "$d/repro.py" || fail "$e: the finding's repro.py does not name the long --target"
  ok "$e: --max-vtime 1 and a ${#target}-byte --target reach the engine ($(basename "$d"))"
done

echo "options.sh: $fails failure(s)"
[ $fails -eq 0 ]
