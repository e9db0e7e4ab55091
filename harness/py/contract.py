# contract.py - the target adapter contract, version 1 (part of asyncfuzz;
# written down in docs/VENDORS.md): loading an adapter, checking it, and the
# calls the harness makes on it. It judges nothing about the library.
#
# An adapter is a module (harness/targets/target_<name>.py, or a vendor's
# file) that declares what it is (DECLARATIONS below) and gives, for every
# op or primitive kind it PROVIDES, the names of VOCABULARY with asyncio's
# signatures; every other name is stock asyncio's (target_asyncio.py), so a
# timeout library runs with asyncio's tasks. Anything that does not match
# the contract - a missing name, a property where a method is called, a
# wrong return type, an exception in a hook - is an AdapterError (exit 2
# with its traceback), never a finding against the library: the surface is
# checked before it is called (callable(...)), once per type, and a short
# self_check (not run at load: a library's hang there would be no finding)
# calls every provided factory once, for tests and vendors.
#
# Used by interp.py (the in-process runs) and by the reproducers of runs on
# an adapter or with cancel_scope / start (reports/repro.c), which make it
# the module `contract` from its pasted text and hand it their own probe,
# pasted into the program (use_probe).
import asyncio
import sys
import traceback

try:
    import probe
except ImportError:  # a reproducer: use_probe() gives the program's own
    probe = None


