# tests/data/adapters/segv.py - TEST-ONLY misbehaving target adapter: sleep crashes the interpreter (SIGSEGV).
import asyncio, ctypes, os
from target_asyncio import *  # noqa


async def sleep(delay, result=None):
    ctypes.string_at(0)
