# loops.py - the loop under test when it is not the harness's VirtualLoop
# (part of asyncfuzz).
#
# A target adapter may bring its own event loop (harness/targets/
# target_asyncio.py lists the fields): LOOP = "selector" for a loop written
# in Python on asyncio's BaseEventLoop (a vendor's subclass, nest_asyncio's
# patched loop), LOOP = "realtime" for a loop whose scheduling is in C
# (uvloop). This file turns such a loop into one the probe can drive the way
# it drives VirtualLoop (reset, enter_running, run_until, clear_queues,
# leave_running, block, and the attributes _clock, _iteration, halted,
# events, _ready, _scheduled):
#
#   selector  virtual time. The loop's selector is a VirtualSelector whose
#             select() reports no I/O and *is* the clock: when the loop asks
#             to wait, the clock jumps to the earliest timer, as VirtualLoop
#             does. Every _run_once (stock asyncio's, nest_asyncio's, a
#             vendor's) calls select() once per iteration, so it also counts
#             iterations and enforces the budgets inside nested runs the
#             harness does not drive. VirtualBase is mixed in *below* the
#             class under test, so the vendor's overrides (and nest_asyncio's
#             class patch) win. Deterministic: the same traces as VirtualLoop
#             for the same asyncio code.
#   realtime  real time, scaled: a tick is TICK_MS real milliseconds.
#             RealtimeBase is mixed in *above* the class under test: time()
#             counts whole ticks of the loop's own clock since the run began,
#             and call_later/call_at take ticks, so asyncio's primitives run
#             unchanged on tick durations. Every callback goes through a
#             wrapper that keeps what the probe needs (pending callbacks,
#             slow callbacks, an estimate of the iteration). Not
#             deterministic: conform measures how often a result reproduces.
#
# It also holds the probe helpers of the loop-level operations (schedule for
# call, cancel_handle, stop_loop, reenter): interp.py runs them,
# and a reproducer pastes this file after probe.py's when its scenario uses
# them or its target brings a loop. Like vloop.py and probe.py it imports
# nothing of asyncfuzz: pasted, it shares the reproducer's namespace.
import asyncio
import asyncio.base_events
import asyncio.events
import asyncio.selector_events
import contextvars
import gc
import selectors
import sys
import time as _time

if "EVENTS" in globals():  # pasted after vloop.py and probe.py in a reproducer
    _probe = _vloop = sys.modules[__name__]
else:
    import probe as _probe
    import vloop as _vloop

LOOP_MODES = ("virtual", "selector", "realtime")
DEFAULT_TICK_MS = 5
_WATCHDOG_MASK = 255  # the real-time watchdog is read every 256 iterations
_FOREVER = 1 << 62

_Handle = asyncio.events.Handle
_TimerHandle = asyncio.events.TimerHandle


# -- the adapter's loop fields ---------------------------------------------------