class _Globals:
    """The probe of a reproducer: probe.py pasted into the program, whose
    names are that program's globals."""
    __slots__ = ("g",)

    def __init__(self, g):
        object.__setattr__(self, "g", g)

    def __getattr__(self, name):
        try:
            return self.g[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self.g[name] = value


def use_probe(program_globals):
    """For reproducers: the probe is the one pasted into the program."""
    global probe
    probe = _Globals(program_globals)

VERSIONS = (1,)

# What PROVIDES and UNSUPPORTED name: an op or primitive kind of the
# scenario language, and the adapter names that implement it. The order is
# harness/run/target.def's (the runner checks that they agree).
VOCABULARY = (
    ("sleep", ("sleep",)),
    ("gather", ("gather",)),
    ("wait_for", ("wait_for",)),
    ("timeout", ("timeout", "timeout_at")),
    ("reschedule", ()),          # a method of the timeout object
    ("cancel_scope", ("cancel_scope",)),
    ("shield", ("shield",)),
    ("wait", ("wait",)),
    ("as_completed", ("as_completed",)),
    ("task_group", ("TaskGroup",)),
    ("start", ("start",)),
    ("event", ("Event",)),
    ("lock", ("Lock",)),
    ("condition", ("Condition",)),
    ("semaphore", ("Semaphore",)),
    ("queue", ("Queue",)),
)
VOCABULARY_NAMES = tuple(v for v, _ in VOCABULARY)

# The documented differences a DIFFERENCES set may name (what each lets the
# differential oracle normalise: harness/run/target.def, docs/VENDORS.md).
DIFFERENCES = ("reschedule-error-message", "level-cancellation", "unstarted-children-run",
               "child-cancel-aborts-group", "scheduling")

# Built-in adapters (harness/targets/target_<name>.py).
BUILT_IN = ("asyncio", "asyncio_py", "async_timeout", "anyio", "asyncio_selector", "uvloop",
            "nest_asyncio", "vendor_loop", "planted_wait_for", "planted_loop")


class AdapterError(BaseException):
    """The adapter does not match the contract. A BaseException: a scenario's
    `except Exception` must not swallow it."""


def _words_set(known):
    def check(v):
        if not isinstance(v, (set, frozenset)):
            return "a set or frozenset"
        bad = sorted(str(x) for x in v if x not in known)
        return "only names of %s (not %s)" % (", ".join(known), ", ".join(bad)) if bad else None
    return check


def _is(kind, test):
    return lambda v: None if test(v) else kind


def _loop_modes():
    """loops.LOOP_MODES; in a reproducer, the pasted loops.py's (a program
    without it runs on the VirtualLoop only)."""
    try:
        import loops
        return loops.LOOP_MODES
    except ImportError:
        return getattr(probe, "LOOP_MODES", ("virtual",))


# The module attributes an adapter declares: (name, required, check, default).
# check(value) returns None when the value is right, else what it should be.
# The loop fields (LOOP, loop_factory, setup_loop, REENTRANT, PROCESS_WIDE,
# TICK_MS: docs/LOOPS.md) are read, and their loop built, by loops.py when
# the module loads; they are rows here too, so that a reproducer's adopt()
# checks them as well.
DECLARATIONS = (
    ("CONTRACT", True, _is("one of %r" % (VERSIONS,), lambda v: v in VERSIONS), None),
    ("NAME", True, _is("a name of 1..32 letters, digits, '_', '-', '.'",
                       lambda v: isinstance(v, str) and 0 < len(v) <= 32 and v.isascii() and
                       v.replace("_", "").replace("-", "").replace(".", "").isalnum()), None),
    ("version", True, _is("a function returning a str", callable), None),
    ("PROVIDES", True, _words_set(VOCABULARY_NAMES), None),
    ("UNSUPPORTED", False, _words_set(VOCABULARY_NAMES), frozenset()),
    ("DIFFERENCES", False, _words_set(DIFFERENCES), frozenset()),
    ("PURE_PYTHON_TASKS", False, _is("True or False", lambda v: isinstance(v, bool)), False),
    ("LOOP", False, _is("one of the loop modes (docs/LOOPS.md)", lambda v: v in _loop_modes()),
     "virtual"),
    ("loop_factory", False, _is("a function returning a new event loop", callable), None),
    ("setup_loop", False, _is("a function of the loop", callable), None),
    ("REENTRANT", False, _is("True or False", lambda v: isinstance(v, bool)), False),
    ("PROCESS_WIDE", False, _is("True or False", lambda v: isinstance(v, bool)), False),
    ("TICK_MS", False, _is("an int of 1..1000", lambda v: v is None or (
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000)), None),
    ("setup", False, _is("a function", callable), None),
    ("teardown", False, _is("a function", callable), None),
    ("enter_run", False, _is("a function", callable), None),
    ("exit_run", False, _is("a function", callable), None),
)

# What the harness calls on the objects each factory returns: the methods
# (docs/VENDORS.md's table). __aenter__/__aexit__: used with async with.
SURFACES = {
    "timeout": ("__aenter__", "__aexit__", "expired"),
    "timeout+reschedule": ("__aenter__", "__aexit__", "expired", "reschedule"),
    "task_group": ("__aenter__", "__aexit__", "create_task"),
    "event": ("set", "wait"),
    "lock": ("__aenter__", "__aexit__"),
    "condition": ("__aenter__", "__aexit__", "wait", "notify", "notify_all"),
    "semaphore": ("__aenter__", "__aexit__"),
    "queue": ("put", "get"),
}

_targets = {}   # name -> Target, loaded and checked
_stock = None   # the Target of target_asyncio (what is not provided comes from)
ERRORS = []     # adapter errors met during the current run (text with traceback)


def fail(message):
    """An adapter error during a run: recorded with the place it was met
    (interp.run raises it once the run is over), and raised here so that
    the task meeting it stops."""
    where = "".join(traceback.format_stack(limit=8)[:-1])
    ERRORS.append("%s\n(met at)\n%s" % (message, where))
    raise AdapterError(message)


def _check_surface(what, obj, methods, seen):
    """obj, made by the adapter's factory `what`, has every method the harness
    calls on it (checked once per type)."""
    t = type(obj)
    if t in seen:
        return obj
    for m in methods:
        f = getattr(obj, m, None)
        if f is None:
            fail("target adapter: %s() returned a %s without %s()" % (what, t.__qualname__, m))
        if not callable(f):
            fail("target adapter: %s() returned a %s whose %s is a %s, not a method (the "
                 "harness calls %s())" % (what, t.__qualname__, m, type(f).__name__, m))
    seen.add(t)
    return obj


def _checked_factory(what, fn, methods):
    """fn, whose objects are checked for `methods` (and cancel() when made
    with cancellable=True)."""
    seen, seen_cancellable = set(), set()
    with_cancel = methods + ("cancel",)

    def factory(*args, cancellable=False, **kw):
        if cancellable:
            return _check_surface(what, fn(*args, cancellable=True, **kw), with_cancel,
                                  seen_cancellable)
        return _check_surface(what, fn(*args, **kw), methods, seen)
    factory.__qualname__ = factory.__name__ = what
    return factory


class Group:
    """The harness's view of a task group an adapter made: create_task(coro,
    name=) returns the task (the one the probe's task factory created during
    the call when the library's returns None, as anyio's start_soon does)."""
    __slots__ = ("inner",)

    def __init__(self, inner):
        self.inner = inner

    async def __aenter__(self):
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, et, ev, tb):
        return await self.inner.__aexit__(et, ev, tb)

    def create_task(self, coro, *, name=None):
        n = len(probe.ALL)
        t = self.inner.create_task(coro, name=name)
        if t is None and len(probe.ALL) > n:
            return probe.ALL[n]
        if not asyncio.isfuture(t) or not hasattr(t, "get_coro"):
            fail("target adapter: TaskGroup().create_task() returned %r, not a task or None"
                 % (t,))
        return t

    def cancel(self):
        self.inner.cancel()


