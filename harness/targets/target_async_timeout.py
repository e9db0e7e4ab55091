# target_async_timeout.py - target adapter: async-timeout (Debian bookworm's
# python3-async-timeout, 4.0.2), contract version 1 (docs/VENDORS.md). The
# library provides the timeout block and its rescheduling; everything else
# runs on stock asyncio. async-timeout's Timeout has another surface than
# asyncio.Timeout, so it is wrapped: expired is a property there (the
# harness calls expired()), reschedule(when) is update(when) (update(None)
# disarms it: undocumented, but 4.x accepts it), when() is the deadline
# property. It has no way to cancel a block: cancel_scope is adapterlib's
# emulation on top of the library's own update(), so the library's timer
# is what interrupts the body.
import asyncio

import async_timeout

import adapterlib

CONTRACT = 1
NAME = "async-timeout"
PROVIDES = frozenset({"timeout", "reschedule", "cancel_scope"})
# The RuntimeError of a reschedule in a state where asyncio raises one too
# is worded otherwise ("cannot reschedule expired timeout").
DIFFERENCES = frozenset({"reschedule-error-message"})


def version():
    return "async-timeout " + async_timeout.__version__


class _Timeout:
    """asyncio.Timeout's surface over async_timeout.Timeout."""
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t

    async def __aenter__(self):
        await self.t.__aenter__()
        return self

    async def __aexit__(self, et, ev, tb):
        return await self.t.__aexit__(et, ev, tb)

    def expired(self):
        return self.t.expired

    def when(self):
        return self.t.deadline

    def reschedule(self, when):
        self.t.update(when)


def _now():
    return asyncio.get_running_loop().time()


def timeout(delay, *, cancellable=False):
    cm = _Timeout(async_timeout.timeout(delay))
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def timeout_at(when, *, cancellable=False):
    cm = _Timeout(async_timeout.timeout_at(when))
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def cancel_scope(scope):
    scope.cancel()