def read_loop_fields(a, mod):
    """The loop fields of adapter module mod, checked, onto the adapter
    namespace a (probe.adapter): LOOP, REENTRANT, PROCESS_WIDE, TICK_MS,
    loop_factory, setup_loop; and a.loop, the loop every run of the target
    uses (None: the harness's VirtualLoop). Raises ImportError naming the
    field that is wrong."""
    name = mod.__name__
    if a.LOOP not in LOOP_MODES:
        raise ImportError("target adapter %s: LOOP = %r: expected one of %s"
                          % (name, a.LOOP, ", ".join(LOOP_MODES)), name=name)
    a.REENTRANT = bool(getattr(mod, "REENTRANT", False))
    a.PROCESS_WIDE = bool(getattr(mod, "PROCESS_WIDE", False))
    tick = getattr(mod, "TICK_MS", DEFAULT_TICK_MS)
    if isinstance(tick, bool) or not isinstance(tick, int) or not 1 <= tick <= 1000:
        raise ImportError("target adapter %s: TICK_MS = %r: an int of 1..1000 expected"
                          % (name, tick), name=name)
    a.TICK_MS = tick
    a.loop = None
    factory = getattr(mod, "loop_factory", None)
    setup = getattr(mod, "setup_loop", None)
    if a.LOOP == "virtual":
        if factory is not None or setup is not None:
            raise ImportError("target adapter %s: loop_factory and setup_loop need LOOP = "
                              "\"selector\" or \"realtime\"" % name, name=name)
        return a
    if not callable(factory):
        raise ImportError("target adapter %s: LOOP = %r needs loop_factory(), a function "
                          "returning a new event loop" % (name, a.LOOP), name=name)
    if setup is not None and not callable(setup):
        raise ImportError("target adapter %s: setup_loop must be a function of the loop"
                          % name, name=name)
    claim_process(a)
    loop = factory()
    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise ImportError("target adapter %s: loop_factory() returned %r, not an event loop"
                          % (name, loop), name=name)
    made = qualname(type(loop))
    loop = virtualize(loop) if a.LOOP == "selector" else realtime(loop, a.TICK_MS)
    loop.mode_event = ("loop", 0, 0, a.LOOP, made, a.REENTRANT,
                       a.TICK_MS if a.LOOP == "realtime" else 0)
    if setup is not None:
        setup(loop)  # after virtualize(): a class patch lands on the harness's subclass
    a.loop = loop
    gc.collect()
    gc.freeze()  # as probe.get_loop(): the loop and what setup made are permanent
    return a


def qualname(cls):
    return cls.__module__ + "." + cls.__qualname__


# An adapter that patches asyncio for the whole process (PROCESS_WIDE, as
# nest_asyncio.apply() does) owns the process: no other target may run in it
# afterwards, stock asyncio included (its runs would run patched code).
OWNER = None
_used = set()
_virtual_loop = [None]


def claim_process(a):
    global OWNER
    if a.PROCESS_WIDE:
        others = _used - {a.module.__name__}
        if others or OWNER is not None:
            raise ImportError("target adapter %s patches asyncio for the whole process "
                              "(PROCESS_WIDE) and %s already ran in it: run it in a process "
                              "of its own" % (a.module.__name__,
                                              ", ".join(sorted(others)) or OWNER.module.__name__),
                              name=a.module.__name__)
        OWNER = a


def use_loop(target, tick_ms=0):
    """Make target's loop the probe's LOOP for the next run (stock asyncio
    and virtual-loop adapters: the shared VirtualLoop); tick_ms > 0
    overrides a real-time loop's TICK_MS. Refuses any target but the owner
    of a process an adapter patched."""
    if OWNER is not None and target is not OWNER:
        raise RuntimeError("this process belongs to the target adapter %s (PROCESS_WIDE): "
                           "another target cannot run in it" % OWNER.module.__name__)
    loop = getattr(target, "loop", None) if target is not asyncio else None
    _used.add(getattr(target, "module", asyncio).__name__)
    if loop is None:  # the harness's VirtualLoop, made once (probe.get_loop)
        if _virtual_loop[0] is None:
            _probe.LOOP = None
            _virtual_loop[0] = _probe.get_loop()
        _probe.LOOP = _virtual_loop[0]
        return _probe.LOOP
    if loop.mode_event[3] == "realtime":  # the run's tick, and the `loop` event saying it
        tick = tick_ms or target.TICK_MS
        loop.set_tick(tick)
        loop.mode_event = loop.mode_event[:6] + (tick,)
    _probe.LOOP = loop
    return loop


# -- virtual time for loops written in Python --------------------------------------

class VirtualBudget(BaseException):
    """Raised by VirtualSelector.select() when a run must end: "deadlock"
    (the loop would block forever: nothing ready, no timer), "hang"
    (iterations or virtual time over budget). A BaseException, so that
    scenario code catching Exception does not swallow it; the loop also
    remembers it (budget_hit), because a task step that receives it stores
    it as the task's exception instead of propagating it."""


