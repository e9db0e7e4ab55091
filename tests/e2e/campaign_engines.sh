#!/usr/bin/env bash
# campaign_engines.sh - the campaign folder through the libFuzzer and AFL++
# front doors, and scaling out (docs/campaigns.md):
#   1. the same exit codes on every engine: a night that meets only known
#      signatures exits 0 although its folder holds findings of an earlier
#      night, labelled on their FINDING lines and in meta.json; one that
#      meets a new signature (an adapter file: no shipped list) exits 1;
#      statistics in stats/<run>/ (libFuzzer: from its progress lines;
#      AFL++: afl-fuzz's own files, copied);
#   2. corpus merge / minimize through libFuzzer -merge=1 (and afl-cmin);
#   3. campaign merge of two machines' folders: one history, each run once.
# Exit 77 when no external engine is built.
# usage: campaign_engines.sh BUILD/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: campaign_engines.sh ASYNCFUZZ}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
BIN_DIR=$(dirname "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-engines.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset AF_TARGET AF_ORACLES AF_BASELINE
engines=()
[ -x "$BIN_DIR/asyncfuzz-libfuzzer" ] && engines+=(libfuzzer)
[ -x "$BIN_DIR/asyncfuzz-afl" ] && command -v afl-fuzz > /dev/null && engines+=(afl)
[ ${#engines[@]} -gt 0 ] || { echo "SKIP: no libFuzzer or AFL++ engine built"; exit 77; }
printf 'from target_asyncio import *  # noqa: F401,F403\n' > "$W/target_stock.py"

statuses() { # "new"/"known" of every signature folder
  "$PY" -c 'import json, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    if len(n) == 16:
        print(json.load(open(os.path.join(d, n, "meta.json")))["baseline"]["status"])' "$1"
}

# 1. exit codes and labels on every external engine
for e in "${engines[@]}"; do
  O=$W/night-$e
  # night 1: stock asyncio; findings accumulate in the folder
  timeout 120 "$AF" fuzz --engine "$e" --out "$O" --corpus corpus/asyncio --runs 3000 --seed 1 \
    --coverage semantic --quiet > "$W/log1" 2>&1
  rc=$?
  [ $rc -eq 0 ] || fail "$e night 1: exit $rc, want 0: $(tail -3 "$W/log1")"
  n1=$(ls "$O/findings" | grep -c '^[0-9a-f]\{16\}$')
  # night 2: the folder holds night 1's findings; still nothing new
  timeout 120 "$AF" fuzz --engine "$e" --out "$O" --corpus corpus/asyncio --runs 2000 --seed 2 \
    --coverage semantic --quiet > "$W/log2" 2>&1
  rc=$?
  [ $rc -eq 0 ] || fail "$e night 2 (a folder with $n1 earlier findings): exit $rc, want 0"
  [ "$n1" -gt 0 ] || echo "note: $e met no signature in 3000 runs"
  statuses "$O/findings" > "$W/statuses"
  ! grep -qv known "$W/statuses" || fail "$e: a signature not labelled known"
  if [ "$e" = libfuzzer ] && [ "$n1" -gt 0 ]; then
    grep -q "^asyncfuzz: FINDING .* \[known gh-" "$W/log1" || fail "$e: FINDING lines not labelled"
  fi
  s=$(ls -d "$O"/stats/*/ | head -1)
  [ -f "$s/fuzzer_stats" ] && [ -f "$s/plot_data" ] && [ ! -L "$s/fuzzer_stats" ] ||
    fail "$e: no statistics in $s"
  grep -q "^# relative_time, cycles_done" "$s/plot_data" || fail "$e: plot_data header"
  [ "$("$PY" -c 'import json,sys; print(len({json.loads(l)["run"] for l in open(sys.argv[1])}))' "$O/history.jsonl")" -eq 2 ] ||
    fail "$e: not 2 runs in history"
  # a new signature (no list for an adapter file): exit 1
  timeout 120 "$AF" fuzz --engine "$e" --out "$W/new-$e" --target "$W/target_stock.py" \
    --corpus corpus/asyncio --runs 3000 --seed 1 --coverage semantic --quiet > "$W/log3" 2>&1
  rc=$?
  if [ "$(ls "$W/new-$e/findings" 2> /dev/null | grep -c '^[0-9a-f]\{16\}$')" -gt 0 ]; then
    [ $rc -eq 1 ] || fail "$e: new signatures, exit $rc, want 1"
  else
    [ $rc -eq 0 ] || fail "$e: no signature, exit $rc"
  fi
  ok "$e: known-only nights exit 0 ($n1 earlier finding(s) in the folder), a new signature exits $rc"
done

# 2. corpus merge and minimize
mkdir -p "$W/c1" "$W/c2"
ls corpus/asyncio/*.bin | head -30 | xargs -I{} cp {} "$W/c1/"
ls corpus/asyncio/*.bin | tail -30 | xargs -I{} cp {} "$W/c2/"
if [ -x "$BIN_DIR/asyncfuzz-libfuzzer" ]; then
  "$AF" corpus merge "$W/c1" "$W/c2" --out "$W/merged" > "$W/log" 2>&1 || fail "corpus merge: $(tail -5 "$W/log")"
  m=$(ls "$W/merged" | wc -l)
  [ "$m" -ge 10 ] && [ "$m" -le 60 ] || fail "corpus merge kept $m inputs"
  grep -q "corpus merge (libFuzzer -merge=1): 60 input(s) in 2 folder(s) -> $m in" "$W/log" || fail "corpus merge: $(cat "$W/log")"
  "$AF" corpus minimize "$W/merged" --out "$W/min" > "$W/log" 2>&1 || fail "corpus minimize: $(tail -5 "$W/log")"
  k=$(ls "$W/min" | wc -l)
  [ "$k" -ge 5 ] && [ "$k" -le "$m" ] || fail "corpus minimize kept $k of $m"
  "$AF" corpus minimize "$W/merged" --out "$W/min" > "$W/log" 2>&1
  [ $? -eq 2 ] || fail "corpus minimize into a non-empty folder was not refused"
  [ -z "$(ls corpus/asyncio | grep -v '\.bin$')" ] || fail "the seed corpus was written to"
  ok "corpus merge: 60 -> $m; minimize: $m -> $k (libFuzzer -merge=1)"
fi
if [ -x "$BIN_DIR/asyncfuzz-afl" ] && command -v afl-cmin > /dev/null; then
  "$AF" corpus minimize "$W/c1" --engine afl --out "$W/cmin" > "$W/log" 2>&1 || fail "afl-cmin: $(tail -5 "$W/log")"
  k=$(ls "$W/cmin" | wc -l)
  [ "$k" -ge 5 ] && [ "$k" -le 30 ] || fail "afl-cmin kept $k of 30"
  ok "corpus minimize --engine afl: 30 -> $k (afl-cmin)"
fi

# 3. two machines' folders into one
e=${engines[0]}
"$AF" campaign merge "$W/night-$e" "$W/night-$e" --out "$W/all" > "$W/log" 2>&1 || fail "campaign merge: $(cat "$W/log")"
"$AF" campaign merge "$W/night-$e" --out "$W/all" > "$W/log" 2>&1 || fail "campaign merge again: $(cat "$W/log")"
[ "$("$PY" -c 'import json,sys; print(len([json.loads(l) for l in open(sys.argv[1])]))' "$W/all/history.jsonl")" -eq 2 ] ||
  fail "campaign merge: not one line per run"
[ "$(ls "$W/all/stats" | wc -l)" -eq 2 ] || fail "campaign merge: stats not copied"
cmp -s "$W/all/campaign.json" "$W/night-$e/campaign.json" || fail "campaign merge: campaign.json not adopted"
"$AF" campaign merge "$W/new-$e" --out "$W/all" > "$W/log" 2>&1
[ $? -eq 2 ] && grep -q "target: was asyncio, now $W/target_stock.py" "$W/log" || fail "campaign merge of another target: $(cat "$W/log")"
ok "campaign merge: $(cat "$W/log" | head -0)2 runs once each, statistics and settings copied, another target refused"

echo "campaign_engines.sh: $fails failure(s)"
[ $fails -eq 0 ]
