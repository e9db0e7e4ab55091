# tests/data/adapters/import_cexit.py - TEST-ONLY misbehaving target adapter: C exit(3) at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


ctypes.CDLL(None).exit(3)
