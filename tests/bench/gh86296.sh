#!/usr/bin/env bash
# gh86296.sh - time to the first finding of CPython gh-86296 from an EMPTY
# corpus, per engine (prints figures, asserts nothing).
#
#   bash tests/bench/gh86296.sh [BUILD_DIR] [RUNS] [ENGINES]
#   BUILD_DIR default build, RUNS default 5, ENGINES default "builtin libfuzzer afl"
#   GH_LIMIT=60 (s per run), GH_DIR=/dev/shm (scratch), GH_COVERAGE (default
#   semantic), GH_LF_FLAGS / GH_AFL_FLAGS / GH_AFL_ENV (default: the recommended
#   flags of docs/engines.md; AFL++ gets AFL_CUSTOM_MUTATOR_LIBRARY=
#   BUILD_DIR/asyncfuzz-afl-mutator.so when it is built; GH_AFL_ENV=AFL_FAST_CAL=1
#   runs without it), GH_SHOW_BANNERS=1 (list the banners counted)
#
# gh-86296 (Debian's CPython 3.11): asyncio.wait_for loses an outer
# cancellation when the inner task completes in the same loop iteration.
# Counted as found at the first finding banner
#     asyncfuzz: FINDING <oracle> <hex> <signature text>
# whose oracle is cancellation.swallowed or cancellation.count and whose
# signature text either names wait_for (the verdict is located in wait_for)
# or is the `task-end` variant (a task cancels itself, then runs wait_for; the
# verdict is located at the end of the task). A task-end finding is checked
# after the clock stops: `asyncfuzz minimize` must give a scenario that still
# holds a wait_for, else it is some other defect and the run goes on (the
# time of a later banner is when the poll saw it, a little late).
#
# Empty corpus: no catalog seeds, no hint. libFuzzer starts from an empty
# folder; AFL++ needs one input: a single zero byte (the empty scenario);
# the builtin engine starts from nothing. Only the dictionary generated from
# the byte format (corpus/asyncio.dict: one entry per op kind with typical
# small fields, nothing from the catalog) is given to libFuzzer and AFL++.
#
# Time: from launching the engine (interpreter start-up included) to the
# banner appearing on its stderr (polled every 10 ms). One job per engine;
# findings that are not gh-86296 are filed and the campaign goes on
# (AF_KEEP_GOING=1 for libFuzzer / AFL++; builtin never stops on them).
set -uo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
B=${1:-build}
B=$(cd "$B" && pwd)
RUNS=${2:-5}
ENGINES=${3:-builtin libfuzzer afl}
LIMIT=${GH_LIMIT:-60}
BASE=${GH_DIR:-$([ -d /dev/shm ] && echo /dev/shm || echo /tmp)}
W=$(mktemp -d "$BASE/af-gh86296.XXXXXX")
trap 'rm -rf "$W"' EXIT
unset AF_TARGET AF_ORACLES AF_SKIP_COVERAGE_CHECK AF_QUIET AF_COVERAGE
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_QUIET=1 AFL_DEBUG_CHILD=1 # the target's stderr (the banners) reaches the log
DICT=$SRC/corpus/asyncio.dict
PAT='^asyncfuzz: FINDING cancellation\.(swallowed|count) [0-9a-f]+ ([^ ]*wait_for|[^ ]*\|\|task-end)'

