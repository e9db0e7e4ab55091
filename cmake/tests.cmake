# tests.cmake: every tests/unit/test_*.c is a cmocka test registered with
# ctest; every tests/fuzz/fuzz_*.c is a libFuzzer target (clang only) built
# with ASan+UBSan against its own instrumented copy of the scenario code.
if(CMOCKA_FOUND)
  file(GLOB AF_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
  foreach(src IN LISTS AF_UNIT_TESTS)
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE af_cli PkgConfig::CMOCKA)
    target_compile_definitions(${name} PRIVATE AF_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                               AF_BINARY_DIR="${CMAKE_BINARY_DIR}"
                               AF_PYTHON="${Python3_EXECUTABLE}")
    add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  endforeach()
  # The runner's tests again on the pure-Python hot path (no C accelerators):
  # determinism, equivalence with the reproducers, budgets, memory.
  add_test(NAME test_runner_no_accel COMMAND test_runner WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_runner_no_accel PROPERTIES
                       ENVIRONMENT "AF_NO_ACCEL=1;AF_TEST_GROWTH_RUNS=20000")
else()
  message(WARNING "cmocka not found: unit tests are not built")
endif()

# End-to-end tests: tests/e2e/*.sh, run with the built binary's path and
# the embedded interpreter's plain python (AF_PYTHON), which runs the
# reproducers and the scripts' helpers.
file(GLOB AF_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/*.sh)
foreach(script IN LISTS AF_E2E_TESTS)
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME e2e_${name} COMMAND bash ${script} $<TARGET_FILE:asyncfuzz>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(e2e_${name} PROPERTIES SKIP_RETURN_CODE 77
                       ENVIRONMENT "AF_BINARY_DIR=${CMAKE_BINARY_DIR};AF_PYTHON=${Python3_EXECUTABLE}")
endforeach()

if(AF_FUZZ_TARGETS AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
  set(AF_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g -O1)
  add_library(af_scenarios_fuzz STATIC ${AF_SRC_af_base} ${AF_SRC_af_scenarios})
  target_include_directories(af_scenarios_fuzz PUBLIC ${CMAKE_BINARY_DIR}/include/af_base
                             ${CMAKE_BINARY_DIR}/include/af_scenarios)
  target_compile_options(af_scenarios_fuzz PRIVATE ${AF_FUZZ_FLAGS})
  target_link_libraries(af_scenarios_fuzz PUBLIC PkgConfig::CJSON)
  file(GLOB AF_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  foreach(src IN LISTS AF_FUZZ_SRC)
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE ${AF_FUZZ_FLAGS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE af_scenarios_fuzz)
    # A bounded run with no finding is part of the test suite.
    add_test(NAME ${name}_bounded
             COMMAND ${name} -runs=200000 -max_len=512 -seed=1 -print_final_stats=1
                     ${CMAKE_BINARY_DIR}/fuzz_${name}_corpus
             WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz_${name}_corpus)
  endforeach()
endif()

# Self-tests of the Python code that runs inside the interpreter, with the
# interpreter that is embedded.
file(GLOB AF_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/py/test_*.py)
foreach(script IN LISTS AF_PY_TESTS)
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME py_${name} COMMAND ${Python3_EXECUTABLE} ${script}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()

# The in-process benchmark (tests/bench/run.sh builds it on demand; it
# prints figures and asserts nothing, so it is not part of `all` or ctest).
add_executable(bench_runner EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/tests/bench/bench_runner.c)
target_link_libraries(bench_runner PRIVATE af_cli)
target_compile_options(bench_runner PRIVATE -O2)
target_compile_definitions(bench_runner PRIVATE AF_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# Layering: for each stage, a one-line file including a header of the next
# stage in the data flow must fail to compile with that stage's include
# roots (af_stage in CMakeLists.txt). Each probe is a target outside `all`;
# its test builds it and passes when the build fails.
set(_af_layer_probes
    "af_base|scenarios/ir.h" "af_scenarios|harness/run/runner.h"
    "af_accel|harness/run/embed.h" "af_run|oracles/verdict.h" "af_oracles|reports/findings.h"
    "af_reports|harness/engines/engine.h" "af_options|harness/engines/engine.h"
    "af_engines|harness/cli/cli.h")
foreach(_probe IN LISTS _af_layer_probes)
  string(REPLACE "|" ";" _pair "${_probe}")
  list(GET _pair 0 _lib)
  list(GET _pair 1 _hdr)
  set(_file ${CMAKE_BINARY_DIR}/layering/${_lib}.c)
  file(WRITE ${_file} "#include \"${_hdr}\" /* must not be reachable from ${_lib} */\n")
  add_library(layering_${_lib} OBJECT EXCLUDE_FROM_ALL ${_file})
  target_link_libraries(layering_${_lib} PRIVATE ${_lib})
  add_test(NAME layering_${_lib}
           COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target layering_${_lib})
  set_tests_properties(layering_${_lib} PROPERTIES WILL_FAIL TRUE RESOURCE_LOCK af_build_tree)
endforeach()
