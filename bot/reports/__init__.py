"""Reports for staff, read from the database: what the bot could not answer (`unanswered`) and
how it is used (`stats`). Functions take an Engine and a `since` moment and return dataclasses;
the command line and the staff group only format them."""

from __future__ import annotations

import datetime as dt
import re

_PERIOD = re.compile(r"\s*(\d{1,6})\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


class BadPeriod(ValueError):
    """A period we cannot read; the message says how to write one."""


def parse_period(text: str) -> dt.timedelta:
    """Reads `12h`, `7d` or `2w` (hours, days, weeks; a whole number from 1)."""
    match = _PERIOD.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise BadPeriod(f"{text!r} is not a period: write a whole number and h, d or w (7d, 12h)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def since_ago(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """The moment `text` (a period, see parse_period) before `now` (default: now, UTC)."""
    period = parse_period(text)
    try:
        return (now or dt.datetime.now(dt.UTC)) - period
    except OverflowError:
        raise BadPeriod(f"{text!r} reaches back before the year 1") from None


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Aware UTC. SQLite keeps no time zone (it stores the wall clock as given, and the bot
    writes UTC), so naive values read back are UTC, and bounds must be sent in UTC."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
