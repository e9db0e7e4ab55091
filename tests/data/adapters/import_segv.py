# tests/data/adapters/import_segv.py - TEST-ONLY misbehaving target adapter: a SIGSEGV at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


ctypes.string_at(0)
