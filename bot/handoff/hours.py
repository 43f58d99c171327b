"""When someone is on duty, from configuration like "mon-fri 09:00-18:00; sat 10:00-14:00".

A window may end at 24:00 ("mon-sun 00:00-24:00": always) or run past midnight
("fri-sat 22:00-06:00": Friday 22:00 to Saturday 06:00, and Saturday 22:00 to Sunday 06:00).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
EXAMPLE = '"mon-fri 09:00-18:00; sat 10:00-14:00"'
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})\s*$"
)

# Minutes since local midnight, [start, end): 0 to 1440 (24:00).
Window = tuple[int, int]


class BadHours(ValueError):
    """The working-hours setting cannot be read; the message says how to write it."""


def read_windows(text: str) -> dict[int, tuple[Window, ...]]:
    """The opening windows per weekday (0 = Monday) written in `text`; a window past
    midnight is split at midnight, its second half on the next day. Raises BadHours."""
    windows: dict[int, list[Window]] = {d: [] for d in range(7)}
    for part in filter(str.strip, text.lower().split(";")):
        shown = part.strip()
        match = _PART.match(part)
        if not match or match["first"] not in DAYS or (match["last"] or "mon") not in DAYS:
            raise BadHours(f'cannot read "{shown}": write days and hours like {EXAMPLE}')
        start, end = _minutes(match["start"], shown), _minutes(match["end"], shown)
        if start == DAY_MINUTES:
            raise BadHours(f'cannot read "{shown}": a window cannot start at 24:00; write 00:00')
        if end == start:
            raise BadHours(f'cannot read "{shown}": a window cannot end when it starts')
        first = DAYS.index(match["first"])
        last = DAYS.index(match["last"] or match["first"])
        day = first
        while True:
            if end > start:
                windows[day].append((start, end))
            else:  # overnight: until midnight, then on from midnight of the next day
                windows[day].append((start, DAY_MINUTES))
                if end > 0:
                    windows[(day + 1) % 7].append((0, end))
            if day == last:
                break
            day = (day + 1) % 7
    return {d: tuple(sorted(w)) for d, w in windows.items()}


def _minutes(clock: str, shown: str) -> int:
    hours, minutes = (int(n) for n in clock.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise BadHours(f'cannot read "{shown}": {clock} is not a time of day (00:00 to 24:00)')
    return hours * 60 + minutes


def read_zone(name: str) -> ZoneInfo:
    """The time zone called `name` (like America/Mexico_City); raises BadHours."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        message = f'there is no time zone "{name}"; write one like America/Mexico_City'
        raise BadHours(message) from None


@dataclass(frozen=True)
class WorkingHours:
    """Opening windows per weekday (0 = Monday), in minutes since local midnight, in one
    time zone."""

    windows: dict[int, tuple[Window, ...]]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> WorkingHours:
        return cls(read_windows(text), read_zone(zone))

    def on_duty(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.windows[local.weekday()])

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment someone comes on duty (local time), or None if never. A window
        that only goes on from the day before (past midnight, or right after another one)
        is not an opening."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in self.windows[day.weekday()]:
                if self._continues(day.weekday(), start):
                    continue
                hour, minute = divmod(start, 60)
                opening = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
                if opening > local:
                    return opening
        return None

    def _continues(self, weekday: int, start: int) -> bool:
        """Whether someone is already on duty just before `start` on that day."""
        if start == 0:
            return any(e == DAY_MINUTES for _s, e in self.windows[(weekday - 1) % 7])
        return any(s < start <= e for s, e in self.windows[weekday])