def _inner(obj):
    return obj.inner if type(obj) is Group else obj


class Target:
    """The namespace a run takes its primitives from: the adapter's names for
    what it PROVIDES, stock asyncio's (target_asyncio.py's Target: `stock`)
    for the rest, plus its declarations (NAME, PROVIDES, DIFFERENCES, ...),
    its version() (VERSION) and the module."""

    def __init__(self, mod, stock):
        self.module = mod
        for name, required, check, default in DECLARATIONS:
            if not hasattr(mod, name):
                if required:
                    raise AdapterError("target adapter %s: %s is missing (the contract, "
                                       "docs/VENDORS.md, requires it)" % (mod.__name__, name))
                value = default
            else:
                value = getattr(mod, name)
                why = check(value)
                if why is not None:
                    raise AdapterError("target adapter %s: %s = %r should be %s"
                                       % (mod.__name__, name, value, why))
            setattr(self, name, value)
        self._check_words()
        self.VERSION = self._version()
        provided = stock is None or (lambda word: word in self.PROVIDES)
        for word, names in VOCABULARY:
            mine = provided is True or provided(word)
            for n in names:
                if not mine:
                    setattr(self, n, getattr(stock, n))
                    continue
                value = getattr(mod, n, None)
                if not callable(value):
                    raise AdapterError("target adapter %s: PROVIDES %s but %s is %s, not a "
                                       "function or class" % (mod.__name__, word, n,
                                                              "missing" if value is None else
                                                              type(value).__name__))
                setattr(self, n, self._checked(word, n, value))
        mine = provided is True or provided("start")
        self.start = self._start if mine else stock.start
        mine = provided is True or provided("cancel_scope")
        self.cancel_scope = self._cancel_scope if mine else stock.cancel_scope

    def _check_words(self):
        """Coherent declarations: a word is provided or unsupported, not both;
        the methods a provided timeout or group must have are provided or
        unsupported too (stock asyncio cannot reschedule or cancel them)."""
        P, U, name = self.PROVIDES, self.UNSUPPORTED, self.module.__name__
        both = P & U
        if both:
            raise AdapterError("target adapter %s: %s both PROVIDES and UNSUPPORTED"
                               % (name, ", ".join(sorted(both))))
        needs = (("timeout", "reschedule"), ("timeout", "cancel_scope"),
                 ("task_group", "cancel_scope"))
        for have, need in needs:
            if have in P and need not in P | U:
                raise AdapterError("target adapter %s: PROVIDES %s, so %s must be in PROVIDES "
                                   "or UNSUPPORTED (stock asyncio cannot apply it to the "
                                   "library's objects)" % (name, have, need))

    def _version(self):
        try:
            v = self.module.version()
        except Exception as e:
            raise AdapterError("target adapter %s: version() raised %s: %s"
                               % (self.module.__name__, type(e).__name__, e)) from e
        if not isinstance(v, str):
            raise AdapterError("target adapter %s: version() returned %r, not a str"
                               % (self.module.__name__, v))
        return v

    def _checked(self, word, name, fn):
        """A provided factory whose objects are checked before use."""
        if word == "timeout":
            key = "timeout+reschedule" if "reschedule" in self.PROVIDES else "timeout"
            return _checked_factory(name, fn, SURFACES[key])
        if word == "task_group":
            return self._task_group(fn)
        if word in SURFACES:
            return _checked_factory(name, fn, SURFACES[word])
        return fn

    def _task_group(self, fn):
        factory = _checked_factory("TaskGroup", fn, SURFACES["task_group"])

        def TaskGroup(*, cancellable=False):
            return Group(factory(cancellable=cancellable))
        return TaskGroup

    def _start(self, group, coro_fn, *, name=None):
        r = self.module.start(_inner(group), coro_fn, name=name)
        if not hasattr(r, "__await__"):
            fail("target adapter: start() returned %r, not an awaitable" % (r,))
        return r

    def _cancel_scope(self, scope):
        self.module.cancel_scope(_inner(scope))


