#!/usr/bin/env python3
"""Writes the oracle self-test scenarios: tests/scenarios/oracles/*.json
(default budgets) and tests/scenarios/oracles-hang/*.json (replayed with
--max-vtime 1000). Each file's "expect" lists the verdicts the oracles
must give (docs/ORACLES.md's definitions); tests/e2e/oracles.sh replays both
folders through the real runner.

Names: <oracle>-fires-<what> must get that oracle's verdict (and maybe
others, listed too); <oracle>-quiet-<what> must not get it.

usage: make_oracle_scenarios.py OUT_DIR HANG_OUT_DIR   (then commit the files)
"""
import json, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def S(t): return {"op": "sleep", "ticks": t}
def R(v): return {"op": "return", "value": v}
def RAISE(kind="app", i=1): return {"op": "raise", "exc": {"kind": kind, "id": i}}
def T(name, *body): return {"name": name, "body": list(body)}
def SPAWN(task, keep=True, group=None):
    d = {"op": "spawn", "task": task}
    if not keep: d["keep"] = False
    if group: d["group"] = group
    return d
def AWAIT(n): return {"op": "await", "task": n}
def CANCEL(t, msg=None, count=None, uncancel=None):
    d = {"op": "cancel", "target": t}
    if msg is not None: d["msg"] = msg
    if count: d["count"] = count
    if uncancel: d["uncancel"] = True
    return d
def TRY(body, on_cancel=None, raise_=None, on_error=None, fin=None):
    d = {"op": "try", "body": body}
    if on_cancel: d["on_cancel"] = on_cancel
    if raise_: d["raise"] = raise_
    if on_error: d["on_error"] = on_error
    if fin is not None: d["finally"] = fin
    return d
def GATHER(children, rex=False):
    d = {"op": "gather", "children": children}
    if rex: d["return_exceptions"] = True
    return d
def TG(name, children=(), body=()): return {"op": "task_group", "name": name, "children": list(children), "body": list(body)}
def TIMEOUT(name, delay, body): return {"op": "timeout", "name": name, "delay": delay, "body": body}
def WAIT_FOR(timeout, body): return {"op": "wait_for", "timeout": timeout, "body": body}
def XSTAR(body, match, reaction, raise_=None):
    d = {"op": "except_star", "body": body, "match": match, "reaction": reaction}
    if raise_: d["raise"] = raise_
    return d
def HOLD(res, body, release_sleep=None):
    d = {"op": "hold", "resource": res, "body": body}
    if release_sleep is not None: d["release_sleep"] = release_sleep
    return d
def SHIELD(task): return {"op": "shield", "task": task}
def NESTED(kind): return {"op": "nested_run", "kind": kind}
def BLOCK(t): return {"op": "block", "ticks": t}
NEVER = {"op": "never_awaited"}
def EWAIT(p): return {"op": "event_wait", "primitive": p}
def ESET(p): return {"op": "event_set", "primitive": p}

def write(name, desc, expect, body, prims=()):
    # expect: oracle names, or (oracle, [python versions]) pairs
    d = {"asyncfuzz": 1, "description": desc,
         "expect": [{"oracle": o} if isinstance(o, str) else {"oracle": o[0], "python": o[1]} for o in expect]}
    if prims: d["primitives"] = list(prims)
    d["main"] = {"name": "main", "body": body}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(d, f, indent=2); f.write("\n")

W10 = lambda n="worker": T(n, S(10))
# ---- leaked-task
write("leaked-task-fires-dropped", "a dropped task is still sleeping when main returns", ["leaked-task"],
      [SPAWN(W10("orphan"), keep=False), S(1)])
write("leaked-task-fires-kept-not-awaited", "a kept task is never awaited and outlives main", ["leaked-task"],
      [SPAWN(W10()), S(1)])
write("leaked-task-fires-never-awaited", "a coroutine created and never awaited", ["leaked-task"],
      [NEVER, S(1)])
