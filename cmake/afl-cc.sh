#!/bin/sh
# afl-cc.sh: compiler / linker launcher for the AFL++ target (engines.cmake).
# CMake runs "<launcher> <clang> <args...>"; this drops the compiler CMake
# chose and runs afl-clang-fast (path in $1 after the compiler is dropped)
# with the same arguments, so the AFL++ target can live in the main build.
# usage: afl-cc.sh AFL_CLANG_FAST CMAKE_COMPILER ARGS...
afl="$1"
shift 2
AFL_QUIET=1
export AFL_QUIET
exec "$afl" "$@"