def load_target(name):
    """The checked Target for a name (target_<name>, built in or on
    sys.path) or an adapter file's path; loaded and set up once. Raises
    ImportError when there is no such adapter, AdapterError when it does not
    match the contract."""
    global _stock
    t = _targets.get(name)
    if t is not None:
        return t
    if _stock is None:
        _stock = Target(_import_module("asyncio"), None)
        _targets["asyncio"] = _stock
        t = _targets.get(name)
        if t is not None:
            return t
    t = Target(_import_module(name), _stock)
    if t.setup is not None:
        _hook(t, "setup")
    # No call into the library here: a library that hangs or crashes when
    # its objects are made or used does so in a scenario's run, where it is
    # a finding (a hang, a crash), not an adapter error. The surfaces are
    # checked at the call sites, before each first call (self_check, which
    # runs them all, is for tests and vendors: `contract.self_check(t)`).
    _targets[name] = t
    return t


def _import_module(name):
    """The adapter module for a target name or file (probe.load_target
    imports it; harness/run/embed.c has put a file's folder on sys.path)."""
    try:
        return probe.load_target(name).module
    except ImportError as e:
        if name.endswith(".py") or "/" in name or e.name != "target_" + name:
            raise
        raise ImportError("unknown target adapter %r: no module target_%s (built in: %s)"
                          % (name, name, ", ".join(BUILT_IN)), name=e.name) from None


def adopt(mod):
    """For reproducers: the checked Target of an adapter module made from its
    pasted text (target_asyncio first, as the stock names)."""
    global _stock
    if _stock is None:
        _stock = Target(sys.modules["target_asyncio"], None)
    if mod is _stock.module:
        return _stock
    t = Target(mod, _stock)
    if t.setup is not None:
        _hook(t, "setup")
    return t


def _hook(t, name, *args):
    try:
        getattr(t, name)(*args)
    except Exception as e:
        raise AdapterError("target adapter %s: %s() raised %s: %s"
                           % (t.NAME, name, type(e).__name__, e)) from e


def teardown(name):
    """The teardown hook of the adapter loaded for `name`, once."""
    t = _targets.get(name)
    if t is not None and t.teardown is not None:
        hook, t.teardown = t.teardown, None
        try:
            hook()
        except Exception as e:
            raise AdapterError("target adapter %s: teardown() raised %s: %s"
                               % (t.NAME, type(e).__name__, e)) from e


# -- one run ----------------------------------------------------------------

