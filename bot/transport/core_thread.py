"""One thread for the core and the database, off the event loop.

Every turn (claim, state, engine, record: one transaction, see bot/conversation.py) and the
claims' bookkeeping run there, one after the other, in the order they were asked for. One
thread rather than a pool: the core holds the interpreter's lock while it works, so more
threads only take the lock from one another (and from the event loop) without doing more; and
a release queued behind the turn it gives back always finds that turn committed.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
_CORE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="core")


async def in_core(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` in the core's thread, with the caller's context variables (the update's
    claim, see delivery.py)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _CORE, functools.partial(context.run, call, *args)
    )