class VirtualSelector(selectors.BaseSelector):
    """A selector that reports no I/O and advances its loop's clock."""

    def __init__(self, loop):
        self._map = {}
        self.loop = loop

    def register(self, fileobj, events, data=None):
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = selectors.SelectorKey(fileobj, fd, events, data)
        self._map[fileobj] = key
        return key

    def unregister(self, fileobj):
        return self._map.pop(fileobj)

    def get_map(self):
        return self._map

    def close(self):
        self._map.clear()

    def select(self, timeout=None):
        """Called once per iteration, before it runs anything: the budgets
        are checked here (the iteration is counted only once it runs), so
        they hold in nested runs the harness does not drive, and the clock
        jumps to the earliest timer when the loop would wait."""
        loop = self.loop
        if loop.budget_hit is not None:  # unwind the nested runs too
            raise VirtualBudget(loop.budget_hit)
        it = loop._iteration
        if it >= loop.max_iteration or loop._clock > loop.max_vtime:
            loop.budget_hit = "hang"
            raise VirtualBudget("hang")
        if timeout is None:  # nothing ready, no timer: a real loop blocks forever
            loop.budget_hit = "deadlock"
            raise VirtualBudget("deadlock")
        if it & _WATCHDOG_MASK == _WATCHDOG_MASK and _time.monotonic() > loop.deadline:
            loop.budget_hit = "watchdog"
            raise VirtualBudget("watchdog")
        if timeout > 0:
            # The loop waits for its earliest timer: jump there (not by
            # `timeout`, which asyncio caps at a day and whose float
            # arithmetic can round past the deadline), to a whole tick.
            when = loop._scheduled[0]._when
            iw = int(when)
            now = iw if iw == when else iw + 1
            if now > loop.max_vtime:
                loop.budget_hit = "hang"
                raise VirtualBudget("hang")
            loop._clock = now
        loop._iteration = it + 1
        return []

def _run_timed(h):
    """Handle._run, plus VirtualLoop's slow-callback event: a callback that
    advanced the clock (block) by slow_ticks or more, without the loop
    running iterations meanwhile (a nested run of a re-entrant loop does:
    its callbacks are judged, not the one that waits for it)."""
    loop = h._loop
    t0 = loop._clock
    it0 = loop._iteration
    try:
        h._context.run(h._callback, *h._args)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        _vloop._callback_failed(h, exc)
    if loop._clock != t0:
        dt = loop._clock - t0
        if dt >= loop.slow_ticks and loop._iteration == it0:
            loop.events.append(("slow", loop._clock, loop._iteration, dt,
                                loop._slow_what or "callback"))
        loop._slow_what = None


class VHandle(_Handle):
    """An asyncio Handle (isinstance holds) that reports slow callbacks."""
    __slots__ = ()
    _run = _run_timed


class VTimerHandle(_TimerHandle):
    __slots__ = ()
    _run = _run_timed


class VTimerHandleOwnCancel(VTimerHandle):
    """For a loop class with its own _timer_handle_cancelled: the stock
    cancel(), which calls it (VTimerHandle's may skip it, embedded)."""
    __slots__ = ()
    cancel = _TimerHandle.cancel


# Embedded, select() and the handles' _run are C (harness/accel/selector_c.c:
# the same reads, writes and events, without a Python frame per iteration
# and per callback); a reproducer, and --no-accel, run the Python above.
_af_selector = None
if __name__ == "loops":
    try:
        import _af_selector
    except ImportError:
        _af_selector = None
if _af_selector is not None:
    _af_selector.bind(VirtualBudget, _vloop._callback_failed, _WATCHDOG_MASK)
    VirtualSelector.select = _af_selector.method(VirtualSelector, "select")
    VHandle._run = _af_selector.method(VHandle, "_run")
    VTimerHandle._run = _af_selector.method(VTimerHandle, "_run")