# What a run registers for the ops asyncio has no primitive for lives in
# probe.prims, under keys no scenario name can be: ("scope", name) the
# cancellable timeouts and task groups a cancel_scope names, as they are
# made; ("cancel", name) a cancel_scope that came before its scope existed;
# ("status", task) the task status of each task a start op runs. The probe
# forgets prims with the run's names before its final collection, so that
# nothing of a run (its tasks, their frames) outlives it.


def reset_run():
    ERRORS.clear()


def check_run():
    """After a run: raise the first adapter error it met."""
    if ERRORS:
        text = ERRORS[0]
        ERRORS.clear()
        raise AdapterError(text)


def run_on(t, stock, root_name, body, prim_spec, options):
    """One run of the scenario whose root task runs body() on adapter t
    (stock: stock asyncio, whose scenarios take their primitives from the
    asyncio module itself); returns the event list. An adapter error met
    during the run is raised once it is over."""
    use(t)
    reset_run()
    make_root = root(t, prim_spec, body, "task_" + root_name)
    events = probe.run(root_name, make_root, (), options, None if stock else t)
    exit_run(t)
    check_run()
    return events


def root(t, prim_spec, body, qualname):
    """The root task's coroutine function on adapter t: the adapter's
    enter_run hook and the primitives first (inside the running loop: anyio
    needs a current task to build them), then body(); body itself when
    there is neither. Its coroutine is named qualname, as body's (a task's
    repr shows it)."""
    if not prim_spec and t.enter_run is None:
        return body

    async def run_root():
        if t.enter_run is not None:
            _run_hook(t, "enter_run")
        if prim_spec:
            probe.make_prims(prim_spec)
        return await body()

    def make():
        c = run_root()
        c.__qualname__ = qualname
        return c
    return make


def _run_hook(t, name):
    try:
        getattr(t, name)()
    except Exception as e:
        fail("target adapter %s: %s() raised %s: %s" % (t.NAME, name, type(e).__name__, e))


def exit_run(t):
    if t.exit_run is not None:
        try:
            t.exit_run()
        except Exception as e:
            raise AdapterError("target adapter %s: exit_run() raised %s: %s"
                               % (t.NAME, type(e).__name__, e)) from e


def made_scope(name, obj):
    """Register the cancellable scope `name` as made; a cancel that came
    before it is applied now, before it is entered."""
    probe.prims[("scope", name)] = obj
    if probe.prims.pop(("cancel", name), None):
        _TARGET.cancel_scope(obj)
    return obj


_TARGET = None  # the Target of the current run (interp.run, a reproducer's run)


def op_cancel_scope(op, name):
    """The op cancel_scope: cancel the scope named; before it exists, when
    it is made. Returns the detail of its op_exit."""
    obj = probe.prims.get(("scope", name))
    if obj is None:
        probe.prims[("cancel", name)] = True
        return "before"
    probe.CUR_OP = op
    try:
        _TARGET.cancel_scope(obj)
    finally:
        probe.CUR_OP = -1
    return "cancelled"


class _first_step:
    """await _first_step(aw, begin, done): await aw, calling begin() just
    before its first step and done() as soon as that step is over (it has
    created its tasks by then)."""
    __slots__ = ("aw", "begin", "done")

    def __init__(self, aw, begin, done):
        self.aw, self.begin, self.done = aw, begin, done

    def __await__(self):
        it = self.aw.__await__()
        try:
            self.begin()
            try:
                y = it.send(None)
            finally:
                self.done()
        except StopIteration as e:
            return e.value
        while True:
            try:
                v = yield y
            except GeneratorExit:
                it.close()
                raise
            except BaseException as e:
                try:
                    y = it.throw(e)
                except StopIteration as s:
                    return s.value
            else:
                try:
                    y = it.send(v)
                except StopIteration as s:
                    return s.value


async def _started_task(name, make_coro, status):
    """The coroutine of a task a start op runs: known by name from its first
    step on, with its task status for the started ops of its code."""
    t = probe._current_tasks.get(probe.LOOP)
    probe.tasks[name] = t
    probe.prims[("status", t)] = status
    return await make_coro()