# Engine flags (GH_LF_FLAGS, GH_AFL_FLAGS, GH_AFL_ENV override them)
LF_FLAGS="-dict=$DICT -len_control=0 -max_len=128"
AFL_FLAGS="-x $DICT"
AFL_ENV="AFL_FAST_CAL=1"
# the structure-aware custom mutator (harness/engines/afl_mutator.c), when built
[ -f "$B/asyncfuzz-afl-mutator.so" ] && AFL_ENV="$AFL_ENV AFL_CUSTOM_MUTATOR_LIBRARY=$B/asyncfuzz-afl-mutator.so"
# The command lines (also printed): the recommended ones of docs/engines.md.
cmd_for() { # engine seed -> command (in $W/run)
  case $1 in
  builtin)
    echo "$B/asyncfuzz fuzz --out $W/run/out --time $LIMIT --seed $2 --coverage ${GH_COVERAGE:-semantic}" ;;
  libfuzzer)
    echo "env AF_KEEP_GOING=1 AF_COVERAGE=${GH_COVERAGE:-semantic} AF_FINDINGS=$W/run/findings $B/asyncfuzz-libfuzzer -seed=$2 -max_total_time=$LIMIT ${GH_LF_FLAGS-$LF_FLAGS} -artifact_prefix=$W/run/ $W/run/corpus" ;;
  afl)
    echo "env AF_KEEP_GOING=1 AF_COVERAGE=${GH_COVERAGE:-semantic} AF_FINDINGS=$W/run/findings ${GH_AFL_ENV-$AFL_ENV} afl-fuzz -s $2 -i $W/run/in -o $W/run/afl -V $LIMIT ${GH_AFL_FLAGS-$AFL_FLAGS} -- $B/asyncfuzz-afl" ;;
  esac
}

# a task-end banner is gh-86296 when its minimised scenario holds a wait_for
task_end_is_wait_for() { # banner line -> status
  local hex dir
  hex=$(echo "$1" | awk '{print $4}')
  dir=$(ls -d "$W"/run/findings/"$hex" "$W"/run/out/findings/"$hex" 2> /dev/null | head -1)
  [ -n "$dir" ] && "$B/asyncfuzz" minimize "$dir" --out "$W/min-$hex" > /dev/null 2>&1 &&
    grep -q '"wait_for"' "$W/min-$hex/scenario.json" 2> /dev/null
}

one_run() { # engine seed -> "secs" | "none"
  local eng=$1 seed=$2 pid start now line t="" n=0 seen=0
  rm -rf "$W/run" "$W"/min-*; mkdir -p "$W/run/corpus" "$W/run/in"
  printf '\0' > "$W/run/in/zero"
  : > "$W/run/log"
  start=$(date +%s.%N)
  # shellcheck disable=SC2046
  $(cmd_for "$eng" "$seed") > /dev/null 2> "$W/run/log" &
  pid=$!
  while :; do
    alive=0; kill -0 "$pid" 2> /dev/null && alive=1
    n=$(grep -cE "$PAT" "$W/run/log")
    while [ "$seen" -lt "$n" ]; do
      seen=$((seen + 1))
      now=$(date +%s.%N)
      line=$(grep -E "$PAT" "$W/run/log" | sed -n "${seen}p")
      if [[ $line != *"||task-end"* ]] || task_end_is_wait_for "$line"; then
        t=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
        echo "$line" >> "$W/banners"
        break 2
      fi
      echo "$line (not gh-86296: minimised without wait_for)" >> "$W/banners"
    done
    [ "$alive" = 1 ] || break
    sleep 0.01
  done
  kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
  echo "${t:-none}"
}

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g |
  awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

echo "gh-86296 from an empty corpus: $RUNS runs per engine, limit ${LIMIT}s, scratch on $(df --output=fstype "$W" | tail -1)"
echo "machine: $(nproc) CPU(s), load at start $(cut -d' ' -f1-3 /proc/loadavg)"
for eng in $ENGINES; do
  case $eng in
  libfuzzer) [ -x "$B/asyncfuzz-libfuzzer" ] || { echo "$eng: not built"; continue; } ;;
  afl) { [ -x "$B/asyncfuzz-afl" ] && command -v afl-fuzz > /dev/null; } || { echo "$eng: not built"; continue; } ;;
  esac
  echo "$eng: $(cmd_for "$eng" N | sed "s|$W/run|RUN|g; s|$SRC/||g")"
  ts=""
  for i in $(seq 1 "$RUNS"); do ts="$ts $(one_run "$eng" "$i")"; done
  printf '  %-10s runs:%s   median: %s s   (load now %s)\n' "$eng" "$ts" "$(echo $ts | median)" \
    "$(cut -d' ' -f1 /proc/loadavg)"
done
[ -n "${GH_SHOW_BANNERS:-}" ] && sort "$W/banners" | uniq -c
exit 0