class VirtualBase(_vloop.VirtualTime, asyncio.base_events.BaseEventLoop):
    """Mixed in below the loop class under test: virtual time (time(),
    block(), call_soon / call_at / call_later, the interface the probe
    drives: vloop.VirtualTime's, as VirtualLoop's) and a run driven by the
    class's own _run_once. Handles are VHandle / VTimerHandle; VirtualTime's
    call_soon / call_later are left out where the class under test defines
    _call_soon / call_at itself (virtual_class)."""

    watchdog_at = None  # where the watchdog stopped a callback (vloop.py)

    def _virtual_init(self):
        self._clock = 0
        self._iteration = 0
        # BaseEventLoop runs timers with `when < time() + resolution`: with
        # integer ticks, 0.5 makes that `when <= time()`, exactly, for any
        # clock below 2**52.
        self._clock_resolution = 0.5
        self.slow_ticks = 100
        self.events = []
        self._slow_what = None
        self.halted = False
        self.budget_hit = None
        self._future_cls = None  # None: BaseEventLoop's Future
        self.max_iteration = self.max_vtime = _FOREVER
        self.deadline = float("inf")
        self.set_debug(False)

    # -- handles: VirtualTime's call_soon, call_at and call_later make these --
    _Handle = VHandle
    _TimerHandle = VTimerHandle

    def _call_soon(self, callback, args, context):
        """BaseEventLoop's with a VHandle (a vendor's own _call_soon, and
        call_soon_threadsafe, come here)."""
        if self._debug:
            return super()._call_soon(callback, args, context)
        h = VHandle(callback, args, self, context)
        self._ready.append(h)
        return h

    # -- the interface the probe drives (VirtualLoop's) ----------------------
    def reset(self, events, exception_handler, task_factory, slow_ticks=100, future_cls=None):
        """VirtualLoop's; the run's first event says which loop runs it."""
        _virtual_reset(self, events, exception_handler, task_factory, slow_ticks, future_cls)
        self.budget_hit = None
        events.append(self.mode_event)

    def run_until(self, pred, max_iterations, max_vtime, watchdog_seconds):
        """VirtualLoop.run_until's contract; each iteration is the loop
        class's own _run_once. A stop() (the loop's _stopping) ends the
        iteration as run_forever does; the run goes on as if the program
        called run_forever again, after a `stopped` event."""
        self.budget_hit = None
        self.max_iteration = self._iteration + max_iterations
        self.max_vtime = max_vtime
        self.deadline = _time.monotonic() + watchdog_seconds
        _vloop._wd_begin(self, watchdog_seconds)  # the watchdog inside a callback (vloop.py)
        try:
            if _af_selector is not None:  # the loop below, in C
                return _af_selector.drive(self, pred)
            # select() checks the budgets, before each iteration runs anything
            while not (self.halted if pred is None else pred()):
                self._run_once()
                if self.budget_hit is not None:
                    return self.budget_hit
                if self._stopping:
                    self._stopping = False
                    self.events.append(("stopped", self._clock, self._iteration))
        except VirtualBudget as e:
            return e.args[0]
        except _vloop.WatchdogExpired:
            return "watchdog"
        except (KeyboardInterrupt, SystemExit):
            # as run_forever's finally does: a stop() of the interrupted
            # iteration does not outlive it (vloop.py's run_until alike)
            self._stopping = False
            raise
        finally:
            _vloop._wd_end()
            self.max_iteration = self.max_vtime = _FOREVER
            self.deadline = float("inf")
        return None


_virtual_reset = _vloop.VirtualTime.reset

# Embedded, time() is C (selector_c.c) and call_soon, call_at, call_later,
# create_future, get_debug, reset and the running-loop methods are vloop's
# C twins (harness/accel/loop_c.c),
# making VHandle / VTimerHandle as the Python ones do. A loop class that
# defines any of them itself keeps its own (it comes first in the MRO).
if _af_selector is not None and _vloop._af_loop is not None:
    _vloop._af_loop.bind_handle_class(VHandle)
    _vloop._af_loop.bind_handle_class(VTimerHandle)
    _vloop._af_loop.bind_handle_class(VTimerHandleOwnCancel)
    # TimerHandle.cancel with BaseEventLoop._timer_handle_cancelled inlined
    # (loop_c.c's twin of vloop's _VTimerHandle.cancel; the loop never runs
    # in debug mode, where the stock one would keep the handle's repr)
    VTimerHandle.cancel = _vloop._af_loop.method(VTimerHandle, "cancel",
                                                 _TimerHandle.cancel)
    VirtualBase.time = _af_selector.method(VirtualBase, "time")
    for _name in ("call_soon", "call_at", "call_later", "create_future", "get_debug",
                  "clear_queues", "enter_running", "leave_running"):
        setattr(VirtualBase, _name,
                _vloop._af_loop.method(VirtualBase, _name, getattr(VirtualBase, _name)))
    del _name
    _virtual_reset = _vloop._af_loop.method(VirtualBase, "reset", _vloop.VirtualTime.reset)

