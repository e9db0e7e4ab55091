# target_mytimeout.py - the example adapter of docs/VENDORS.md: the vendor
# library mytimeout (next to this file, importable because the adapter's
# folder is on sys.path) under asyncfuzz's contract version 1. The library
# provides the timeout block and its rescheduling; everything else runs on
# stock asyncio. tests/e2e/conform.sh checks that VENDORS.md shows this
# file as it is and that `asyncfuzz conform` finds it conformant.
import asyncio

import adapterlib  # asyncfuzz's emulations (cancel_scope on a timeout)
import mytimeout

CONTRACT = 1               # the contract version this adapter is written to
NAME = "mytimeout"         # in signatures, findings and the report
PROVIDES = frozenset({"timeout", "reschedule", "cancel_scope"})


def version():
    return "mytimeout " + mytimeout.__version__


class _Timeout:
    """The surface the harness calls (asyncio.Timeout's): async with,
    expired(), when(), reschedule(when or None)."""
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t

    async def __aenter__(self):
        await self.t.__aenter__()
        return self

    async def __aexit__(self, et, ev, tb):
        return await self.t.__aexit__(et, ev, tb)

    def expired(self):
        return self.t.fired  # a property in the library: called here, never by the harness

    def when(self):
        return self.t.deadline

    def reschedule(self, when):
        self.t.move_to(when)


def _now():
    return asyncio.get_running_loop().time()


def timeout(delay, *, cancellable=False):
    cm = _Timeout(mytimeout.after(delay))
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def timeout_at(when, *, cancellable=False):
    cm = _Timeout(mytimeout.at(when))
    return adapterlib.Cancellable(cm, _now) if cancellable else cm


def cancel_scope(scope):
    scope.cancel()
