# tests/data/adapters/sysexit.py - TEST-ONLY misbehaving target adapter: sleep raises SystemExit(0).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    raise SystemExit(0)
