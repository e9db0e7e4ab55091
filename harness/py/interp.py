# interp.py - runs a scenario given as tuples (part of asyncfuzz).
#
# The hot path: harness/run/scenario_py.c builds the scenario as nested tuples from
# the C IR (cheap: no source to compile), and run() walks them, running each
# operation with the real asyncio primitive. The probe (probe.py) records
# the events; reports/repro.c writes the same program as Python source
# (a reproducer), calling the same probe helpers at the same points, so both
# give the same event list.
#
# Entry point (called from C):
#     run(scenario, options) -> list of event tuples (harness/run/TRACE.md)
#     options: (max_iterations, max_vtime, watchdog_seconds, slow_ticks,
#               pure_python_tasks[, target]) or None for probe.DEFAULT_OPTIONS;
#               target: None (stock asyncio) or a target adapter's name:
#               the module target_<name> (harness/targets/target_*.py), or the
#               path of an adapter file (contract.py, docs/VENDORS.md)
# KIND_NAMES: the op kind names in af_op_kind order (scenarios/ops.def's rows;
# the runner checks them at start-up). A kind is run by a handler found by
# its name (_SYNC_BY_NAME, _ASYNC_BY_NAME), the commonest by run_body itself.
#
# Scenario tuple:
#     scenario = (prims, root_task[, cancellable])
#     cancellable = tuple of the names of the timeouts and task groups a
#                cancel_scope op names (made with cancellable=True)
#     prims    = tuple of (name, prim_kind, param)   prim_kind: af_prim_kind
#     task     = (name, body, ir_task_index)
#     body     = tuple of op
#     op       = (kind, op_index, fields...)         kind: af_op_kind
# Fields per kind, in the order of the kind's row of scenarios/ops.def
# (None stands for AF_NONE / absent; enums are their ints):
#     sleep          ticks
#     return         value
#     raise          exc_kind, exc_id
#     spawn          task, keep, group_name|None
#     await          task_name
#     cancel         target_name|None (None: the current task), msg|None,
#                    count, uncancel
#     gather         tasks, return_exceptions
#     task_group     name, tasks, body
#     wait_for       timeout|None, body
#     timeout        name, delay|None, at, body
#     reschedule     timeout_name, delay|None
#     shield         task
#     wait           tasks, return_when, timeout|None, cancel_pending
#     as_completed   tasks, timeout|None
#     try            body, on_cancel, exc_kind, exc_id, on_error,
#                    finally_body|None
#     except_star    body, match, reaction, exc_kind, exc_id
#     hold           resource, release_sleep|None, body
#     event_set, event_wait, cond_wait, queue_get     prim_name
#     lock, semaphore                                 prim_name, body
#     cond_notify    prim_name, n|None (None: notify_all)
#     queue_put      prim_name, value
#     nested_run     nested_kind
#     block          ticks
#     never_awaited  (nothing)
#     cancel_scope   scope_name
#     start          task, group_name|None
#     started        value
#     call           handle_name, via, delay, past, body (a callback's body:
#                    ops that never wait, run by run_callback)
#     cancel_handle  handle_name
#     stop           (nothing)
#     reenter        nested_kind (0 asyncio.run, 1 run_until_complete), body
# A name refers to a task created by the run; one not created (yet) when the
# op runs is a recorded no-op (see probe.await_task / cancel_task).
import asyncio

import contract
import loops
import probe
from probe import (EXC_TYPES, acquire, await_task, block, cancel_all, cancel_task,
                   caught, caught_group, entered_finally, groups, nested_run,
                   never_awaited_coro, op_scope, prims, release, repr_text, reschedule,
                   start, timeouts, uncancel_self, wait_for_scope)

KIND_NAMES = (
    "sleep", "return", "raise", "spawn", "await", "cancel", "gather", "task_group",
    "wait_for", "timeout", "reschedule", "shield", "wait", "as_completed", "try",
    "except_star", "hold", "event_set", "event_wait", "lock", "cond_wait",
    "cond_notify", "semaphore", "queue_put", "queue_get", "nested_run", "block",
    "never_awaited", "cancel_scope", "start", "started", "call", "cancel_handle", "stop",
    "reenter",
)

