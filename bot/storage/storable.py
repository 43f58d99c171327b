"""Column types that make any text storable before it reaches the database.

Telegram hands us whatever a client sent: PostgreSQL refuses U+0000 in text, no UTF-8
database takes a lone surrogate, and a name may be longer than its column. Each would make
the same update fail on every retry (see bot/transport/delivery.py), so text is cleaned and
cut at the column's length when it is bound, on every engine alike.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# NUL, and the halves of surrogate pairs that arrive alone (they encode to no UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str, length: int | None = None) -> str:
    """`text` without what no database stores, cut to `length` characters."""
    cleaned = _UNSTORABLE.sub("", text)
    return cleaned if length is None else cleaned[:length]


class StorableString(TypeDecorator[str]):
    """A VARCHAR that cleans and cuts what it is given instead of refusing it."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, str):
            return value
        return storable(value, getattr(self.impl_instance, "length", None))


class StorableText(TypeDecorator[str]):
    """A TEXT that drops the characters no database stores."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable(value) if isinstance(value, str) else value
