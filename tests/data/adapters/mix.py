# tests/data/adapters/mix.py - TEST-ONLY misbehaving target adapter: some runs die: shield crashes, timeout_at blocks in C, gather loops in Python.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


def shield(aw):
    ctypes.string_at(0)


def timeout_at(when):
    ctypes.CDLL(None).pause()


def gather(*aws, return_exceptions=False):
    while True:
        pass
