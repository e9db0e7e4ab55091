#!/usr/bin/env bash
# e2e: the benchmark's Python-way baseline (tests/bench/python_baseline.py)
# runs the scenarios it claims to run. For every seed of corpus/asyncio, its
# asyncio-run driver (asyncio.run per input on the stock loop, virtual
# clock) starts the scenario's root task and records the same operations as
# the reproducer's own driver; both drivers, with and without sys.settrace,
# report a positive rate, and with settrace a positive number of edges.
# Figures are printed, never compared with a threshold.
# usage: bench_baseline.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: bench_baseline.sh ASYNCFUZZ}
PY=${AF_PYTHON:-/usr/bin/python3.11}
BASE=tests/bench/python_baseline.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

for s in corpus/asyncio/*.bin; do
  n=$(basename "$s" .bin)
  "$AF" decode "$s" > "$tmp/$n.json" && "$AF" repro "$tmp/$n.json" > "$tmp/$n.py" ||
    fail "decode/repro $s"
done

out=$($PY "$BASE" --check "$tmp"/*.py)
rc=$?
echo "$out" | tail -1
[[ $rc -eq 0 ]] && echo "ok: --check: every seed runs alike under both drivers" ||
  fail "--check exit $rc: $(echo "$out" | head -3)"

# A scenario whose root never starts must fail --check: a driver that runs
# nothing would otherwise pass. (A reproducer whose root coroutine raises
# before its first op, under asyncio-run only, stands in for one.)
sed 's/^async def task_main():.*/&\n    if type(asyncio.get_running_loop()).__name__ != "VirtualLoop": raise SystemExit/' \
  "$tmp/basic-gather.py" > "$tmp/broken.py"
$PY "$BASE" --check "$tmp/broken.py" > "$tmp/broken.out" 2>&1
[[ $? -eq 1 ]] && echo "ok: --check fails on a scenario that records other operations" ||
  fail "--check passed a scenario that does nothing under asyncio-run: $(cat "$tmp/broken.out")"

for driver in asyncio-run reproducer; do
  for cov in notrace trace; do
    line=$($PY "$BASE" 0.3 "$cov" "$driver" "$tmp"/basic-*.py)
    echo "$driver $cov: $line"
    read -r _ rate _ edges <<< "$line"
    [[ ${rate:-0} -gt 0 ]] || fail "$driver $cov: no execs ($line)"
    if [[ $cov == trace ]]; then
      [[ ${edges:-0} -gt 0 ]] || fail "$driver trace: no edges ($line)"
    fi
  done
done

# Usage errors exit 2.
$PY "$BASE" 1 trace nosuchdriver "$tmp/basic-cancel.py" > /dev/null 2>&1
[[ $? -eq 2 ]] && echo "ok: unknown driver: exit 2" || fail "unknown driver: not exit 2"

[[ $fails -eq 0 ]] && echo "bench_baseline: all ok" || echo "bench_baseline: $fails failure(s)"
exit $((fails > 0))
