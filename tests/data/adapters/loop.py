# tests/data/adapters/loop.py - TEST-ONLY misbehaving target adapter: a Python loop in sleep (the watchdog stops it).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    while True:
        pass
