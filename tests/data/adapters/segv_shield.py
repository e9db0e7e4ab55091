# tests/data/adapters/segv_shield.py - TEST-ONLY misbehaving target adapter: shield crashes the interpreter (SIGSEGV); runs without a shield are stock asyncio.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


def shield(aw):
    ctypes.string_at(0)