RETURN_WHEN = (asyncio.ALL_COMPLETED, asyncio.FIRST_COMPLETED, asyncio.FIRST_EXCEPTION)
MATCH = (probe.AppError, ValueError, Exception, asyncio.CancelledError)

NORET = object()  # a body that ran to its end without `return`

# The target of the current run: T, the namespace every primitive is taken
# from (the asyncio module itself for stock asyncio: its scenarios run
# exactly asyncio's objects); A, its adapter (contract.Target: for stock
# asyncio target_asyncio's), for what asyncio has no primitive for
# (cancellable timeouts and groups, start); CANCELLABLE, the names of the
# scopes a cancel_scope op of the scenario names.
T = asyncio
A = None
CANCELLABLE = ()


async def run_body(body, end=NORET):
    """Run a body's ops in order; a `return` op ends it with its value,
    which every enclosing block of the same task passes on (as Python's
    return statement does); `end` (NORET) when the body ran to its end (a
    task's coroutine passes None: one coroutine per task, not two)."""
    # The commonest ops are written out here (a call or a coroutine less
    # each); the others go through _SYNC / _ASYNC.
    for op in body:
        k = op[0]
        if k == 0:
            await T.sleep(op[2])
        elif k == 1:
            return op[2]
        elif k == 2:
            raise EXC_TYPES[op[2]](op[3])
        elif k == 3:  # spawn
            t = op[2]
            start(op[1], t[0], task_coro(t), t[2], op[3], op[4])
        elif k == 4:  # await
            await await_task(op[1], op[2])
        elif k == 5:  # cancel
            cancel_task(op[1], op[2], op[3], op[4], op[5])
        elif k == 6:  # gather
            i = op[1]
            with op_scope(i) as o:
                o.detail = repr_text(await T.gather(*[_start(i, t) for t in op[2]],
                                               return_exceptions=op[3]))
        elif k >= _NK or k < 0:
            _unknown(op)
        else:
            h = _SYNC[k]
            if h is not None:
                h(op)
            else:
                r = await _ASYNC[k](op)
                if r is not NORET:
                    return r
    return end


def run_callback(body):
    """A callback's body: ops that never wait, run in order; a `return` op
    ends it (its value goes nowhere)."""
    for op in body:
        if op[0] == 1:
            return
        _CALLBACK[op[0]](op)


def task_coro(task):
    c = run_body(task[1], None)
    c.__qualname__ = "task_" + task[0]  # as the reproducer names it
    return c


def _start(i, t):
    return start(i, t[0], task_coro(t), t[2])


# -- operations without a suspension point ---------------------------------------
# (run_body writes out raise, spawn and cancel; a callback's body calls these)

def _raise(op):
    raise EXC_TYPES[op[2]](op[3])


def _spawn(op):
    t = op[2]
    start(op[1], t[0], task_coro(t), t[2], op[3], op[4])


def _cancel(op):
    cancel_task(op[1], op[2], op[3], op[4], op[5])


def _reschedule(op):
    reschedule(op[1], op[2], op[3])


def _event_set(op):
    prims[op[2]].set()


def _nested_run(op):
    with op_scope(op[1]):
        nested_run(op[1], op[2])


def _block(op):
    block(op[2])


def _never_awaited(op):
    never_awaited_coro()


def _started(op):
    contract.op_started(op[1], op[2])


def _call(op):
    _, i, name, via, delay, past, body = op
    loops.schedule(i, name, via, delay, past, lambda: run_callback(body))


def _cancel_handle(op):
    loops.cancel_handle(op[1], op[2])


def _stop(op):
    loops.stop_loop(op[1])


def _reenter(op):
    _, i, kind, body = op
    with op_scope(i):
        c = run_body(body, None)
        c.__qualname__ = "reenter_%d" % i  # as the reproducer names it
        loops.reenter(i, kind, c)


# -- operations that may suspend or own a body --------------------------------------

async def _task_group(op):
    _, i, name, children, body = op
    with op_scope(i):
        if name in CANCELLABLE:
            g = contract.made_scope(name, A.TaskGroup(cancellable=True))
        else:
            g = T.TaskGroup()
        r = NORET  # a cancelled scope exits quietly, its body unfinished
        async with g as tg:
            groups[name] = tg
            for t in children:
                start(i, t[0], task_coro(t), t[2], True, name)
            r = await run_body(body)
    return r


