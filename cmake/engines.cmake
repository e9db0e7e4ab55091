# engines.cmake: the fuzz engine targets, their tests and the benchmark.
#
#   asyncfuzz-libfuzzer  harness/engines/fuzz_libfuzzer.c, clang -fsanitize=fuzzer
#                        (no sanitizer by default, for speed;
#                        -DAF_FUZZ_ASAN=ON adds ASan+UBSan to the target, and
#                        -DAF_SANITIZE=ON sanitizes the whole build)
#   asyncfuzz-afl        harness/engines/fuzz_afl.c compiled and linked by
#                        afl-clang-fast (through cmake/afl-cc.sh as the
#                        compiler/linker launcher), when afl-clang-fast is
#                        installed
#   asyncfuzz-afl-mutator.so  harness/engines/afl_mutator.c, an AFL++ custom mutator
#                        (AFL_CUSTOM_MUTATOR_LIBRARY) over scenarios/mutate.h,
#                        linking af_scenarios (built position-independent)
#
# Both link af_engines (uninstrumented: the coverage that matters comes from
# harness/engines/coverage.c and harness/engines/pycov.c, not from compiler edges).
option(AF_FUZZ_ASAN "Build asyncfuzz-libfuzzer with ASan+UBSan" OFF)
# OSS-Fuzz / ClusterFuzzLite (oss-fuzz/build.sh): the engine to link, their
# $LIB_FUZZING_ENGINE; the sanitizers and -fsanitize=fuzzer-no-link come in
# their $CFLAGS (CMAKE_C_FLAGS), which compile and link everything.
set(AF_LIB_FUZZING_ENGINE "" CACHE STRING "link the fuzz targets with this engine (OSS-Fuzz)")
find_program(AF_AFL_CLANG_FAST NAMES afl-clang-fast)
find_program(AF_AFL_FUZZ NAMES afl-fuzz)

set(AF_ENGINE_TARGETS "")
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  add_executable(asyncfuzz-libfuzzer ${CMAKE_SOURCE_DIR}/harness/engines/fuzz_libfuzzer.c)
  if(AF_LIB_FUZZING_ENGINE)
    separate_arguments(_af_engine UNIX_COMMAND "${AF_LIB_FUZZING_ENGINE}")
    target_link_options(asyncfuzz-libfuzzer PRIVATE ${_af_engine})
  else()
    if(AF_FUZZ_ASAN)
      set(_af_lf -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    else()
      set(_af_lf -fsanitize=fuzzer)
    endif()
    target_compile_options(asyncfuzz-libfuzzer PRIVATE ${_af_lf})
    target_link_options(asyncfuzz-libfuzzer PRIVATE ${_af_lf})
  endif()
  target_link_libraries(asyncfuzz-libfuzzer PRIVATE af_engines)
  list(APPEND AF_ENGINE_TARGETS asyncfuzz-libfuzzer)
else()
  message(STATUS "asyncfuzz-libfuzzer needs clang: not built")
endif()

if(AF_AFL_CLANG_FAST)
  add_executable(asyncfuzz-afl ${CMAKE_SOURCE_DIR}/harness/engines/fuzz_afl.c)
  set(_af_launch /bin/sh ${CMAKE_SOURCE_DIR}/cmake/afl-cc.sh ${AF_AFL_CLANG_FAST})
  set_target_properties(asyncfuzz-afl PROPERTIES C_COMPILER_LAUNCHER "${_af_launch}"
                                                 C_LINKER_LAUNCHER "${_af_launch}")
  target_link_libraries(asyncfuzz-afl PRIVATE af_engines)
  list(APPEND AF_ENGINE_TARGETS asyncfuzz-afl)
  # The custom mutator afl-fuzz loads (plain compiler, no instrumentation).
  set_property(TARGET af_scenarios af_base PROPERTY POSITION_INDEPENDENT_CODE ON)
  add_library(asyncfuzz-afl-mutator SHARED ${CMAKE_SOURCE_DIR}/harness/engines/afl_mutator.c)
  set_target_properties(asyncfuzz-afl-mutator PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
  target_link_libraries(asyncfuzz-afl-mutator PRIVATE af_scenarios)
  target_link_options(asyncfuzz-afl-mutator PRIVATE -Wl,--exclude-libs,ALL)
  list(APPEND AF_ENGINE_TARGETS asyncfuzz-afl-mutator)
else()
  message(STATUS "afl-clang-fast not found: asyncfuzz-afl not built")
endif()

if(AF_ENGINE_TARGETS)
  add_custom_target(engines DEPENDS ${AF_ENGINE_TARGETS})
endif()

# The e2e scripts of the engines (tests/e2e/engine_*.sh, the campaign's
# engines, the crash sites, the OSS-Fuzz build) are registered by
# tests.cmake; they exit 77 when what they need is not built or installed
# (skipped, not failed).
foreach(_t engine_libfuzzer engine_libfuzzer_planted engine_afl engine_afl_planted isolation
        repro_fidelity campaign_engines crash_sites oss_fuzz_build)
  if(TEST e2e_${_t})
    set_tests_properties(e2e_${_t} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600
                         ENVIRONMENT
                         "AF_BINARY_DIR=${CMAKE_BINARY_DIR};AF_SOURCE_DIR=${CMAKE_SOURCE_DIR};AF_PYTHON=${Python3_EXECUTABLE}")
  endif()
endforeach()

# The benchmark: prints figures, asserts nothing; not part of ctest.
#   cmake --build build --target bench-engines
add_custom_target(bench-engines
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/bench/engines.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} USES_TERMINAL)