write("leaked-task-quiet-awaited", "a spawned task is awaited", [],
      [SPAWN(T("worker", S(2), R(1))), AWAIT("worker")])
write("leaked-task-quiet-cancelled", "a spawned task is cancelled and finishes before main", [],
      [SPAWN(W10()), S(1), CANCEL("worker"), S(1)])
write("leaked-task-quiet-task-group", "task group children are awaited by the group", [],
      [TG("tg", [T("a", S(1)), T("b", S(3))])])
# ---- cancellation.swallowed
write("swallowed-fires-try-swallow", "worker swallows its CancelledError and returns", ["cancellation.swallowed", "cancellation.count"],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="swallow"), R(1))), S(1), CANCEL("worker"), AWAIT("worker")])
write("swallowed-fires-except-star", "worker swallows CancelledError with except*", ["cancellation.swallowed", "cancellation.count"],
      [SPAWN(T("worker", XSTAR([S(10)], "cancelled", "swallow"), R(1))), S(1), CANCEL("worker"), AWAIT("worker")])
write("swallowed-fires-gather-child", "a gathered child swallows the cancel sent to it", ["cancellation.swallowed", "cancellation.count"],
      [GATHER([T("worker", TRY([S(10)], on_cancel="swallow"), R(1)), T("killer", S(1), CANCEL("worker"))], rex=True)])
write("swallowed-quiet-reraise", "worker re-raises its CancelledError", [],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="reraise"))), S(1), CANCEL("worker"), S(1)])
write("swallowed-quiet-uncancel", "worker withdraws the request with uncancel() and goes on", [],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="uncancel"), R(1))), S(1), CANCEL("worker"), AWAIT("worker")])
write("swallowed-quiet-delivered", "the cancel is delivered: the worker ends cancelled", [],
      [SPAWN(W10()), S(1), CANCEL("worker", msg="bye"), S(1)])
# ---- cancellation.count
write("count-fires-self-cancel-swallowed", "a task cancels itself, swallows it and returns", ["cancellation.count", "cancellation.swallowed"],
      [SPAWN(T("worker", CANCEL("self"), TRY([S(0)], on_cancel="swallow"), R(1))), AWAIT("worker")])
write("count-fires-twice-one-uncancel", "cancel() twice, one uncancel(): the task returns with cancelling()==1", ["cancellation.count"],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="uncancel"), R(1))), S(1), CANCEL("worker", count=2), AWAIT("worker")])
write("count-fires-swallow-then-sleep", "swallowed cancel, then more work: finishes with cancelling()==1", ["cancellation.count", "cancellation.swallowed"],
      [GATHER([T("worker", TRY([S(10)], on_cancel="swallow"), S(5), R(1)), T("killer", S(1), CANCEL("worker"))])])
write("count-quiet-timeout-expired", "an expired timeout is withdrawn by the timeout itself", [],
      [TRY([TIMEOUT("to", 2, [S(10)])], on_error="swallow"), S(1)])
write("count-quiet-cancel-uncancel", "cancel() then uncancel() in the same step", [],
      [SPAWN(T("worker", S(3), R(1))), S(1), CANCEL("worker", uncancel=True), AWAIT("worker")])
write("count-quiet-wait-for-expired", "wait_for expires: TimeoutError, inner cancelled", [],
      [TRY([WAIT_FOR(2, [S(10)])], on_error="swallow"), S(1)])
# ---- cancellation.message
write("message-quiet-direct", "cancel(msg) arrives with its message", [],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="reraise"))), S(1), CANCEL("worker", msg="stop"), S(1)])
write("message-quiet-no-msg", "cancel() without a message", [],
      [SPAWN(T("worker", TRY([S(10)], on_cancel="reraise"))), S(1), CANCEL("worker"), S(1)])
write("message-quiet-through-gather", "cancel(msg) of a task awaiting a gather", [],
      [SPAWN(T("worker", GATHER([T("a", S(10))]))), S(1), CANCEL("worker", msg="stop"), S(2)])
