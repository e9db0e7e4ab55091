# tests.cmake: every tests/unit/test_*.c is a cmocka test registered with
# ctest; every tests/fuzz/fuzz_*.c is a libFuzzer target (clang only) built
# with ASan+UBSan against its own instrumented copy of the scenario code.
if(CMOCKA_FOUND)
  file(GLOB AF_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
  foreach(src IN LISTS AF_UNIT_TESTS)
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE af_core PkgConfig::CMOCKA)
    target_compile_definitions(${name} PRIVATE AF_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                               AF_BINARY_DIR="${CMAKE_BINARY_DIR}")
    add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  endforeach()
else()
  message(WARNING "cmocka not found: unit tests are not built")
endif()

# End-to-end tests: tests/e2e/*.sh, run with the built binary's path.
file(GLOB AF_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/e2e/*.sh)
foreach(script IN LISTS AF_E2E_TESTS)
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME e2e_${name} COMMAND bash ${script} $<TARGET_FILE:asyncfuzz>
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(e2e_${name} PROPERTIES ENVIRONMENT "AF_BINARY_DIR=${CMAKE_BINARY_DIR}")
endforeach()

if(AF_FUZZ_TARGETS AND CMAKE_C_COMPILER_ID STREQUAL "Clang")
  set(AF_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g -O1)
  add_library(af_scenarios_fuzz STATIC ${AF_SCENARIO_PURE_SRC})
  target_include_directories(af_scenarios_fuzz PUBLIC ${CMAKE_SOURCE_DIR})
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
# interpreter that is embedded (Debian's python3.11).
file(GLOB AF_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/py/test_*.py)
foreach(script IN LISTS AF_PY_TESTS)
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME py_${name} COMMAND ${Python3_EXECUTABLE} ${script}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endforeach()
