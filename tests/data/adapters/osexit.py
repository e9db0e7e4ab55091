# tests/data/adapters/osexit.py - TEST-ONLY misbehaving target adapter: sleep calls os._exit(0).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    os._exit(0)
