# target_uvloop.py - target adapter: stock asyncio's primitives on uvloop's
# event loop (Debian's python3-uvloop 0.17.0). uvloop schedules in C, on
# libuv's clock, so it cannot run on virtual time: LOOP = "realtime" runs
# it on real time, a tick being TICK_MS milliseconds (asyncfuzz --tick-ms
# overrides it). Results are not deterministic: conform reruns every
# failure to measure how often it reproduces, and docs/LOOPS.md says which
# races this mode reaches. See target_asyncio.py for what an adapter
# provides.
import uvloop

from target_asyncio import *  # noqa: F401,F403

NAME = "uvloop"
LOOP = "realtime"
TICK_MS = 5


def loop_factory():
    return uvloop.new_event_loop()


def version():
    return "uvloop %s (libuv, real time)" % uvloop.__version__