# ---- cancellation.converted
# 3.11.2 (gh-102780): timeout's __aexit__ tests uncancel() == 0, so a request
# left counted turns the expiry into CancelledError (converted); 3.12+ give
# TimeoutError and the request stays swallowed (swallowed, count).
CONVERTED = [("cancellation.converted", ["3.11"]), ("cancellation.swallowed", ["3.12", "3.13"]),
             ("cancellation.count", ["3.12", "3.13"])]
write("converted-quiet-timeout", "an expired timeout gives TimeoutError", [],
      [TRY([TIMEOUT("to", 2, [S(10)])], on_error="swallow")])
write("converted-quiet-external-cancel-in-timeout", "an external cancel inside a timeout that has not expired stays a CancelledError", [],
      [SPAWN(T("worker", TIMEOUT("to", 50, [S(10)]))), S(1), CANCEL("worker"), S(1)])
write("converted-fires-swallow-then-timeout", "a swallowed cancel leaves cancelling()==1, a later timeout expiry comes out as CancelledError (3.11)",
      CONVERTED,
      [GATHER([T("worker", TRY([S(10)], on_cancel="swallow"), TRY([TIMEOUT("t", 5, [S(10)])], on_error="swallow"), R(1)),
               T("killer", S(1), CANCEL("worker"))], rex=True)])
write("converted-fires-except-star-swallow-then-timeout", "except* swallows a cancel, a later timeout expiry comes out as CancelledError (3.11)",
      CONVERTED,
      [GATHER([T("worker", XSTAR([S(10)], "cancelled", "swallow"), TRY([TIMEOUT("t", 5, [S(10)])], on_error="swallow"), R(1)),
               T("killer", S(1), CANCEL("worker"))], rex=True)])
write("converted-fires-swallow-then-timeout-at", "a swallowed cancel, then timeout_at expiring: CancelledError instead of TimeoutError (3.11)",
      CONVERTED,
      [GATHER([T("worker", TRY([S(10)], on_cancel="swallow"), TRY([dict(TIMEOUT("t", 3, [S(10)]), at=True)], on_error="swallow"), R(1)),
               T("killer", S(1), CANCEL("worker"))], rex=True)])
write("converted-quiet-wait-for", "an expired wait_for gives TimeoutError", [],
      [TRY([WAIT_FOR(2, [S(10)])], on_error="swallow")])
# ---- nested-loop
write("nested-fires-asyncio-run", "asyncio.run inside the running loop", ["nested-loop"], [TRY([NESTED("asyncio_run")], on_error="swallow")])
write("nested-fires-run-until-complete", "run_until_complete inside the running loop", ["nested-loop"], [TRY([NESTED("run_until_complete")], on_error="swallow")])
write("nested-fires-in-child", "asyncio.run inside a child task", ["nested-loop"],
      [SPAWN(T("worker", TRY([NESTED("asyncio_run")], on_error="swallow"))), AWAIT("worker")])
write("nested-quiet-run-forever", "run_forever inside the running loop raises RuntimeError, no coroutine involved", [],
      [TRY([NESTED("run_forever")], on_error="swallow")])
write("nested-quiet-none", "no nested loop: a plain sleep", [], [S(1)])
write("nested-quiet-run-forever-child", "run_forever in a child task, caught", [],
      [SPAWN(T("worker", TRY([NESTED("run_forever")], on_error="swallow"))), AWAIT("worker")])
# ---- lost-exception
write("lost-fires-dropped-raises", "a dropped task raises: never retrieved", ["lost-exception"],
      [SPAWN(T("orphan", S(1), RAISE()), keep=False), S(3)])
write("lost-fires-kept-not-awaited-raises", "a kept task raises and nobody awaits it", ["lost-exception"],
      [SPAWN(T("worker", RAISE("value", 2))), S(2)])
write("lost-fires-shielded-inner-raises", "the task behind a cancelled shield fails later: nobody retrieves it", ["lost-exception"],
      [SPAWN(T("outer", SHIELD(T("inner", S(3), RAISE())))), S(1), CANCEL("outer"), S(5)])
