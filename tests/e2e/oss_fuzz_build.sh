#!/usr/bin/env bash
# oss_fuzz_build.sh - oss-fuzz/build.sh builds the fuzz targets the way
# OSS-Fuzz and ClusterFuzzLite run it: CC, CFLAGS (AddressSanitizer and
# -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE=-fsanitize=fuzzer, and
# SRC / WORK / OUT folders (WORK kept in the build tree, as ClusterFuzzLite
# keeps it between builds, so a rebuild is incremental). Then:
#   - $OUT holds each target with its .options, seed corpus zip and
#     dictionary, and the libraries and standard library it runs with;
#   - asyncfuzz_asyncio runs a few hundred inputs from its seed corpus with
#     the options OSS-Fuzz would give it (AF_KEEP_GOING: past findings);
#   - without it, a finding crashes in its family's function under ASan;
#   - the scenario reader and decoder targets run a few hundred inputs.
# Exit 77 when clang-14 or zip is missing.
# usage: oss_fuzz_build.sh BUILD/asyncfuzz   (cwd = the source tree)
set -uo pipefail
AF=${1:?usage: oss_fuzz_build.sh ASYNCFUZZ}
AF=$(cd "$(dirname "$AF")" && pwd)/$(basename "$AF")
BIN_DIR=$(cd "${AF_BINARY_DIR:-$(dirname "$AF")}" && pwd)
command -v clang-14 > /dev/null && command -v zip > /dev/null ||
  { echo "SKIP: clang-14 or zip not installed"; exit 77; }
T=$(mktemp -d /tmp/af-e2e-oss-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir -p "$T/src" "$T/out" "$T/run"
ln -s "$(pwd)" "$T/src/asyncfuzz"
export CC=clang-14 CXX=clang++-14 SANITIZER=address FUZZING_ENGINE=libfuzzer
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC=$T/src WORK=$BIN_DIR/oss-fuzz-work OUT=$T/out
start=$(date +%s)
bash "$SRC/asyncfuzz/oss-fuzz/build.sh" > "$T/build.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -20 "$T/build.log"; fail "build.sh: exit $rc"; exit 1; }
echo "build.sh: $(($(date +%s) - start)) s"
for f in asyncfuzz_asyncio asyncfuzz_json asyncfuzz_decode; do
  [ -x "$OUT/$f" ] || fail "no $OUT/$f"
  [ -f "$OUT/${f}_seed_corpus.zip" ] || fail "no seed corpus for $f"
done
for f in asyncfuzz_asyncio.options asyncfuzz_asyncio.dict lib/libpython3.11.so.1.0 lib/python3.11/os.py; do
  [ -e "$OUT/$f" ] || fail "no $OUT/$f"
done
[ "$(readelf -d "$OUT/asyncfuzz_asyncio" | grep -c 'RUNPATH.*\$ORIGIN/lib')" -eq 1 ] || fail "no RUNPATH \$ORIGIN/lib"
[ "$(nm "$OUT/asyncfuzz_asyncio" | grep -c __asan_init)" -gt 0 ] || fail "asyncfuzz_asyncio is not built with ASan"

# The .options as OSS-Fuzz's run_fuzzer turns them into flags and ASAN_OPTIONS.
flags() { sed -n '/^\[libfuzzer\]/,/^\[/{/=/s/^ *\([a-z_]*\) *= *\(.*\)$/-\1=\2/p}' "$OUT/$1.options"; }
export ASAN_OPTIONS=$(sed -n '/^\[asan\]/,/^\[/{/=/s/ //gp}' "$OUT/asyncfuzz_asyncio.options" | paste -sd:)
cd "$T/run"
mkdir seeds && (cd seeds && unzip -q "$OUT/asyncfuzz_asyncio_seed_corpus.zip")
AF_KEEP_GOING=1 "$OUT/asyncfuzz_asyncio" $(flags asyncfuzz_asyncio | sed "s|=asyncfuzz_asyncio.dict|=$OUT/asyncfuzz_asyncio.dict|") \
  -runs=400 -seed=1 seeds > asyncio.log 2>&1 || { tail -20 asyncio.log; fail "asyncfuzz_asyncio: exit $?"; }
grep -q "^Done 400 runs" asyncio.log || fail "asyncfuzz_asyncio did not run 400 inputs"
grep -q "INITED cov:" asyncio.log && grep -q "asyncfuzz: coverage semantic,python" asyncio.log ||
  fail "asyncfuzz_asyncio: no coverage check / INITED line"
"$AF" encode "$SRC/asyncfuzz/scenarios/catalog/defect-wait-for-cancel-race.json" -o defect.bin
AF_FINDINGS=$T/run/f2 "$OUT/asyncfuzz_asyncio" defect.bin > crash.log 2>&1 && fail "the defect did not crash"
grep -q "ERROR: libFuzzer: deadly signal" crash.log && grep -q " in asyncfuzz_finding_[A-Z_]* " crash.log ||
  fail "the finding did not abort in its family's function: $(grep -m3 ' in ' crash.log)"
for t in json decode; do
  mkdir "seeds-$t" && (cd "seeds-$t" && unzip -q "$OUT/asyncfuzz_${t}_seed_corpus.zip")
  "$OUT/asyncfuzz_$t" -runs=500 -seed=1 "seeds-$t" > "$t.log" 2>&1 || { tail -5 "$t.log"; fail "asyncfuzz_$t: exit $?"; }
done
echo "ran: asyncfuzz_asyncio 400 inputs, a finding crashed$(grep -o ' in asyncfuzz_finding_[A-Z_]*' crash.log | head -1); asyncfuzz_json and asyncfuzz_decode 500 each"
echo "oss_fuzz_build.sh: $fails failure(s)"
[ $fails -eq 0 ]
