"""python_baseline.py - the "Python way" baselines for tests/bench/engines.sh.

Drives the same scenarios the engines run, the way a fuzzer written in Python
does, with one of two drivers:

  asyncio-run   The way issue 4 defines it: asyncio.run() per input, on the
                stock event loop (the selector loop asyncio.run makes), given
                a virtual clock the way looptime does it: time() reads a
                counter, and a select() that would wait polls instead and
                moves the clock by its timeout. A deadlock (nothing ready, no
                timer) and more than MAX_ITERATIONS iterations end the input.
  reproducer    This project's own pure-Python driver: the reproducer's run()
                on its VirtualLoop, a loop written for speed (no selector,
                handles run inline, cleanup rounds of its own), a new loop per
                input. Much faster than what Python fuzzing usually does;
                kept as the stronger comparison.

Both run the scenario through the reproducer's own functions (start(),
op_scope, the task factory...), which record the same events; neither judges.
With "trace", a Python-level sys.settrace function records (previous line,
line) edges of asyncio's own files, as Python coverage tools do.

    python3.11 python_baseline.py SECONDS trace|notrace asyncio-run|reproducer REPRO.py...
        prints "execs_per_sec N edges M"
    python3.11 python_baseline.py --check REPRO.py...
        runs each scenario with both drivers and compares the operations they
        recorded (op_enter, op_exit, acquire per kind); prints one line per
        scenario that differs and a summary; exit 1 when any differs or does
        not start. Catalog scenarios agree; a fuzzed one may not, where
        asyncio.run's shutdown ends a deadlocked run differently

Each REPRO.py is `asyncfuzz repro SCENARIO.json` output.
"""
import asyncio
import collections
import os
import sys
import time
import warnings

ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
MAX_ITERATIONS = 100000


class BudgetExceeded(Exception):
    """The input deadlocked or ran past MAX_ITERATIONS (asyncio-run)."""


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """The stock selector loop on a virtual clock. _clock and _iteration
    are the attributes the reproducer's events read; block() is what its
    blocking-call operation calls."""

    def __init__(self):
        super().__init__()
        self._clock = 0
        self._iteration = 0
        self.halted = False
        poll = self._selector.select

        def select(timeout=None):
            ready = poll(0)
            if not ready:
                if timeout is None:
                    raise BudgetExceeded("deadlock")
                self._clock += timeout
            return ready

        self._selector.select = select

    def time(self):
        return self._clock

    def block(self, ticks, what=None):
        self._clock += ticks

    def _run_once(self):
        self._iteration += 1
        if self._iteration > MAX_ITERATIONS:
            raise BudgetExceeded("hang")
        super()._run_once()


class VirtualClockPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio.run() asks the policy for its loop."""

    def new_event_loop(self):
        return VirtualClockLoop()


def load(path):
    ns = {"__name__": "repro_%d" % abs(hash(path))}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)
    ns["_scenario"] = scenario_of(ns)
    return ns


def scenario_of(ns):
    """(root name, root coroutine function, primitives): what the
    reproducer's run_scenario() hands to its run()."""
    got = []
    real_run = ns["run"]
    ns["run"] = lambda *args, **kwargs: got.append(args)
    try:
        ns["run_scenario"](False)
    finally:
        ns["run"] = real_run
    return got[0]


def run_asyncio_run(ns):
    """One input: the probe's per-run state reset as its run() does, then
    asyncio.run() of a main() that installs the probe's hooks on the running
    loop and awaits the scenario's root task. Whatever the scenario raises
    ends the input. Returns the events."""
    root_name, make_root, prim_spec = ns["_scenario"][:3]
    ns.update(EVENTS=[], ALL=[], ROOT=None, _root_seen=False, _next_id=0, CUR_OP=-1,
              TARGET=asyncio)
    ns["_TaskCls"], ns["_TaskInit"], ns["_task_new"], _ = ns["_TASK_KINDS"][0]
    ns["_forget_names"]()
    ns["_CANCEL_MSG"].clear()

    async def main():
        loop = asyncio.get_running_loop()
        ns["LOOP"] = loop
        loop.set_task_factory(ns["_task_factory"])
        loop.set_exception_handler(ns["_exception_handler"])
        ns["make_prims"](prim_spec)
        ns["ROOT"] = ns["start"](-1, root_name, make_root(), 0)
        await ns["ROOT"]

    # The probe's hooks for warnings and unraisable exceptions, as its run()
    # installs them: they become events instead of text on stderr.
    saved = (warnings.showwarning, warnings.filters, sys.unraisablehook)
    warnings.showwarning = ns["_showwarning"]
    warnings.filters = [ns["_ALWAYS"]]
    warnings._filters_mutated()
    sys.unraisablehook = ns["_unraisablehook"]
    try:
        asyncio.run(main())
    except BaseException:  # the scenario's own outcome, or a budget
        pass
    finally:
        warnings.showwarning, warnings.filters, sys.unraisablehook = saved
        warnings._filters_mutated()
    return ns["EVENTS"]


def run_reproducer(ns):
    events = ns["run_scenario"](False)
    ns["close_loop"]()  # the next input makes a new loop
    return events


DRIVERS = {"asyncio-run": run_asyncio_run, "reproducer": run_reproducer}


def measure(seconds, use_trace, run_one, programs):
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
        for ns in programs:
            if use_trace:
                sys.settrace(tracer)
            try:
                run_one(ns)
            finally:
                if use_trace:
                    sys.settrace(None)
            n += 1
    elapsed = time.perf_counter() - start
    return n / elapsed, len(edges)


def operations(events):
    return collections.Counter(ev[0] for ev in events
                               if ev[0] in ("op_enter", "op_exit", "acquire"))


def check(paths):
    """Both drivers on each scenario: the operations they recorded."""
    differ = unstarted = 0
    for path in paths:
        reference = operations(run_reproducer(load(path)))
        ns = load(path)
        events = run_asyncio_run(ns)
        root_name = ns["_scenario"][0]
        if not any(ev[0] == "task_new" and ev[4] == root_name and ev[7] == 0 for ev in events):
            unstarted += 1
            print("%s: the root task never started under asyncio-run" % path)
        elif operations(events) != reference:
            differ += 1
            print("%s: reproducer %s, asyncio-run %s" % (path, dict(reference),
                                                         dict(operations(events))))
    print("%d scenarios: %d record other operations under asyncio-run "
          "(its shutdown cancels what is left), %d did not start"
          % (len(paths), differ, unstarted))
    return 1 if differ or unstarted else 0


def main(argv):
    asyncio.set_event_loop_policy(VirtualClockPolicy())
    if argv[:1] == ["--check"]:
        return check(argv[1:])
    if len(argv) < 4 or argv[1] not in ("trace", "notrace") or argv[2] not in DRIVERS:
        sys.stderr.write(__doc__)
        return 2
    programs = []
    for path in argv[3:]:
        try:
            programs.append(load(path))
        except Exception as e:  # reported, not measured
            sys.stderr.write("python_baseline.py: %s does not load: %r\n" % (path, e))
    if not programs:
        return 1
    rate, edges = measure(float(argv[0]), argv[1] == "trace", DRIVERS[argv[2]], programs)
    print("execs_per_sec %.0f edges %d" % (rate, edges))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