_virtual_classes = {}


def virtual_class(cls):
    """cls on virtual time: class Virtual<cls>(cls, VirtualBase), cached, so
    that a patch of the loop's class (nest_asyncio's) lands on it and not on
    cls. VirtualBase's call_soon / call_later are left out where cls defines
    _call_soon / call_at itself (BaseEventLoop's are used, which call them)."""
    v = _virtual_classes.get(cls)
    if v is None:
        if not issubclass(cls, asyncio.base_events.BaseEventLoop):
            raise TypeError("LOOP = \"selector\" needs a loop built on asyncio's BaseEventLoop, "
                            "not %s (LOOP = \"realtime\" runs any loop)" % qualname(cls))
        own = set()
        for c in cls.__mro__:
            if issubclass(c, asyncio.base_events.BaseEventLoop) and \
                    c is not asyncio.base_events.BaseEventLoop:
                own.update(vars(c))
        ns = {}
        if "_call_soon" in own:
            ns["call_soon"] = asyncio.base_events.BaseEventLoop.call_soon
        if "call_at" in own:
            ns["call_later"] = asyncio.base_events.BaseEventLoop.call_later
        if "_timer_handle_cancelled" in own:
            ns["_TimerHandle"] = VTimerHandleOwnCancel
        v = type("Virtual" + cls.__name__, (cls, VirtualBase), ns)
        _virtual_classes[cls] = v
    return v


def virtualize(loop):
    """A loop made by a vendor's factory, put on virtual time in place: its
    class becomes virtual_class(type(loop)) (the mixin adds no slots), its
    selector a VirtualSelector holding the same registrations (the
    self-pipe, which never becomes readable)."""
    cls = virtual_class(type(loop))
    old = getattr(loop, "_selector", None)
    loop.__class__ = cls
    sel = VirtualSelector(loop)
    if old is not None:
        for key in list(old.get_map().values()):
            sel.register(key.fileobj, key.events, key.data)
        old.close()
    loop._selector = sel
    loop._virtual_init()
    return loop


# -- real time, for loops whose scheduling is in C -----------------------------------

class _Pending:
    """A callback the loop holds for the run: its handle, the iteration
    that scheduled it, whether it is a timer."""
    __slots__ = ("handle", "sched_it", "timer")

    def __init__(self, sched_it, timer):
        self.handle = None
        self.sched_it = sched_it
        self.timer = timer