async def _wait_for(op):
    _, i, timeout, body = op
    with wait_for_scope(i, timeout):
        c = run_body(body, None)
        c.__qualname__ = "body_%d" % i
        await T.wait_for(c, timeout)
    return NORET


async def _timeout(op):
    _, i, name, delay, at, body = op
    with op_scope(i) as o:
        if name in CANCELLABLE:
            if at:
                cm = A.timeout_at(None if delay is None else probe.LOOP._clock + delay,
                                  cancellable=True)
            else:
                cm = A.timeout(delay, cancellable=True)
            contract.made_scope(name, cm)
        elif at:
            cm = T.timeout_at(None if delay is None else probe.LOOP._clock + delay)
        else:
            cm = T.timeout(delay)
        r = NORET  # a cancelled scope exits quietly, its body unfinished
        async with cm:
            o.cm = timeouts[name] = cm
            r = await run_body(body)
    return r


async def _shield(op):
    with op_scope(op[1]):
        await T.shield(_start(op[1], op[2]))
    return NORET


async def _wait(op):
    _, i, children, rw, timeout, cancel_pending = op
    with op_scope(i) as o:
        done, pending = await T.wait([_start(i, t) for t in children],
                                           timeout=timeout, return_when=RETURN_WHEN[rw])
        o.detail = (len(done), len(pending))
        if cancel_pending:
            cancel_all(i, pending)
    return NORET


async def _as_completed(op):
    _, i, children, timeout = op
    with op_scope(i):
        for f in T.as_completed([_start(i, t) for t in children], timeout=timeout):
            await f
    return NORET


async def _try(op):
    _, i, body, on_cancel, exc_kind, exc_id, on_error, fin = op
    with op_scope(i):
        r = NORET
        try:
            r = await run_body(body)
        except asyncio.CancelledError as e:
            if on_cancel == 0:      # none: no such clause
                raise
            caught(i, e)
            if on_cancel == 1:      # reraise
                raise
            if on_cancel == 2:      # uncancel, go on after the try
                uncancel_self(i)
            elif on_cancel == 3:    # raise something else
                raise EXC_TYPES[exc_kind](exc_id)
            # 4: swallow
        except Exception:
            if on_error == 0:       # none: no such clause
                raise
            # 1: swallow
        finally:
            if fin is not None:
                entered_finally(i)
                r2 = await run_body(fin)
                if r2 is not NORET:
                    return r2       # return in finally wins, as in Python
    return r


async def _except_star(op):
    _, i, body, match, reaction, exc_kind, exc_id = op
    with op_scope(i):
        r = NORET
        try:
            r = await run_body(body)
        except* MATCH[match] as eg:
            if match == 3:
                caught_group(i, eg)
            if reaction == 1:
                raise
            if reaction == 2:
                raise EXC_TYPES[exc_kind](exc_id)
    return r


async def _hold(op):
    _, i, resource, release_sleep, body = op
    with op_scope(i):
        acquire(i, resource)
        try:
            r = await run_body(body)
        finally:
            if release_sleep is not None:
                await T.sleep(release_sleep)
            release(i, resource)
    return r


async def _event_wait(op):
    with op_scope(op[1]):
        await prims[op[2]].wait()
    return NORET


async def _locked(op):  # lock, semaphore
    with op_scope(op[1]):
        async with prims[op[2]]:
            r = await run_body(op[3])
    return r


async def _cond_wait(op):
    with op_scope(op[1]):
        c = prims[op[2]]
        async with c:
            await c.wait()
    return NORET


async def _cond_notify(op):
    with op_scope(op[1]):
        c = prims[op[2]]
        async with c:
            if op[3] is None:
                c.notify_all()
            else:
                c.notify(op[3])
    return NORET


async def _queue_put(op):
    with op_scope(op[1]):
        await prims[op[2]].put(op[3])
    return NORET


async def _queue_get(op):
    with op_scope(op[1]):
        await prims[op[2]].get()
    return NORET


