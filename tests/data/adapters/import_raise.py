# tests/data/adapters/import_raise.py - TEST-ONLY misbehaving target adapter: an exception at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


def load():
    raise ValueError("this adapter does not load")


load()
