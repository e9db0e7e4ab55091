# mytimeout.py - a stand-in for a vendor's own timeout library, the one
# docs/VENDORS.md writes an adapter for (tests/e2e/conform.sh runs it). Its
# API differs from asyncio.Timeout on purpose, as real libraries' do: a
# `deadline` property, `move_to(when)`, a `fired` property. It is built on
# asyncio.timeout_at, so it keeps asyncio's contracts; it must not grow
# features: it exists to show the adapter's translation.
import asyncio

__version__ = "1.0"


class Timeout:
    def __init__(self, when):
        self._t = asyncio.timeout_at(when)

    async def __aenter__(self):
        await self._t.__aenter__()
        return self

    async def __aexit__(self, et, ev, tb):
        return await self._t.__aexit__(et, ev, tb)

    @property
    def deadline(self):
        return self._t.when()

    @property
    def fired(self):
        return self._t.expired()

    def move_to(self, when):
        self._t.reschedule(when)


def after(delay):
    """A Timeout `delay` seconds from now (None: never)."""
    if delay is None:
        return Timeout(None)
    return Timeout(asyncio.get_running_loop().time() + delay)


def at(when):
    return Timeout(when)