write("lost-quiet-awaited", "the error is caught by the awaiter", [],
      [SPAWN(T("worker", RAISE())), TRY([AWAIT("worker")], on_error="swallow")])
write("lost-quiet-gather-rex", "gather(return_exceptions=True) observes the error", [],
      [GATHER([T("a", RAISE()), T("b", R(1))], rex=True)])
write("lost-quiet-task-group", "a task group child error reaches except* (the child fails while the body runs)", [],
      [XSTAR([TG("tg", [T("a", S(1), RAISE())], [S(5)])], "app", "swallow")])
# ---- cleanup
write("cleanup-quiet-hold-cancelled", "a holder is cancelled: its finally releases", [],
      [SPAWN(T("worker", HOLD("r", [S(10)], release_sleep=1))), S(1), CANCEL("worker"), S(5)])
write("cleanup-quiet-hold-raises", "a holder raises: released on the way out", [],
      [SPAWN(T("worker", HOLD("r", [S(1), RAISE()]))), TRY([AWAIT("worker")], on_error="swallow")])
write("cleanup-quiet-finally", "try/finally around a cancelled sleep: the finally runs", [],
      [SPAWN(T("worker", TRY([S(10)], fin=[S(1)]))), S(1), CANCEL("worker"), S(5)])
# ---- blocking
write("blocking-fires-main", "a blocking call of 200 ticks in main", ["blocking"], [BLOCK(200)])
write("blocking-fires-child", "a blocking call of 500 ticks in a child", ["blocking"], [SPAWN(T("worker", BLOCK(500))), AWAIT("worker")])
write("blocking-fires-two", "two blocking calls, 100 ticks each", ["blocking"], [BLOCK(100), S(1), BLOCK(100)])
write("blocking-quiet-sleep", "a long sleep does not block the loop", [], [S(500)])
write("blocking-quiet-short-block", "a blocking call shorter than the threshold", [], [BLOCK(5)])
write("blocking-quiet-many-sleeps", "many short sleeps", [], [S(50), S(50), S(50), S(50)])
# ---- deadlock
E = [{"name": "ev", "kind": "event"}]
write("deadlock-fires-event", "main waits on an event nobody sets", ["deadlock"], [EWAIT("ev")], E)
write("deadlock-fires-child-event", "main awaits a child that waits on an event nobody sets", ["deadlock"],
      [SPAWN(T("worker", EWAIT("ev"))), AWAIT("worker")], E)
write("deadlock-fires-cond", "a Condition waiter nobody notifies", ["deadlock"],
      [{"op": "cond_wait", "primitive": "c"}], [{"name": "c", "kind": "condition"}])
write("deadlock-quiet-event-set", "the event is set by a child", [],
      [SPAWN(T("setter", S(1), ESET("ev"))), EWAIT("ev"), AWAIT("setter")], E)
write("deadlock-quiet-event-set-first", "the event is set before the wait", [], [ESET("ev"), EWAIT("ev")], E)
write("deadlock-quiet-timeout-on-wait", "a wait on an unset event ends by timeout", [],
      [TRY([TIMEOUT("to", 5, [EWAIT("ev")])], on_error="swallow")], E)
# ---- cleanup (fires: a finally that awaits before releasing is interrupted)
write("cleanup-fires-timeout-during-release", "the timeout expires while the hold's finally sleeps before releasing", ["cleanup"],
      [TRY([TIMEOUT("to", 2, [HOLD("r", [S(1)], release_sleep=10)])], on_error="swallow")])
write("cleanup-fires-cancel-during-release", "a holder cancelled once, then again while its finally sleeps before releasing", ["cleanup"],
      [SPAWN(T("worker", HOLD("r", [S(10)], release_sleep=5))), S(1), CANCEL("worker"), S(1), CANCEL("worker"), S(10)])
write("cleanup-fires-wait-for-during-release", "wait_for expires while the hold's finally sleeps before releasing", ["cleanup"],
      [TRY([WAIT_FOR(3, [HOLD("r", [S(2)], release_sleep=10)])], on_error="swallow")])
