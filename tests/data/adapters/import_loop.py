# tests/data/adapters/import_loop.py - TEST-ONLY misbehaving target adapter: a Python loop at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


while True:
    pass
