# target_asyncio_py.py - target adapter: stock asyncio with its pure-Python
# Task and Future (asyncio.tasks._PyTask, asyncio.futures._PyFuture) instead
# of the C accelerator's. The primitives are stock asyncio's
# (target_asyncio.py; docs/VENDORS.md says what an adapter provides).
from target_asyncio import *  # noqa: F401,F403

NAME = "asyncio_py"
PURE_PYTHON_TASKS = True


def version():
    import sys
    return "asyncio (CPython %d.%d.%d, pure-Python tasks)" % sys.version_info[:3]
