"""One rate limit for the whole deployment: every worker takes its turn from the same
windows, so N workers together stay under Telegram's limits (30 messages a second for the
bot, 1 a second in a chat, 20 a minute in a group) instead of N times them.

The windows are "at most N sends in any W seconds" (a moving window: bursts are allowed up
to the limit, never past it). They live in PostgreSQL (a table written under one advisory
lock) or in Redis when REDIS_URL is set (the `limits` library's moving window); on SQLite
there is one process, and PTB's own in-process AIORateLimiter does the same job."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.config import Settings

# psycopg, limits and redis are imported by the limiter that uses them: on SQLite (PTB's own
# limiter) they would cost the process ~25 MB and a quarter of a second for nothing.
if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)
MAX_RETRIES = 3
# Arrival at Telegram is not exactly the moment a turn is given (the network, the event
# loop): each window is held a little longer than the limit's period, so what Telegram
# counts stays under the limit too.
MARGIN = 1.05
# A 429 all the same (Telegram lowered a limit): its pause plus this, before the retry.
RETRY_MARGIN_SECONDS = 0.1


@dataclass(frozen=True)
class Window:
    """At most `limit` sends under `key` in any `seconds`."""

    key: str
    limit: int
    seconds: float


def windows_for(chat_id: object) -> list[Window]:
    """The windows a send to `chat_id` must fit: the bot's, the chat's, and a group's
    (a negative id, or an @username, which only channels and supergroups have). A chat is
    named by a digest, so the shared windows hold no one's id."""
    chat = hashlib.blake2b(str(chat_id).encode(), digest_size=8).hexdigest()
    windows = [Window(f"chat:{chat}", 1, 1.0 * MARGIN)]
    if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
        windows.append(Window(f"group:{chat}", 20, 60.0 * MARGIN))
    windows.append(Window("bot", 30, 1.0 * MARGIN))
    return windows


class Turns(Protocol):
    """Shared windows: `take` either records a send in every window and returns 0 with
    what `sent` needs, or records nothing and returns how many seconds to wait before
    asking again; `sent` moves the send's record to when Telegram had answered it."""

    async def take(self, windows: list[Window]) -> tuple[float, Any]: ...

    async def sent(self, taken: Any) -> None: ...

    async def close(self) -> None: ...


class SharedRateLimiter(BaseRateLimiter[int]):
    """PTB's rate-limiter hook in front of shared windows. Like AIORateLimiter, only calls
    that name a chat are limited (getUpdates, setMyCommands and answers to buttons are not),
    and a 429 is waited out and retried up to `max_retries` times."""

    def __init__(self, turns: Turns, max_retries: int = MAX_RETRIES) -> None:
        self._turns = turns
        self._max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self._turns.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(TypeError, ValueError):  # else an @username
            chat_id = int(chat_id)
        windows = windows_for(chat_id)
        retries = rate_limit_args or self._max_retries
        for attempt in range(retries + 1):
            taken = await self._wait_turn(windows)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                pause = exc._retry_after.total_seconds() + RETRY_MARGIN_SECONDS
                log.warning(
                    "Telegram asked to slow down (%s); retrying in %.1f s", endpoint, pause
                )
                await asyncio.sleep(pause)
            finally:
                await self._turns.sent(taken)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _wait_turn(self, windows: list[Window]) -> Any:
        while True:
            wait, taken = await self._turns.take(windows)
            if wait <= 0:
                return taken
            await asyncio.sleep(wait)