class RealtimeBase:
    """Mixed in above the loop class under test: ticks of TICK_MS real
    milliseconds, counted on the loop's own clock from the start of the run.

    time() is the whole ticks elapsed (an integer, as on virtual time);
    call_later(d) is due at time() + d, and call_at(w) at the real instant
    of tick w (durations snap to the tick grid, so that deadlines computed
    in one tick stay equal, as on virtual time). Every callback runs through
    _run_callback, which keeps the pending ones (the probe's _ready and
    _scheduled, the deadlock check), reports slow ones, and estimates the
    iteration: a callback scheduled in the current batch, or run after the
    clock moved, starts a new one. The loop's own iterations are not
    visible (uvloop's are in libuv), so `iteration` in real-time traces is
    that estimate."""

    watchdog_at = None  # where the watchdog stopped a callback (vloop.py)

    def _realtime_init(self, tick_ms):
        self.set_tick(tick_ms)
        self._t0 = self._real_time()
        self._iteration = 0
        self._batch_clock = 0
        self.events = []
        self.slow_ticks = 100
        self._slow_what = None
        self._halted = False
        self._pending = set()
        self._future_cls = None
        self._pred = None
        self._budget = None
        self._harness_stop = False
        self._held = False
        self._limits = (_FOREVER, _FOREVER, _FOREVER)

    def set_tick(self, tick_ms):
        self.tick_ms = tick_ms
        self._scale = tick_ms / 1000.0

    def _real_time(self):
        return super().time()

    # -- the clock ----------------------------------------------------------
    @property
    def _clock(self):
        return int((self._real_time() - self._t0) / self._scale + 1e-6)

    def time(self):
        return self._clock

    def ticks_of(self, t):
        """A time of the loop's own clock (a handle's when()) in ticks."""
        return (t - self._t0) / self._scale

    def block(self, ticks, what=None):
        """A blocking call inside a callback: hold the loop for ticks."""
        _time.sleep(ticks * self._scale)
        self._slow_what = what

    # -- scheduling in ticks, every callback through _run_callback ----------
    def call_soon(self, callback, *args, context=None):
        p = _Pending(self._iteration, False)
        p.handle = super().call_soon(self._run_callback, p, callback, args, context=context)
        self._pending.add(p)
        return p.handle

    def call_later(self, delay, callback, *args, context=None):
        if delay is None:
            raise TypeError("delay must not be None")
        return self._call_due(self._clock + delay, delay > 0, callback, args, context)

    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        return self._call_due(when, when > self._clock, callback, args, context)

    def _call_due(self, when, future, callback, args, context):
        delay = self._t0 + when * self._scale - self._real_time()
        if future:
            delay = max(delay, 0.001)  # a loop rounding to whole ms must not make it "now"
        p = _Pending(self._iteration, True)
        p.handle = super().call_later(max(delay, 0), self._run_callback, p, callback, args,
                                      context=context)
        self._pending.add(p)
        return p.handle

    def _run_callback(self, p, callback, args):
        clock = self._clock
        new_iteration = p.sched_it >= self._iteration or clock != self._batch_clock
        if self._held and new_iteration:  # the run ended in the last iteration
            self._defer(p, callback, args)
            return
        self._pending.discard(p)
        if new_iteration:
            self._iteration += 1
            self._batch_clock = clock
        try:
            callback(*args)
        finally:
            dt = self._clock - clock
            if dt >= self.slow_ticks:
                self.events.append(("slow", self._clock, self._iteration, dt,
                                    self._slow_what or "callback"))
            self._slow_what = None
            if self._pred is not None and self._pred():
                self._held = True  # the run ends with this iteration, as on virtual time
                self._stop_for_harness()

    def _defer(self, p, callback, args):
        """A callback of an iteration after the one the run ended in (the
        loop runs on until a stop() takes effect, uvloop's one batch late,
        MagicStack/uvloop#517): queued again, with a copy of its
        context, for the next run_until (the cleanup), as VirtualLoop leaves
        it in _ready; a cancel() of its handle meanwhile still holds."""
        first = p.handle

        def later():
            if not first.cancelled():
                callback(*args)
        p.handle = super().call_soon(self._run_callback, p, later, (),
                                     context=contextvars.copy_context())
        p.sched_it = self._iteration
        p.timer = False

    def create_future(self):
        if self._future_cls is None:
            return super().create_future()
        return self._future_cls(loop=self)

    # -- what the probe reads -------------------------------------------------
    @property
    def _ready(self):
        return [p.handle for p in self._pending if not p.timer and not p.handle.cancelled()]

    @property
    def _scheduled(self):
        return [p.handle for p in self._pending if p.timer and not p.handle.cancelled()]

    @property
    def halted(self):
        return self._halted

    @halted.setter
    def halted(self, value):
        self._halted = value
        if value and self.is_running():
            self._held = True  # the run ends with this iteration, as on virtual time
            self._stop_for_harness()

    # -- the interface the probe drives (VirtualLoop's) ----------------------
    def reset(self, events, exception_handler, task_factory, slow_ticks=100, future_cls=None):
        self.clear_queues()
        self._t0 = self._real_time()
        self._iteration = 0
        self._batch_clock = 0
        self._slow_what = None
        self._halted = False
        self.events = events
        self.slow_ticks = slow_ticks
        self._future_cls = future_cls
        self.set_exception_handler(exception_handler)
        self.set_task_factory(task_factory)
        events.append(self.mode_event)

    def clear_queues(self):
        for p in self._pending:
            p.handle.cancel()
        self._pending.clear()

    def enter_running(self):
        """run_forever makes the loop the running one, in run_until."""
        if self.is_closed():
            raise RuntimeError("Event loop is closed")

    def leave_running(self):
        pass

    def _stop_for_harness(self):
        self._harness_stop = True
        self.stop()

    def _finished(self):
        return self._halted if self._pred is None else self._pred()

    def _poll(self):
        """Every tick while run_until runs: the predicate and the budgets."""
        if self._finished():
            self._stop_for_harness()
            return
        max_it, max_vtime, deadline = self._limits
        if self._iteration >= max_it or self._clock > max_vtime:
            self._budget = "hang"
        elif _time.monotonic() > deadline:
            self._budget = "watchdog"
        elif not self._ready and not self._scheduled:
            self._budget = "deadlock"
        if self._budget is not None:
            self._stop_for_harness()
            return
        super().call_later(self._scale, self._poll)

    def run_until(self, pred, max_iterations, max_vtime, watchdog_seconds):
        """VirtualLoop.run_until's contract, on the loop's own run_forever,
        stopped by the harness (the predicate, a budget) every tick at the
        latest. A stop() from the scenario ends run_forever as it does for
        any program; the run goes on as if the program called run_forever
        again, after a `stopped` event."""
        self._pred = pred
        self._budget = None
        self._limits = (self._iteration + max_iterations, max_vtime,
                        _time.monotonic() + watchdog_seconds)
        _vloop._wd_begin(self, watchdog_seconds)  # the watchdog inside a callback (vloop.py)
        try:
            while not self._finished():
                self._harness_stop = False
                self._held = False
                poll = super().call_later(self._scale, self._poll)
                try:
                    self.run_forever()
                finally:
                    poll.cancel()
                if self._budget is not None:
                    return self._budget
                if not self._harness_stop:
                    self.events.append(("stopped", self._clock, self._iteration))
        except _vloop.WatchdogExpired:
            return "watchdog"
        finally:
            _vloop._wd_end()
            self._pred = None
        return None