def op_start(op, name, ir, make_coro, group):
    """The op start: `await start(...)` runs make_coro() as the task `name`
    (IR task ir) in the group named (None: a task of its own) and returns
    what its started() gave; a group that does not exist: nothing happens
    (None)."""
    g = None
    if group is not None:
        g = probe.groups.get(group)
        if g is None:
            return _nothing()

    def begin():  # the tasks the start makes are the op's (task_new's op)
        probe.CUR_OP = op

    def coro_fn(task_status):  # the task comes next: it is `name`
        probe._pending_name = name
        probe._pending_ir = ir
        c = _started_task(name, make_coro, task_status)
        c.__qualname__ = "task_" + name
        return c

    def done():
        probe.CUR_OP = -1
        probe._pending_name = None
    return _first_step(_TARGET.start(g, coro_fn, name=name), begin, done)


async def _nothing():
    return None


def op_started(op, value):
    """The op started: task_status.started(value) of the current task."""
    status = probe.prims.get(("status", probe._current_tasks.get(probe.LOOP)))
    if status is None:  # not a task a start op runs (validation rules it out)
        return
    started_fn = getattr(status, "started", None)
    if not callable(started_fn):
        fail("target adapter: the task status given to start()'s function has no started()")
    started_fn(value)


def use(t):
    """Make t the Target of the runs that follow."""
    global _TARGET
    _TARGET = t


# -- the check at load ---------------------------------------------------------

def self_check(t):
    """Call every factory t provides once, inside a run on the virtual loop,
    and what the harness calls on what they return: a mismatch is an
    AdapterError (with the traceback of the step) at load, before the first
    scenario. What the library does (a TimeoutError, a cancellation) is not
    judged here; only a missing or wrong surface (AdapterError,
    AttributeError, TypeError) fails the check."""
    problems = []

    async def check():
        for step in _STEPS:
            if step.__name__[1:] not in t.PROVIDES:
                continue
            try:
                await step(t)
            except (AdapterError, AttributeError, TypeError) as e:
                problems.append("%s: %s" % (step.__name__[1:],
                                            "".join(traceback.format_exception(e))))
            except BaseException:
                pass
            if problems:
                return

    saved = _TARGET
    use(t)
    try:
        probe.run("asyncfuzz.self_check", check, (), None, t)
    finally:
        use(saved)
        reset_run()
    if problems:
        raise AdapterError("target adapter %s failed the contract check at load "
                           "(docs/VENDORS.md), in %s" % (t.NAME, problems[0]))


async def _sleep(t):
    await t.sleep(0)


async def _timeout(t):
    cm = t.timeout(5)
    async with cm:
        cm.expired()
    async with t.timeout_at(probe.LOOP.time() + 5):
        pass


async def _reschedule(t):
    cm = t.timeout(5)
    async with cm:
        cm.reschedule(probe.LOOP.time() + 10)
        cm.reschedule(None)


async def _cancel_scope(t):
    for cm in (t.timeout(None, cancellable=True), t.TaskGroup(cancellable=True)):
        t.cancel_scope(cm)
        async with cm:
            pass


async def _task_group(t):
    async with t.TaskGroup() as tg:
        tg.create_task(asyncio.sleep(0), name="asyncfuzz.check")


async def _start(t):
    async def child(task_status):
        task_status.started(1)
    async with t.TaskGroup() as tg:
        await t.start(tg, child, name="asyncfuzz.check")


async def _event(t):
    e = t.Event()
    e.set()
    await e.wait()


async def _lock(t):
    async with t.Lock():
        pass


async def _semaphore(t):
    async with t.Semaphore(1):
        pass


async def _condition(t):
    c = t.Condition()
    async with c:
        c.notify(1)
        c.notify_all()


async def _queue(t):
    q = t.Queue(0)
    await q.put(1)
    await q.get()


# gather, wait_for, shield, wait, as_completed: functions, checked at load.
_STEPS = (_sleep, _timeout, _reschedule, _cancel_scope, _task_group, _start, _event, _lock,
          _semaphore, _condition, _queue)
