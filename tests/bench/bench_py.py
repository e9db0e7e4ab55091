"""Python-side cost of one small scenario run (prints figures, asserts nothing).

    /usr/bin/python3.11 tests/bench/bench_py.py [SECONDS] [--only NAME]

Measures, in one process, µs per run of tests/bench/small.json (3 tasks, a
gather, a cancel) three ways:
  bare      the reused VirtualLoop (harness/py/vloop.py) running the same
            program written by hand, without probe or interpreter of
            scenarios: the floor;
  interp    interp.run(scenario tuple) on the reused loop, with the probe
            (what af_runner_run calls, without the C trace conversion and
            oracles), per target adapter;
Each in windows of 500 runs; the best window and the median are printed.
The full C path (tuples from C, interp.run, trace conversion, oracles) is
measured by tests/bench/run.sh (bench_runner.c).
"""
import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("AF_PYDIR") or os.path.join(HERE, "..", "..", "harness", "py"))

import interp  # noqa: E402
import probe  # noqa: E402
import vloop  # noqa: E402

# tests/bench/small.json as harness/run/scenario_py.c builds it.
SMALL = ((), ("main", (
    (3, 0, ("worker", ((0, 1, 10),), 1), True, None),
    (6, 2, (("a", ((0, 3, 1), (1, 4, 1)), 2), ("b", ((0, 5, 2), (1, 6, 2)), 3)), False),
    (5, 7, "worker", None, 1, False),
    (4, 8, "worker"),
), 0))


def bare_runner():
    loop = vloop.VirtualLoop()
    sleep = asyncio.sleep

    async def worker():
        await sleep(10)

    async def a():
        await sleep(1)
        return 1

    async def b():
        await sleep(2)
        return 2

    async def main():
        w = loop.create_task(worker())
        await asyncio.gather(loop.create_task(a()), loop.create_task(b()))
        w.cancel()
        await w

    def one():
        loop.reset([], None, None)
        loop.enter_running()
        try:
            root = loop.create_task(main())
            loop.run_until(root.done, 100000, 1000000, 10.0)
            if not root.cancelled():
                root.result()
        finally:
            loop.clear_queues()
            loop.leave_running()
    return one


def interp_runner(target=None):
    opts = probe.DEFAULT_OPTIONS[:5] + (target,) if target else None

    def one():
        interp.run(SMALL, opts)
    return one


def measure(fn, seconds, window=500):
    for _ in range(window * 2):
        fn()
    wins = []
    t_end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        for _ in range(window):
            fn()
        t1 = time.perf_counter()
        wins.append((t1 - t0) / window)
        if t1 > t_end:
            break
    wins.sort()
    return wins[0] * 1e6, wins[len(wins) // 2] * 1e6, len(wins) * window


def main(argv):
    seconds = float(argv[0]) if argv and not argv[0].startswith("-") else 2.0
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    cases = [("bare", bare_runner())]
    cases.append(("interp", interp_runner()))
    for t in ("asyncio_py",):
        try:
            fn = interp_runner(t)
            fn()
        except (ImportError, ValueError):
            continue
        cases.append(("interp[%s]" % t, fn))
    print("python %s, %.1f s per measure; small.json" % (sys.version.split()[0], seconds))
    print("  %-22s %9s %9s %9s" % ("", "us/run", "median", "runs"))
    for name, fn in cases:
        if only and name != only:
            continue
        best, med, n = measure(fn, seconds)
        print("  %-22s %9.1f %9.1f %9d" % (name, best, med, n), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
