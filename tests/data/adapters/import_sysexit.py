# tests/data/adapters/import_sysexit.py - TEST-ONLY misbehaving target adapter: raise SystemExit(3) at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


raise SystemExit(3)
