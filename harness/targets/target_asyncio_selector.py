# target_asyncio_selector.py - target adapter: stock asyncio on its own event
# loop, asyncio.SelectorEventLoop, instead of the harness's VirtualLoop. The
# loop runs on virtual time (LOOP = "selector": harness/py/loops.py puts a
# VirtualSelector under it), so every run is deterministic and must give the
# same trace as the default target: this is the loop path's own check, and
# the model of an adapter for a vendor's loop built on BaseEventLoop.
# See target_asyncio.py for what an adapter provides.
import asyncio

from target_asyncio import *  # noqa: F401,F403

NAME = "asyncio_selector"
LOOP = "selector"


def loop_factory():
    return asyncio.SelectorEventLoop()


def version():
    import sys
    return "asyncio (CPython %d.%d.%d) SelectorEventLoop" % sys.version_info[:3]