class PostgresTurns:
    """The windows as rows of `send_turns` (one per send and window, kept a minute), read
    and written under one transaction-scoped advisory lock, on the database's own clock so
    every worker agrees on "now". A row first holds when its turn was given, then when
    Telegram answered: a send that took long (a busy event loop, the network) still has
    its full window after it reached Telegram. One asynchronous connection per process
    (psycopg's own, no thread): the lock lets one turn be taken at a time anyway."""

    LOCK = 0x6D62_7274  # "mbrt": this table's advisory lock, one for the whole deployment
    KEEP_SECONDS = 61 * MARGIN

    def __init__(self, database_url: str) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._busy = asyncio.Lock()

    async def take(self, windows: list[Window]) -> tuple[float, Any]:
        import psycopg

        async with self._busy:
            connection = await self._connect()
            try:
                return await self._take(connection, windows)
            except psycopg.OperationalError:
                await self.close()  # connect again next time
                raise

    async def sent(self, taken: Any) -> None:
        async with self._busy:
            connection = await self._connect()
            await connection.execute(
                "UPDATE send_turns SET at = clock_timestamp() WHERE id = ANY(%s)", (taken,)
            )

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True
            )
        return self._connection

    async def _take(
        self, connection: psycopg.AsyncConnection[Any], windows: list[Window]
    ) -> tuple[float, Any]:
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (self.LOCK,))
            now: dt.datetime = (await _one(connection, "SELECT clock_timestamp()", ()))[0]
            wait = 0.0
            for window in windows:
                # The limit-th latest send in the window, if there is one, says when it ends.
                row = await _one(
                    connection,
                    "SELECT at FROM send_turns WHERE key = %s AND at > %s "
                    "ORDER BY at DESC OFFSET %s LIMIT 1",
                    (window.key, now - dt.timedelta(seconds=window.seconds), window.limit - 1),
                )
                if row is not None:
                    ends = row[0] + dt.timedelta(seconds=window.seconds)
                    wait = max(wait, (ends - now).total_seconds(), 0.001)
            if wait > 0:
                return wait, None
            ids = []
            for window in windows:
                insert = "INSERT INTO send_turns (key, at) VALUES (%s, %s) RETURNING id"
                ids.append((await _one(connection, insert, (window.key, now)))[0])
            await connection.execute(
                "DELETE FROM send_turns WHERE at < %s",
                (now - dt.timedelta(seconds=self.KEEP_SECONDS),),
            )
        return 0.0, ids

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


async def _one(connection: psycopg.AsyncConnection[Any], query: str, args: tuple[Any, ...]) -> Any:
    cursor = await connection.execute(query, args)  # type: ignore[arg-type]
    return await cursor.fetchone()


class RedisTurns:
    """The windows in Redis, as the `limits` library's moving windows. A send is counted
    in each window in turn; one that then finds a later window full waits, its earlier
    counts kept (an overcount: slower for a moment, never over a limit). The library counts
    whole seconds, so the one-second windows have no MARGIN here."""

    def __init__(self, url: str) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
        from redis.asyncio import ConnectionPool

        self._item = RateLimitItemPerSecond
        self._pool = ConnectionPool.from_url(url)  # ours, so that `close` can close it
        # A documented option that the library's type hints leave out.
        storage = RedisStorage(
            "async+" + url,
            connection_pool=self._pool,  # type: ignore[arg-type]
            implementation="redispy",
        )
        self._limiter = MovingWindowRateLimiter(storage)

    async def take(self, windows: list[Window]) -> tuple[float, Any]:
        for window in windows:
            item = self._item(window.limit, max(1, round(window.seconds)))
            if not await self._limiter.hit(item, "migrant-bot", window.key):
                stats = await self._limiter.get_window_stats(item, "migrant-bot", window.key)
                loop_now = dt.datetime.now(dt.UTC).timestamp()
                return max(stats.reset_time - loop_now, 0.01), None
        return 0.0, None

    async def sent(self, taken: Any) -> None:
        return None  # the library's windows keep when the turn was given

    async def close(self) -> None:
        await self._pool.disconnect()


def rate_limiter_for(settings: Settings) -> BaseRateLimiter[Any]:
    """Redis when REDIS_URL is set, else PostgreSQL when that is the database (workers
    share it), else the in-process limiter (SQLite: one process)."""
    if settings.redis_url:
        return SharedRateLimiter(RedisTurns(settings.redis_url))
    if settings.database_url.startswith("postgresql"):
        return SharedRateLimiter(PostgresTurns(settings.database_url))
    return AIORateLimiter(max_retries=MAX_RETRIES)
