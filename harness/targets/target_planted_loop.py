# target_planted_loop.py - TEST-ONLY target adapter: a vendor's loop
# subclass with planted defects, one per contract of the loop oracles
# (docs/ORACLES.md), each a plausible "optimisation":
#   - call_soon lets a new callback jump a long ready queue (loop.order:
#     soon-fifo, soon-iteration);
#   - call_later(0) and a past call_at become call_soon: a plain Handle that
#     runs before the callbacks already ready (loop.handle: type;
#     loop.order: timer-before-ready);
#   - timers are kept on a grid of 4 ticks, rounded down (loop.order:
#     timer-early, timer-order; loop.handle: when);
#   - stop() takes effect one iteration late (loop.stop: late);
#   - run_until_complete wraps its argument in a task before it checks that
#     the loop is not running (nested-loop: refused-late).
# The engines' and oracles' tests must find each. Built on stock asyncio's
# SelectorEventLoop, on virtual time (LOOP = "selector"), like
# target_vendor_loop.py, the honest version of a vendor's subclass.
import asyncio

from target_asyncio import *  # noqa: F401,F403

NAME = "planted_loop"
LOOP = "selector"
GRID = 4


class PlantedLoop(asyncio.SelectorEventLoop):
    def call_soon(self, callback, *args, context=None):
        h = super().call_soon(callback, *args, context=context)
        if len(self._ready) > 3:  # planted: "priority" to the newest callback
            self._ready.pop()
            self._ready.appendleft(h)
        return h

    def call_at(self, when, callback, *args, context=None):
        if when <= self.time():  # planted: due now, so no timer
            return self.call_soon(callback, *args, context=context)
        # planted: a coarse timer wheel
        return super().call_at(when - when % GRID, callback, *args, context=context)

    def stop(self):
        # planted: "finish what is queued first"
        self.call_soon(asyncio.SelectorEventLoop.stop, self)

    def run_until_complete(self, future):
        # planted: the task is made before the check for a running loop
        future = asyncio.ensure_future(future, loop=self)
        return super().run_until_complete(future)


def loop_factory():
    return PlantedLoop()


def version():
    return "PlantedLoop (test only)"
