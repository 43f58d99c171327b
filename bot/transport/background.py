"""Background jobs that outlive any failure: each runs on its own schedule in the event loop;
when a run fails (the database or the network is down, or a bug) the failure is logged,
without any message text, and the job runs again soon. Nothing here stops until the bot does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger(__name__)
_PACKAGE = Path(__file__).resolve().parents[1]


class Supervisor:
    """Runs jobs every so often, each in its own task, and keeps them running."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def every(
        self,
        name: str,
        job: Callable[[], Awaitable[object]],
        seconds: float,
        *,
        retry_seconds: float | None = None,
        first_after: float = 0.0,
    ) -> None:
        """Runs `job` after `first_after` seconds, then `seconds` after each success and
        `retry_seconds` (default: `seconds`) after each failure."""
        retry = seconds if retry_seconds is None else retry_seconds
        loop = self._loop(name, job, seconds, retry, first_after)
        self._tasks.append(asyncio.create_task(loop, name=f"background: {name}"))

    async def _loop(
        self,
        name: str,
        job: Callable[[], Awaitable[object]],
        every: float,
        retry: float,
        first_after: float,
    ) -> None:
        await self._sleep(first_after)
        while not self._stopping.is_set():
            try:
                await job()
                wait = every
            except Exception as exc:
                log.error("%s failed (%s); trying again in %g s", name, describe(exc), retry)
                wait = retry
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self, grace: float = 3.0) -> None:
        """Lets a job that is running finish (up to `grace` seconds), then cancels the rest."""
        self._stopping.set()
        if not self._tasks:
            return
        _done, running = await asyncio.wait(self._tasks, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def describe(exc: BaseException) -> str:
    """The kind of failure and where it happened in our code, never its message: that may
    hold a person's words (the parameters of an SQL statement, a quoted message)."""
    kind = type(exc).__name__
    cause = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    if isinstance(cause, BaseException):
        kind = f"{kind} ({type(cause).__name__})"
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if Path(frame.filename).resolve().is_relative_to(_PACKAGE)
    ]
    if ours:
        where = Path(ours[-1].filename).resolve().relative_to(_PACKAGE.parent)
        kind = f"{kind} at {where}:{ours[-1].lineno}"
    return kind
