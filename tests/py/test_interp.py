"""Self-test of harness/py (vloop, probe, interp) with plain python3.11.

    /usr/bin/python3.11 tests/py/test_interp.py

Checks the virtual clock, the budgets, slow callbacks, the interpreter's
determinism within one process and across fresh processes with different
hash seeds, and that an unknown op kind names itself.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness", "py"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "harness", "targets"))

import interp  # noqa: E402
import probe  # noqa: E402

A = ("a", ((0, 1, 5),), 1)
B = ("b", ((0, 4, 1),), 2)
C = ("c", ((1, 5, 2),), 3)
SMALL = ((), ("main", ((3, 0, A, True, None), (6, 2, (B, C), False),
                       (5, 6, "a", "stop", 1, False), (0, 7, 1)), 0))


def kinds(events):
    return [ev[0] for ev in events]


def test_clock_jumps():
    ev = interp.run(((), ("main", ((0, 0, 10000), (0, 1, 10000)), 0)))
    assert ev[-1][:4] == ("end", 20000, 6, "result"), ev


def test_slow():
    ev = interp.run(((), ("main", ((26, 0, 150), (26, 1, 5)), 0)))
    slow = [e for e in ev if e[0] == "slow"]
    assert slow == [("slow", 155, 1, 155, "main")], slow


def test_budgets():
    ev = interp.run(((("e", 0, 0),), ("main", ((18, 0, "e"),), 0)))
    assert ("budget", 0, 1, "deadlock") in ev, ev
    assert "end" not in kinds(ev)
    ev = interp.run(((), ("main", ((0, 0, 50),), 0)), (100, 10, 5.0, 100, False))
    assert ("budget", 0, 1, "hang") in ev, ev
    ev = interp.run(((), ("main", tuple((0, i, 0) for i in range(30)), 0)),
                    (10, 1000, 5.0, 100, False))
    assert ("budget", 0, 10, "hang") in ev, ev


def test_deterministic_in_process():
    first = probe.trace_text(interp.run(SMALL))
    for _ in range(50):
        assert probe.trace_text(interp.run(SMALL)) == first
    pure = probe.trace_text(interp.run(SMALL, probe.DEFAULT_OPTIONS[:4] + (True,)))
    assert pure == first, (pure, first)


def test_deterministic_across_processes():
    code = ("import sys; sys.path[:0] = %r; import interp, probe; "
            "sys.stdout.write(interp.run_text(%r))" % (sys.path[:2], SMALL))
    outs = set()
    for seed in ("0", "1", "4242"):
        for flags in ([], ["-X", "dev"]):
            env = dict(os.environ, PYTHONHASHSEED=seed)
            outs.add(subprocess.run([sys.executable] + flags + ["-c", code], env=env,
                                    capture_output=True, text=True, check=True).stdout)
    assert outs == {probe.trace_text(interp.run(SMALL))}, outs


def test_unknown_kind():
    ev = interp.run(((), ("main", ((99, 0),), 0)))
    assert ev[1][4:7] == ("exception", "builtins.ValueError",
                          "('unknown op kind 99 in op 0',)"), ev


if __name__ == "__main__":
    for name, fn in sorted(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
