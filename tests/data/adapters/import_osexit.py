# tests/data/adapters/import_osexit.py - TEST-ONLY misbehaving target adapter: os._exit(0) at import.
import asyncio, ctypes, os
from target_asyncio import *  # noqa


os._exit(0)