_realtime_classes = {}


def realtime(loop, tick_ms):
    """A loop on scaled real time: a new loop of class Realtime<cls>
    (RealtimeBase above the class of the loop the factory made, which must
    be constructible without arguments, as uvloop.Loop is); the factory's
    loop is closed."""
    cls = type(loop)
    if isinstance(loop, asyncio.base_events.BaseEventLoop):
        raise TypeError("LOOP = \"realtime\" is for loops whose scheduling is not "
                        "asyncio's BaseEventLoop (%s is: use LOOP = \"selector\", virtual time)"
                        % qualname(cls))
    rt = _realtime_classes.get(cls)
    if rt is None:
        rt = _realtime_classes[cls] = type("Realtime" + cls.__name__, (RealtimeBase, cls), {})
    loop.close()
    new = rt()
    new._realtime_init(tick_ms)
    return new


# -- the loop-level operations ----------------------------------------------------
# Probe helpers, as probe.py's: interp.py and the reproducers call them at
# the same points, and they record the same events (harness/run/TRACE.md).

REENTER_KINDS = ("asyncio_run", "run_until_complete")
VIA = ("call_soon", "call_later", "call_at")
_handles = {}           # the run's handles, by the name of the call op
_run_state = [None, 0]  # the event list the names and depth belong to, nested runs open


def _state():
    """The run's handles; a new run (a new event list) starts with none."""
    if _run_state[0] is not _probe.EVENTS:
        _handles.clear()
        _run_state[0] = _probe.EVENTS
        _run_state[1] = 0
    return _handles


