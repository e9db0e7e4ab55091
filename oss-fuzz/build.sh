#!/bin/bash -eu
# oss-fuzz/build.sh - builds asyncfuzz's fuzz targets the way OSS-Fuzz and
# ClusterFuzzLite run a project's build script (oss-fuzz/README.md):
#   $CC, $CFLAGS   the compiler and its flags: the sanitizer and
#                  -fsanitize=fuzzer-no-link; they compile and link everything
#   $LIB_FUZZING_ENGINE  the engine the targets link (-fsanitize=fuzzer)
#   $SRC           where the source is checked out ($SRC/asyncfuzz; else the
#                  folder above this script)
#   $WORK          intermediate files (the CMake build; kept between builds)
#   $OUT           the fuzz targets, each with its .options, seed corpus zip
#                  and dictionary, and what they need at run time (lib/:
#                  libpython3.11, libcjson, the Python standard library)
# Targets:
#   asyncfuzz_asyncio  stock asyncio through the embedded interpreter
#                      (harness/engines/fuzz_libfuzzer.c): a finding aborts
#                      in a function of its signature family
#                      (harness/engines/crash_site.h), so ClusterFuzz groups
#                      crashes as asyncfuzz's signatures do
#   asyncfuzz_json, asyncfuzz_decode  the scenario reader and the bytes
#                      decoder (tests/fuzz/), no interpreter
set -euo pipefail
mkdir -p "$WORK" "$OUT"
SOURCE=${SRC:-}/asyncfuzz
[ -f "$SOURCE/CMakeLists.txt" ] || SOURCE=$(dirname "$0")/..
SOURCE=$(cd "$SOURCE" && pwd -P) # one path per checkout: $WORK's build is reused
BUILD=$WORK/asyncfuzz-build
# a build of another checkout in $WORK: started afresh
if [ -f "$BUILD/CMakeCache.txt" ] &&
  ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$SOURCE" "$BUILD/CMakeCache.txt"; then
  rm -rf "$BUILD"
fi
cmake -S "$SOURCE" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS='-Wl,-rpath,$ORIGIN/lib' \
  -DAF_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" > "$WORK/cmake.log"
cmake --build "$BUILD" -j"$(nproc)" --target asyncfuzz-libfuzzer fuzz_json fuzz_decode

install_target() { # built-name OUT-name
  cp "$BUILD/$1" "$OUT/$2"
}
install_target asyncfuzz-libfuzzer asyncfuzz_asyncio
install_target fuzz_json asyncfuzz_json
install_target fuzz_decode asyncfuzz_decode

# The options of each target (OSS-Fuzz reads TARGET.options: [libfuzzer]
# flags, [asan] ASAN_OPTIONS). No leak detection: the embedded interpreter
# is never finalised, by design, and keeps what it allocated.
cat > "$OUT/asyncfuzz_asyncio.options" <<OPTIONS
[libfuzzer]
max_len = 128
len_control = 0
dict = asyncfuzz_asyncio.dict
detect_leaks = 0
timeout = 31
[asan]
detect_leaks = 0
OPTIONS
cp "$SOURCE/corpus/asyncio.dict" "$OUT/asyncfuzz_asyncio.dict"
cp "$SOURCE/corpus/asyncio.dict" "$OUT/asyncfuzz_decode.dict"
printf '[libfuzzer]\nmax_len = 512\ndict = asyncfuzz_decode.dict\n' > "$OUT/asyncfuzz_decode.options"

# Seed corpora: the corpus of byte strings, the scenario catalog.
rm -f "$OUT"/*_seed_corpus.zip
(cd "$SOURCE/corpus/asyncio" && zip -q -j "$OUT/asyncfuzz_asyncio_seed_corpus.zip" ./*.bin)
cp "$OUT/asyncfuzz_asyncio_seed_corpus.zip" "$OUT/asyncfuzz_decode_seed_corpus.zip"
(cd "$SOURCE/scenarios/catalog" && zip -q -j "$OUT/asyncfuzz_json_seed_corpus.zip" ./*.json)

# What the targets need where the runner has no Python 3.11: the shared
# libraries they link (found next to them through RUNPATH $ORIGIN/lib) and
# the standard library (harness/run/embed.c runs from $OUT/lib/python3.11
# when it is there).
mkdir -p "$OUT/lib"
ldd "$OUT/asyncfuzz_asyncio" | awk '/libpython3|libcjson/ {print $3}' | while read -r lib; do
  cp -L "$lib" "$OUT/lib/"
done
PYTHON=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$BUILD/CMakeCache.txt")
PYLIB=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
if [ ! -f "$OUT/lib/python3.11/os.py" ]; then
  mkdir -p "$OUT/lib/python3.11"
  (cd "$PYLIB" && tar -cf - --exclude=test --exclude=__pycache__ --exclude=site-packages \
    --exclude=dist-packages --exclude=idlelib --exclude=tkinter --exclude=turtledemo .) |
    (cd "$OUT/lib/python3.11" && tar -xf -)
fi
