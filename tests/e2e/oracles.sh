#!/usr/bin/env bash
# e2e: oracle self-tests through the real runner. tests/scenarios/oracles/
# holds, per oracle, scenarios that must trigger it (<oracle>-fires-*) and
# scenarios that must not (<oracle>-quiet-*), each with its expected
# verdicts; tests/scenarios/oracles-hang/ the same for `hang`, replayed with
# a lowered virtual-time budget; tests/scenarios/oracles-loop/ the loop
# oracles' firing scenarios on target planted_loop, oracles-reentrant/ the
# re-entrant contract on nest_asyncio; tests/scenarios/oracles-differential/
# for `differential`, replayed on async-timeout against stock asyncio. Also
# checks that each oracle has at least
# three of each kind (spurious: see tests/scenarios/README.md).
# usage: oracles.sh PATH/TO/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: oracles.sh ASYNCFUZZ}
fails=0
dir=tests/scenarios/oracles
for o in leaked-task swallowed count message converted nested lost cleanup blocking deadlock; do
  nf=$(ls $dir/$o-fires-*.json 2>/dev/null | wc -l); nq=$(ls $dir/$o-quiet-*.json 2>/dev/null | wc -l)
  if [[ $nf -lt 3 || $nq -lt 3 ]]; then echo "FAIL: $o has $nf firing and $nq quiet scenarios (want >= 3 each)"; fails=$((fails+1)); fi
done
nq=$(ls $dir/spurious-quiet-*.json | wc -l); [[ $nq -ge 3 ]] || { echo "FAIL: spurious quiet scenarios: $nq"; fails=$((fails+1)); }
nf=$(ls tests/scenarios/oracles-hang/hang-fires-*.json | wc -l); nq=$(ls tests/scenarios/oracles-hang/hang-quiet-*.json | wc -l)
[[ $nf -ge 3 && $nq -ge 3 ]] || { echo "FAIL: hang has $nf firing and $nq quiet scenarios"; fails=$((fails+1)); }

# The loop's own oracles fire only on a loop that breaks them: oracles-loop/
# is replayed on target planted_loop (a vendor subclass with planted
# defects); the re-entrant contract on nest_asyncio (oracles-reentrant/).
for o in loop.order loop.stop loop.handle; do
  nf=$(ls tests/scenarios/oracles-loop/$o-fires-*.json 2>/dev/null | wc -l)
  nq=$(ls $dir/$o-quiet-*.json tests/scenarios/oracles-loop/$o-quiet-*.json 2>/dev/null | wc -l)
  if [[ $nf -lt 3 || $nq -lt 3 ]]; then echo "FAIL: $o has $nf firing and $nq quiet scenarios (want >= 3 each)"; fails=$((fails+1)); fi
done
nf=$(ls tests/scenarios/oracles-reentrant/nested-fires-*.json | wc -l); nq=$(ls tests/scenarios/oracles-reentrant/nested-quiet-*.json | wc -l)
[[ $nf -ge 3 && $nq -ge 3 ]] || { echo "FAIL: the re-entrant contract has $nf firing and $nq quiet scenarios"; fails=$((fails+1)); }
# differential: two runs; its scenarios in tests/scenarios/oracles-differential
# (async-timeout against stock asyncio), and the whole catalog must stay
# quiet with pure-Python tasks against C tasks.
dd=tests/scenarios/oracles-differential
nf=$(ls $dd/differential-fires-*.json | wc -l); nq=$(ls $dd/differential-quiet-*.json | wc -l)
[[ $nf -ge 3 && $nq -ge 3 ]] || { echo "FAIL: differential has $nf firing and $nq quiet scenarios"; fails=$((fails+1)); }
if "${AF_PYTHON:-/usr/bin/python3.11}" -c 'import async_timeout' 2>/dev/null; then
  "$AF" replay --target async_timeout --reference asyncio $dd || fails=$((fails+1))
else
  echo "SKIP: differential on async_timeout: async_timeout is not installed for ${AF_PYTHON:-/usr/bin/python3.11}"
fi
"$AF" replay --target asyncio_py --reference asyncio scenarios/catalog | tail -n1
"$AF" replay --target asyncio_py --reference asyncio scenarios/catalog > /dev/null || { echo "FAIL: differential fires on the catalog, pure-Python against C tasks"; fails=$((fails+1)); }

"$AF" replay $dir || fails=$((fails+1))
"$AF" replay --target planted_loop tests/scenarios/oracles-loop || fails=$((fails+1))
if "${AF_PYTHON:-/usr/bin/python3.11}" -c 'import nest_asyncio' 2>/dev/null; then
  "$AF" replay --target nest_asyncio tests/scenarios/oracles-reentrant || fails=$((fails+1))
else  # Debian ships python3-nest-asyncio for its 3.11 only
  echo "SKIP: the re-entrant contract on nest_asyncio: nest_asyncio is not installed for ${AF_PYTHON:-/usr/bin/python3.11}"
fi
timeout 60 "$AF" replay --max-vtime 1000 tests/scenarios/oracles-hang || fails=$((fails+1))
echo "oracles.sh: $fails failure(s)"
[[ $fails -eq 0 ]]