# ---- cancellation.message (fires: shield drops the message of its inner task's cancellation, 3.11)
write("message-fires-shield-inner-cancelled", "a shielded task is cancelled with a message: the shield's awaiter gets CancelledError() without it",
      ["cancellation.message"],
      [SPAWN(T("killer", S(1), CANCEL("inner", msg="stop"))), SHIELD(T("inner", S(10))), AWAIT("killer")])
write("message-fires-shield-self-cancel", "a shielded task cancels itself with a message", ["cancellation.message"],
      [SHIELD(T("inner", CANCEL("self", msg="me"), S(1)))])
write("message-fires-shield-self-cancel-uncancel", "a shielded task cancels itself with a message then uncancel()s: 3.11 delivers anyway, the shield drops the message",
      ["cancellation.message"],
      [SHIELD(T("inner", CANCEL("self", msg="me", uncancel=True)))])
# ---- cancellation.spurious (quiet only: see tests/scenarios/oracles/README.md)
write("spurious-quiet-delivered", "one request, one CancelledError", [],
      [SPAWN(W10()), S(1), CANCEL("worker"), S(1)])
write("spurious-quiet-propagated-await", "a CancelledError that comes from an awaited task", [],
      [SPAWN(T("w", S(10))), SPAWN(T("waiter", TRY([AWAIT("w")], on_cancel="reraise"))), S(1), CANCEL("w"), S(2)])
write("spurious-quiet-twice", "two requests delivered by one CancelledError", [],
      [SPAWN(W10()), S(1), CANCEL("worker", count=2), S(1)])
# ---- hang (needs lowered budgets: see README; fires with --max-vtime 1000)
hang = sys.argv[2]
os.makedirs(hang, exist_ok=True)
out = hang
write("hang-fires-long-sleep", "main sleeps past the virtual-time budget", ["hang"], [S(5000)])
write("hang-fires-child-sleep", "main awaits a child that sleeps past the budget", ["hang"], [SPAWN(T("worker", S(3000))), AWAIT("worker")])
write("hang-fires-wait-for-none", "wait_for without a timeout around a sleep past the budget", ["hang"], [WAIT_FOR(None, [S(2000)])])
write("hang-quiet-short-sleep", "a sleep within the budget", [], [S(500)])
write("hang-quiet-timeout-cuts", "a timeout ends a long sleep within the budget", [], [TRY([TIMEOUT("to", 100, [S(5000)])], on_error="swallow")])
write("hang-quiet-cancelled-sleeper", "a long sleeper is cancelled early", [],
      [SPAWN(T("worker", S(5000))), S(1), CANCEL("worker"), S(1)])

# ---- the loop's own contracts (loop.order, loop.stop, loop.handle) and
# nested-loop's refusal and re-entrant rules. On stock asyncio they hold:
# the quiet scenarios are in oracles/ (default target); the firing ones need
# a loop that breaks them: oracles-loop/ is replayed with --target
# planted_loop (harness/targets/target_planted_loop.py), oracles-reentrant/
# with --target nest_asyncio (a re-entrant loop, in a process of its own).
def SOON(name, *body): return {"op": "call", "name": name, "via": "call_soon", "body": list(body)}
def LATER(name, delay, *body): return {"op": "call", "name": name, "via": "call_later", "delay": delay, "body": list(body)}
def AT(name, delay, *body, past=False):
    d = {"op": "call", "name": name, "via": "call_at", "delay": delay, "body": list(body)}
    if past: d["past"] = True
    return d
def CH(h): return {"op": "cancel_handle", "handle": h}
STOP = {"op": "stop"}
def RE(kind, *body): return {"op": "reenter", "kind": kind, "body": list(body)}
out = sys.argv[1]
write("loop.order-quiet-fifo", "five call_soon callbacks in order", [], [SOON("a"), SOON("b"), SOON("c"), SOON("d"), SOON("e"), S(1)])
write("loop.order-quiet-timers", "timers out of order, a past call_at, call_later(0) after a ready callback", [],
      [LATER("l3", 3), AT("a1", 1), AT("p", 2, past=True), SOON("s"), LATER("z", 0), S(4)])
