"""When someone is on duty, from configuration like "mon-fri 09:00-18:00; sat 10:00-14:00"."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})\s*$"
)


class BadHours(ValueError):
    """The working-hours setting cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class WorkingHours:
    """Opening windows per weekday (0 = Monday) in one time zone."""

    windows: dict[int, tuple[tuple[dt.time, dt.time], ...]]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> WorkingHours:
        windows: dict[int, list[tuple[dt.time, dt.time]]] = {d: [] for d in range(7)}
        for part in filter(str.strip, text.lower().split(";")):
            match = _PART.match(part)
            if not match or match["first"] not in DAYS or (match["last"] or "mon") not in DAYS:
                raise BadHours(
                    f'cannot read "{part.strip()}": write days and hours like '
                    '"mon-fri 09:00-18:00; sat 10:00-14:00"'
                )
            first = DAYS.index(match["first"])
            last = DAYS.index(match["last"] or match["first"])
            start, end = (
                dt.time.fromisoformat(match["start"].zfill(5)),
                dt.time.fromisoformat(match["end"].zfill(5)),
            )
            if end <= start:
                raise BadHours(f'"{part.strip()}": the end must come after the start')
            day = first
            while True:
                windows[day].append((start, end))
                if day == last:
                    break
                day = (day + 1) % 7
        return cls({d: tuple(w) for d, w in windows.items()}, ZoneInfo(zone))

    def on_duty(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        return any(s <= local.time() < e for s, e in self.windows[local.weekday()])

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """The next moment someone is on duty (local time), or None if never."""
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            for start, _end in sorted(self.windows[day.weekday()]):
                opening = dt.datetime.combine(day, start, tzinfo=self.zone)
                if opening > local:
                    return opening
        return None
