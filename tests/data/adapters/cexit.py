# tests/data/adapters/cexit.py - TEST-ONLY misbehaving target adapter: sleep calls C exit(3).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    ctypes.CDLL(None).exit(3)
