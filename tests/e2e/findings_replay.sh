#!/usr/bin/env bash
# e2e: a finding's scenario.json replays green, whatever verdicts came with
# the one it is filed under: its expect lists the oracle of every verdict
# the run reported (scenario- and misuse-caused ones too), so
# `asyncfuzz replay OUT/findings/*/scenario.json` passes on the same build.
# Sampled from each command that files findings: gen without misuse (its
# findings leave the scenario-caused verdicts out), the built-in engine, and
# the libFuzzer and AFL++ targets when they are built (and afl-fuzz is
# installed). Crash and hang findings (the process died) are not replayed.
# usage: findings_replay.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: findings_replay.sh ASYNCFUZZ}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
BIN_DIR=$(dirname "$AF")
PY=${AF_PYTHON:-/usr/bin/python3.11}
W=$(mktemp -d /tmp/af-e2e-replay.XXXXXX)
trap 'rm -rf "$W"' EXIT
unset AF_TARGET AF_ORACLES AF_REFERENCE
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# replay_all LABEL STORE: every finding with verdicts replays as expected.
replay_all() {
  local label=$1 store=$2 list=()
  for d in "$store"/*/; do
    [ -f "$d/meta.json" ] || continue
    grep -qE '"oracle":[[:space:]]*"(crash|hang)"' "$d/meta.json" && continue
    list+=("$d/scenario.json")
  done
  [ ${#list[@]} -gt 0 ] || { fail "$label: no finding to replay"; return; }
  # the sample has findings filed beside verdicts that are no finding
  local extra
  extra=$("$PY" - "${list[@]}" <<'PYEOF'
import json, os, sys
n = 0
for p in sys.argv[1:]:
    d = os.path.dirname(p)
    filed = {v["oracle"] for v in json.load(open(os.path.join(d, "verdicts.json")))["verdicts"]}
    expect = {e["oracle"] for e in json.load(open(p))["expect"]}
    assert filed <= expect, (p, filed, expect)
    n += bool(expect - filed)
print(n)
PYEOF
) || { fail "$label: an expect lacks a finding's oracle"; return; }
  if "$AF" replay "${list[@]}" > "$W/replay.log" 2>&1; then
    echo "ok: $label: ${#list[@]} finding(s) replay green ($extra with verdicts besides the findings)"
  else
    fail "$label: findings that do not replay green:"
    grep -v '^ok\|passed' "$W/replay.log" | head -10
  fi
}

"$AF" gen --seed 1 --count 3000 --out "$W/gen" -q > /dev/null 2>&1
[ $? -le 1 ] && [ -d "$W/gen/findings" ] || fail "gen: no findings"
replay_all gen "$W/gen/findings"

"$AF" fuzz --out "$W/builtin" --time 10 --seed 3 --coverage semantic --quiet > /dev/null 2>&1
[ $? -le 1 ] && [ -d "$W/builtin/findings" ] || fail "builtin: no findings"
replay_all builtin "$W/builtin/findings"

if [ -x "$BIN_DIR/asyncfuzz-libfuzzer" ]; then
  "$AF" fuzz --engine libfuzzer --out "$W/libfuzzer" --time 10 --seed 3 --quiet > /dev/null 2>&1
  replay_all libfuzzer "$W/libfuzzer/findings"
else
  echo "skip: libfuzzer (not built)"
fi

if [ -x "$BIN_DIR/asyncfuzz-afl" ] && command -v afl-fuzz > /dev/null; then
  AFL_NO_UI=1 "$AF" fuzz --engine afl --out "$W/afl" --time 15 --seed 3 --quiet > /dev/null 2>&1
  replay_all afl "$W/afl/findings"
else
  echo "skip: afl (not built or no afl-fuzz)"
fi

echo "findings_replay.sh: $fails failure(s)"
[ $fails -eq 0 ]
