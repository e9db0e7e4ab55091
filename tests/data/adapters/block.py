# tests/data/adapters/block.py - TEST-ONLY misbehaving target adapter: sleep blocks in C (pause(): --hang-timeout kills it).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    ctypes.CDLL(None).pause()
