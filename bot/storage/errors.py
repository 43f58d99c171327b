"""Which database failures pass and which come back on every retry.

A lost connection, a lock or a serialization conflict passes: the same update succeeds later.
A value the database refuses (a data or integrity error) fails the same way every time, so
retrying it would stall everyone queued behind it (long polling stays on its offset; the
webhook answers 503 for ever). SQLAlchemy already sorts the driver's errors into the DB-API
classes on both engines; this only says which of them are for good.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, IntegrityError

_PERMANENT = (DataError, IntegrityError)


def is_permanent(error: BaseException | None) -> bool:
    """True for a database error that retrying the same update would only repeat."""
    return isinstance(error, _PERMANENT)
