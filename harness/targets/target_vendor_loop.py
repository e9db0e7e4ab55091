# target_vendor_loop.py - target adapter, the example for a vendor whose
# product is an event loop of their own: a SelectorEventLoop subclass that
# counts what is scheduled (a stand-in for a vendor's instrumentation or
# scheduling policy), keeping asyncio's contracts. Copy it to start:
#   LOOP          "selector": a loop written in Python on asyncio's
#                 BaseEventLoop runs on virtual time (harness/py/loops.py
#                 puts a VirtualSelector under it: deterministic runs);
#                 "realtime" for a loop scheduling in C (target_uvloop.py);
#   loop_factory  returns a new loop of the vendor's class;
#   setup_loop    (optional) called with the loop once it is on virtual
#                 time: install a policy, apply a patch (target_nest_asyncio.py).
# target_planted_loop.py is the same kind of subclass with defects planted.
# See target_asyncio.py for what else an adapter provides.
import asyncio
import collections

from target_asyncio import *  # noqa: F401,F403

NAME = "vendor_loop"
LOOP = "selector"


class InstrumentedLoop(asyncio.SelectorEventLoop):
    """A vendor's loop: counts what it schedules, by callback name."""

    def __init__(self, selector=None):
        super().__init__(selector)
        self.scheduled = collections.Counter()

    def call_soon(self, callback, *args, context=None):
        self.scheduled[getattr(callback, "__qualname__", type(callback).__name__)] += 1
        return super().call_soon(callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        self.scheduled["timer"] += 1
        return super().call_at(when, callback, *args, context=context)


def loop_factory():
    return InstrumentedLoop()


def version():
    return "InstrumentedLoop (example) on asyncio's SelectorEventLoop"