write("loop.order-quiet-ties", "timers due at the same tick: their order is not judged", [], [LATER("x", 2), LATER("y", 2), LATER("w", 2), S(3)])
write("loop.stop-quiet-from-task", "stop() from the root, then a yield", [], [STOP, S(0), S(1)])
write("loop.stop-quiet-from-callback", "stop() from a callback between two call_soons", [], [SOON("cb", SOON("x"), STOP, SOON("y")), S(2)])
write("loop.stop-quiet-twice", "two stop()s in two iterations", [], [STOP, S(0), STOP, S(1)])
write("loop.handle-quiet-soon", "call_soon gives a Handle", [], [SOON("h"), S(1)])
write("loop.handle-quiet-later", "call_later(0) and call_later(3) give TimerHandles with their when()", [], [LATER("a", 0), LATER("b", 3), S(4)])
write("loop.handle-quiet-at", "call_at now, later and in the past give TimerHandles with their when()", [],
      [AT("n", 0), AT("l", 2), AT("p", 3, past=True), S(3)])
write("nested-quiet-reenter-refused", "run_until_complete(body) inside the running loop is refused before anything runs", [],
      [RE("run_until_complete", S(1)), S(1)])
write("nested-quiet-reenter-asyncio-run", "asyncio.run(body) inside the running loop is refused", [], [RE("asyncio_run", S(1)), S(1)])
write("nested-quiet-reenter-from-callback", "a callback's nested run is refused", [], [SOON("cb", RE("run_until_complete", S(1))), S(1)])

loops = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(os.path.abspath(out)), "oracles-loop")
os.makedirs(loops, exist_ok=True)
out = loops
# Replayed with --target planted_loop: each planted defect fires its rule;
# the quiet ones keep clear of the defects (at most three callbacks ready,
# timers on its 4-tick grid, no stop, no nested run) and must stay quiet.
write("loop.order-fires-soon-fifo", "five call_soons: the fifth jumps the queue", ["loop.order"],
      [SOON("a"), SOON("b"), SOON("c"), SOON("d"), SOON("e"), S(1)])
write("loop.order-fires-timer-early", "call_later(3) is rounded down to the grid and runs at once", ["loop.order", "loop.handle"],
      [LATER("l3", 3), S(4)])
write("loop.order-fires-timer-before-ready", "call_later(0) then call_soon in a callback: the timer runs first", ["loop.order", "loop.handle"],
      [SOON("cb", LATER("z", 0), SOON("s")), S(2)])
write("loop.order-quiet-grid", "timers on the 4-tick grid and three call_soons", [],
      [LATER("a", 8), LATER("b", 4), SOON("x"), SOON("y"), SOON("z"), S(9)])
write("loop.order-quiet-three-soons", "three ready callbacks keep their order", [], [SOON("a"), SOON("b"), SOON("c"), S(1)])
write("loop.order-quiet-callback-chain", "callbacks scheduling callbacks, one at a time", [],
      [SOON("a", SOON("b", SOON("c"))), S(4)])