async def _cancel_scope(op):
    with op_scope(op[1]) as o:
        o.detail = contract.op_cancel_scope(op[1], op[2])
    return NORET


async def _start_op(op):
    _, i, task, group = op
    with op_scope(i) as o:
        value = await contract.op_start(i, task[0], task[2], lambda: run_body(task[1], None),
                                        group)
        o.detail = repr(value)
    return NORET


def _unknown(op):
    raise ValueError("unknown op kind %r in op %r" % (op[0], op[1]))


# Every other kind, by name: a plain function (no suspension point) or a
# coroutine function returning NORET or the value of a `return` inside.
_SYNC_BY_NAME = {
    "reschedule": _reschedule, "event_set": _event_set, "nested_run": _nested_run,
    "block": _block, "never_awaited": _never_awaited, "started": _started, "call": _call,
    "cancel_handle": _cancel_handle, "stop": _stop, "reenter": _reenter,
}
_ASYNC_BY_NAME = {
    "task_group": _task_group, "wait_for": _wait_for, "timeout": _timeout,
    "shield": _shield, "wait": _wait, "as_completed": _as_completed, "try": _try,
    "except_star": _except_star, "hold": _hold, "event_wait": _event_wait,
    "lock": _locked, "cond_wait": _cond_wait, "cond_notify": _cond_notify,
    "semaphore": _locked, "queue_put": _queue_put, "queue_get": _queue_get,
    "cancel_scope": _cancel_scope, "start": _start_op,
}
# run_body writes out kinds 0..6 by number: they must stay first.
_WRITTEN_OUT = ("sleep", "return", "raise", "spawn", "await", "cancel", "gather")
_NK = len(KIND_NAMES)
_SYNC = [_SYNC_BY_NAME.get(name) for name in KIND_NAMES]
_ASYNC = [_ASYNC_BY_NAME.get(name) for name in KIND_NAMES]
# The ops a callback's body may hold (ops.def's AF_OPF_NOWAIT), by kind.
_CALLBACK = list(_SYNC)
for _name, _fn in (("raise", _raise), ("spawn", _spawn), ("cancel", _cancel)):
    _CALLBACK[KIND_NAMES.index(_name)] = _fn
_missing = [name for name in KIND_NAMES[len(_WRITTEN_OUT):]
            if name not in _SYNC_BY_NAME and name not in _ASYNC_BY_NAME]
if KIND_NAMES[:len(_WRITTEN_OUT)] != _WRITTEN_OUT or _missing:
    raise ImportError("interp.py: KIND_NAMES must start with %r; no handler for %r"
                      % (_WRITTEN_OUT, _missing))


_last_loop = [None, 0]  # the target and tick whose loop probe.LOOP is


def run(scenario, options=None):
    """Run one scenario tuple; returns the list of event tuples. options[5]
    (optional) names the target adapter: None for stock asyncio, else the
    module target_<name> (or an adapter file's path). An unknown name
    raises ImportError naming it; an adapter that does not match the
    contract, contract.AdapterError (also when the run met a mismatch).
    options[6] (optional, 0: the adapter's TICK_MS) is the tick of a
    real-time loop, in milliseconds. The run uses the target's loop
    (loops.py), else the harness's VirtualLoop."""
    global T, A, CANCELLABLE
    prim_spec, root = scenario[0], scenario[1]
    CANCELLABLE = scenario[2] if len(scenario) > 2 else ()
    n = 0 if options is None else len(options)
    name = options[5] if n > 5 else None
    if name == "asyncio":
        name = None
    A = contract.load_target("asyncio" if name is None else name)
    T = asyncio if name is None else A
    looped = probe.load_target(name)  # its loop fields (loops.py), cached
    tick = options[6] if n > 6 else 0
    if looped is not _last_loop[0] or tick != _last_loop[1] or probe.LOOP is None:
        loops.use_loop(looped, tick)
        _last_loop[0] = looped
        _last_loop[1] = tick
    return contract.run_on(A, name is None, root[0], lambda: task_coro(root), prim_spec, options)


def run_text(scenario, options=None):
    """run() in the trace's text form (JSON lines)."""
    return probe.trace_text(run(scenario, options))