def _harness_handle_classes():
    """The handle classes the harness's loops make (subclasses of asyncio's,
    named after their asyncio base in the trace)."""
    vl = globals().get("_VTimerHandle")  # vloop.py, pasted above in a reproducer
    if vl is None:
        import vloop
        vl = vloop._VTimerHandle
    return (VHandle, VTimerHandle, vl)


def handle_type(h):
    """The class of a handle as the trace names it: the first class of its
    MRO that the harness did not make."""
    harness = _harness_handle_classes()
    for c in type(h).__mro__:
        if c not in harness:
            return _probe.tname(c)
    return _probe.tname(type(h))


def _when_ticks(loop, h):
    """repr(h.when()) in ticks (a real-time loop counts in seconds), None
    when the handle has no when()."""
    when = getattr(h, "when", None)
    if when is None:
        return None
    w = when()
    to_ticks = getattr(loop, "ticks_of", None)
    return repr(w if to_ticks is None else to_ticks(w))


def schedule(op, name, via, delay, past, body):
    """h = loop.call_soon / call_later / call_at (via 0, 1, 2) of a callback
    that records handle_run and runs body(); recorded as handle_new."""
    loop = _probe.LOOP
    events = _probe.EVENTS

    def callback():
        events.append(("handle_run", loop._clock, loop._iteration, op, name))
        body()

    callback.__qualname__ = "callback_%d" % op
    now = loop._clock
    if via == 0:
        when = -1
        h = loop.call_soon(callback)
    elif via == 1:
        when = now + delay
        h = loop.call_later(delay, callback)
    else:
        when = now - delay if past else now + delay
        h = loop.call_at(when, callback)
    _state()[name] = h
    events.append(("handle_new", loop._clock, loop._iteration, _probe._task_id(), op, name,
                   VIA[via], when, handle_type(h), isinstance(h, asyncio.TimerHandle),
                   isinstance(h, asyncio.Handle), _when_ticks(loop, h)))
    return h


def cancel_handle(op, name):
    """handles[name].cancel(); a handle not made (yet) is recorded, nothing
    is called."""
    loop = _probe.LOOP
    h = _state().get(name)
    if h is not None:
        h.cancel()
    _probe.EVENTS.append(("handle_cancel", loop._clock, loop._iteration, _probe._task_id(), op,
                          name, h is not None))


def stop_loop(op):
    loop = _probe.LOOP
    _probe.EVENTS.append(("stop", loop._clock, loop._iteration, _probe._task_id(), op))
    loop.stop()


def reenter(op, kind, coro):
    """asyncio.run(coro) (kind 0) or loop.run_until_complete(coro) (1) from
    inside the running loop, between nested_enter and nested_exit events. A
    refusal (raised before any task of the coroutine was made: stock
    asyncio's RuntimeError) is recorded and not propagated, and the
    coroutine is closed; any other exception (the body's own, or a refusal
    after the loop made a task of it) propagates."""
    loop = _probe.LOOP
    task = _probe._task_id()
    _state()
    _run_state[1] += 1
    depth = _run_state[1]
    events = _probe.EVENTS
    events.append(("nested_enter", loop._clock, loop._iteration, task, op, REENTER_KINDS[kind],
                   depth))
    exc = None
    try:
        if kind == 0:
            asyncio.run(coro)
        else:
            loop.run_until_complete(coro)
    except BaseException as e:  # noqa: B902 - recorded, then raised again
        exc = e
    finally:
        _run_state[1] -= 1
    body_task = -1
    for t in _probe.ALL:
        if t.get_coro() is coro:
            body_task = t._af_id
    refused = (exc is not None and body_task == -1 and coro.cr_frame is not None
               and not coro.cr_running and not coro.cr_suspended)  # nothing started
    if refused:
        coro.close()
    events.append(("nested_exit", loop._clock, loop._iteration, task, op, REENTER_KINDS[kind],
                   "ok" if exc is None else "raise",
                   "" if exc is None else _probe.tname(type(exc)),
                   "" if exc is None else _probe.args_text(exc), body_task, depth,
                   loop.is_running()))
    if exc is not None and not refused:
        raise exc