write("loop.stop-fires-from-task", "stop() from the root takes effect an iteration late", ["loop.stop"], [STOP, S(0), S(1)])
write("loop.stop-fires-from-callback", "stop() from a callback takes effect an iteration late", ["loop.stop"], [SOON("cb", STOP), S(2)])
write("loop.stop-fires-from-timer", "stop() from a timer's callback takes effect an iteration late", ["loop.stop"], [LATER("t", 4, STOP), S(6)])
write("loop.stop-quiet-no-stop", "callbacks and timers without a stop()", [], [SOON("a"), LATER("b", 4), S(5)])
write("loop.stop-quiet-task-only", "tasks sleeping, no stop()", [], [SPAWN(T("w", S(4))), AWAIT("w")])
write("loop.stop-quiet-cancelled-stopper", "the callback that would stop is cancelled first", [], [LATER("t", 4, STOP), CH("t"), S(6)])
write("loop.handle-fires-later-zero", "call_later(0) gives a plain Handle", ["loop.handle"], [LATER("z", 0), S(1)])
write("loop.handle-fires-at-past", "call_at in the past gives a plain Handle", ["loop.handle"], [S(3), AT("p", 2, past=True), S(1)])
write("loop.handle-fires-when", "call_later(5) gives when() 4 (and runs at 4)", ["loop.handle", "loop.order"], [LATER("f", 5), S(6)])
write("loop.handle-quiet-soon", "call_soon gives a Handle", [], [SOON("h"), S(1)])
write("loop.handle-quiet-grid", "call_later(4) and call_at(8) give TimerHandles with their when()", [], [LATER("a", 4), AT("b", 8), S(9)])
write("loop.handle-quiet-cancelled", "a cancelled call_later(8) still has its when()", [], [LATER("a", 8), CH("a"), S(1)])
write("nested-fires-refused-late", "run_until_complete makes a task of the body before refusing", ["nested-loop", "leaked-task"],
      [RE("run_until_complete", S(1)), S(1)])

# Replayed with --target nest_asyncio: a re-entrant loop, whose nested runs
# must complete and lose nothing (nested-loop's reentrant-* rules).
out = sys.argv[4] if len(sys.argv) > 4 else os.path.join(os.path.dirname(loops), "oracles-reentrant")
os.makedirs(out, exist_ok=True)
write("nested-quiet-reentrant-run-until-complete", "a nested run_until_complete completes", [], [RE("run_until_complete", S(2)), S(1)])
write("nested-quiet-reentrant-asyncio-run", "a nested asyncio.run completes", [], [RE("asyncio_run", S(2)), S(1)])
write("nested-quiet-reentrant-outer-task", "an outer task keeps running through a nested run and is awaited after it", [],
      [SPAWN(T("ticker", S(1), S(1), S(1))), RE("run_until_complete", S(5)), AWAIT("ticker")])
write("nested-quiet-reentrant-two-levels", "a nested run inside a nested run", [],
      [RE("run_until_complete", RE("asyncio_run", S(1)), S(1)), S(1)])
write("nested-fires-reentrant-stop-scope", "stop() inside a nested run also stops the enclosing run (the body is left pending, as at top level)", ["nested-loop", "leaked-task"],
      [RE("run_until_complete", STOP, S(3)), S(1)])
write("nested-fires-reentrant-stop-scope-outer-task", "stop() inside a nested run, an outer task pending (left pending)", ["nested-loop", "leaked-task"],
      [SPAWN(T("w", S(2))), RE("run_until_complete", S(1), STOP, S(3)), AWAIT("w")])
write("nested-fires-reentrant-stop-scope-callback", "a callback inside a nested run stops it, and the enclosing one (the body is left pending)", ["nested-loop", "leaked-task"],
      [RE("run_until_complete", SOON("cb", STOP), S(3)), S(1)])
# Timeouts and cancellation inside a nested run behave as at top level: the
# deadline raises TimeoutError at its tick, a cancelled task ends cancelled,
# a handler that swallows keeps the body going; nothing fires.
write("nested-quiet-reentrant-timeout-and-cancel", "a timeout expiring and a cancel inside a nested run's body, as at top level", [],
      [RE("run_until_complete", SPAWN(T("w", S(10))), TRY([TIMEOUT("dl", 2, [S(5)])], on_error="swallow"),
          CANCEL("w"), TRY([AWAIT("w")], on_cancel="swallow"), S(1)), S(1)])
write("nested-quiet-reentrant-wait-for", "wait_for inside an asyncio.run nested in the running loop", [],
      [RE("asyncio_run", TRY([WAIT_FOR(1, [S(3)])], on_error="swallow"), WAIT_FOR(5, [S(1)])), S(1)])
