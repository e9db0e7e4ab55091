"""python_baseline.py - the "Python way" baseline for tests/bench/engines.sh.

Drives the same scenarios the engines run, the way a fuzzer written in
Python usually does: one new event loop per input (asyncio.run-style: the
reproducer's loop is closed after every run, so the next run creates a new
one) and, for coverage, a Python-level sys.settrace function recording
(previous line, line) edges of asyncio's own files.

    python3.11 python_baseline.py SECONDS trace|notrace REPRO.py...

Each REPRO.py is `asyncfuzz repro SCENARIO.json` output; its run_scenario()
and close_loop() are called directly. Prints "execs_per_sec N edges M".
"""
import asyncio
import os
import sys
import time

ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


def load(path):
    ns = {"__name__": "repro_%d" % abs(hash(path))}
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, ns)
    return ns["run_scenario"], ns["close_loop"]


def main():
    seconds = float(sys.argv[1])
    use_trace = sys.argv[2] == "trace"
    programs = [load(p) for p in sys.argv[3:]]
    edges = set()
    prev = [None]

    def local(frame, event, arg):
        if event == "line":
            loc = (frame.f_code, frame.f_lineno)
            edges.add((prev[0], loc))
            prev[0] = loc
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename.startswith(ASYNCIO_DIR):
            prev[0] = (frame.f_code, 0)
            return local
        return None

    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for run_scenario, close_loop in programs:
            if use_trace:
                sys.settrace(tracer)
            try:
                run_scenario(False)
            finally:
                if use_trace:
                    sys.settrace(None)
            close_loop()
            n += 1
    elapsed = time.perf_counter() - start
    print("execs_per_sec %.0f edges %d" % (n / elapsed, len(edges)))


if __name__ == "__main__":
    main()
