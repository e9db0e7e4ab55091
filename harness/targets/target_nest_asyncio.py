# target_nest_asyncio.py - target adapter: stock asyncio's primitives on a
# selector loop patched by nest_asyncio (Debian's python3-nest-asyncio
# 1.5.4), which makes the loop re-entrant: run_until_complete() and
# asyncio.run() work from inside the running loop. The loop runs on virtual
# time (LOOP = "selector"); REENTRANT makes the nested-loop oracle check the
# re-entrant contract (a nested run completes, loses and cancels nothing)
# instead of calling a nested run a misuse. nest_asyncio.apply() patches
# asyncio itself for the whole process (PROCESS_WIDE: this target runs in a
# process of its own) and only works with asyncio's pure-Python tasks.
# See target_asyncio.py for what an adapter provides.
import asyncio

import nest_asyncio

from target_asyncio import *  # noqa: F401,F403

NAME = "nest_asyncio"
LOOP = "selector"
PURE_PYTHON_TASKS = True
REENTRANT = True
PROCESS_WIDE = True


def loop_factory():
    return asyncio.SelectorEventLoop()


def setup_loop(loop):
    nest_asyncio.apply(loop)


def version():
    import importlib.metadata
    return "nest_asyncio %s" % importlib.metadata.version("nest_asyncio")
