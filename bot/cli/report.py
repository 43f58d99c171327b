"""`migrant-bot report unanswered|stats|sources`: the reports for staff, as a table or CSV."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.content.catalog import Source
from bot.content.loader import ContentError, load_catalog
from bot.reports import BadPeriod, since_ago
from bot.reports.sources import source_uses
from bot.reports.stats import Stats, Usage, usage_stats
from bot.reports.unanswered import QuestionGroup, shorten, unanswered_groups
from bot.storage.database import make_engine, upgrade

EXAMPLE_CHARS = 70  # the example column of the plain table

STATS_HELP = """\
Conversations (distinct people) and messages per day and per language, top intents,
handoffs (tickets opened in the period, by reason, urgent ones), the wait from a ticket
opening to the first operator reply (median and p90), and the 👍/👎 share of rated tickets.
Days are counted in the TIMEZONE setting."""

STATS_CSV_HELP = """\
--csv prints one long table, `section,key,value`, easy to filter or pivot in a spreadsheet:
  summary                       conversations, messages, tickets, urgent_tickets,
                                answered_tickets, median_wait_seconds, p90_wait_seconds,
                                ratings_up, ratings_down, up_share, down_share
                                (empty when there is nothing to measure)
  conversations_per_day         key: day (YYYY-MM-DD, in TIMEZONE)
  messages_per_day              key: day
  conversations_per_language    key: language (? when unknown)
  messages_per_language         key: language
  intent_messages               key: intent (the top ones)
  tickets_by_reason             key: reason (asked, not_understood, emergency)
  urgent_tickets_by_reason      key: reason
"""


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    reports = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
    unanswered = reports.add_parser(
        "unanswered",
        help="questions the bot could not answer, similar ones grouped",
        description="Questions the bot could not answer, grouped by similarity and language, "
        "biggest group first: the to-do list for content editors. --csv prints "
        "language,count,example.",
    )
    stats = reports.add_parser(
        "stats",
        help="conversations, messages, intents, handoffs, wait times, ratings",
        description=STATS_HELP,
        epilog=STATS_CSV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sources = reports.add_parser(
        "sources",
        help="every source with the answers that rest on it, stalest first",
        description="Every source of the content (publisher, title, date, grade, address) "
        "with the intents, places and notices that rest on it and when a person last "
        "reviewed them; the stalest first, so an editor sees what to re-check. --csv prints "
        "one line per source and answer.",
    )
    sources.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sources.set_defaults(handler=handle_sources)
    for command, default in ((unanswered, "7d"), (stats, "30d")):
        command.add_argument(
            "--since",
            default=default,
            metavar="PERIOD",
            help=f"how far back: Nh, Nd or Nw for hours, days, weeks (default: {default})",
        )
        command.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    unanswered.set_defaults(handler=handle_unanswered)
    stats.set_defaults(handler=handle_stats)


def handle_sources(args: argparse.Namespace, settings: Settings) -> int:
    try:
        catalog = load_catalog(settings.content_dir)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    found = source_uses(catalog)
    if args.csv:
        header = ["publisher", "title", "date", "retrieved", "checked", "grade", "url",
                  "kind", "id", "reviewed"]  # fmt: skip
        _write_csv(header, (
            [s.source.publisher, s.source.title, s.source.date or "", s.source.retrieved or "",
             s.source.checked or "", s.source.grade, s.source.url, use.kind, use.id,
             use.reviewed]
            for s in found for use in s.uses
        ))  # fmt: skip
        return 0
    today = dt.date.today()
    for item in found:
        source = item.source
        when = _source_when(source)
        print(f'{source.publisher}, "{source.title}", {when} (grade {source.grade})')
        print(f"  {source.url}")
        for use in sorted(item.uses, key=lambda u: u.reviewed):
            age = (today - use.reviewed).days
            ago = "today" if age == 0 else f"{age} day{'s' if age != 1 else ''} ago"
            print(f"  {use.kind} {use.id}: reviewed {use.reviewed} ({ago})")
    return 0


def _source_when(source: Source) -> str:
    """ "2025-01-22", "undated, read 2026-01-01", with ", still current on …" when checked."""
    when = str(source.date) if source.date else f"undated, read {source.retrieved}"
    return f"{when}, still current on {source.checked}" if source.checked else when


def handle_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    def show(engine: Engine, since: dt.datetime, zone: dt.tzinfo) -> None:
        groups = unanswered_groups(engine, since)
        if args.csv:
            _write_csv(["language", "count", "example"], _group_rows(groups))
        else:
            print(_unanswered_table(groups, since, zone))

    return _report(args, settings, show)


def handle_stats(args: argparse.Namespace, settings: Settings) -> int:
    def show(engine: Engine, since: dt.datetime, zone: dt.tzinfo) -> None:
        stats = usage_stats(engine, since, zone)
        if args.csv:
            _write_csv(["section", "key", "value"], _stats_rows(stats))
        else:
            print(_stats_text(stats, zone))

    return _report(args, settings, show)


def _report(
    args: argparse.Namespace,
    settings: Settings,
    show: Callable[[Engine, dt.datetime, dt.tzinfo], None],
) -> int:
    """Checks the arguments before touching the database, then shows the report."""
    try:
        since = since_ago(args.since)
    except BadPeriod as exc:
        print(f"migrant-bot report: --since: {exc}", file=sys.stderr)
        return 2
    try:
        zone: dt.tzinfo = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"migrant-bot report: TIMEZONE {settings.timezone!r} is unknown", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        show(engine, since, zone)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"migrant-bot report: cannot read the database: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def _write_csv(header: list[str], rows: Iterable[Iterable[object]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A text cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1+1`,
    `@SUM(...)`) gets a leading apostrophe, so it shows as the text it is (OWASP, CSV
    injection). People's messages end up in these cells."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _group_rows(groups: Iterable[QuestionGroup]) -> Iterable[list[object]]:
    return ([g.language, g.count, g.label] for g in groups)


def _unanswered_table(groups: list[QuestionGroup], since: dt.datetime, zone: dt.tzinfo) -> str:
    total = sum(g.count for g in groups)
    lines = [f"Unanswered questions since {_when(since, zone)}: {total} in {len(groups)} groups"]
    if groups:
        lines.append(f"{'lang':<5}{'count':>6}  example")
        lines += [
            f"{g.language:<5}{g.count:>6}  {shorten(g.label, EXAMPLE_CHARS)}" for g in groups
        ]
    return "\n".join(lines)


def _stats_text(stats: Stats, zone: dt.tzinfo) -> str:
    lines = [
        f"Since {_when(stats.since, zone)}: {stats.total.conversations} conversations, "
        f"{stats.total.messages} messages"
    ]
    lines += _usage_table("day", stats.per_day)
    lines += _usage_table("language", stats.per_language)
    if stats.top_intents:
        lines += ["", f"{'top intents':<30}{'messages':>10}"]
        lines += [f"{i.intent:<30}{i.messages:>10}" for i in stats.top_intents]
    lines += ["", f"Handoffs: {stats.tickets} tickets, {stats.urgent} urgent"]
    lines += [f"  {h.reason:<28}{h.tickets:>10}{h.urgent:>8} urgent" for h in stats.handoffs]
    waits = stats.waits
    if waits.median is not None and waits.p90 is not None:
        lines.append(
            f"Wait for a first operator reply ({waits.answered} tickets answered): "
            f"median {_duration(waits.median)}, p90 {_duration(waits.p90)}"
        )
    else:
        lines.append("Wait for a first operator reply: no ticket answered yet")
    ratings = stats.ratings
    if ratings.up_share is not None and ratings.down_share is not None:
        lines.append(
            f"Ratings: 👍 {ratings.up} ({ratings.up_share:.0%}), "
            f"👎 {ratings.down} ({ratings.down_share:.0%}) of {ratings.rated}"
        )
    else:
        lines.append("Ratings: none yet")
    lines.append(
        f"Messages the database refused (answered with an apology): {stats.failed_updates}"
    )
    return "\n".join(lines)


def _usage_table(title: str, rows: tuple[Usage, ...]) -> list[str]:
    if not rows:
        return []
    lines = ["", f"{'per ' + title:<15}{'conversations':>15}{'messages':>10}"]
    lines += [f"{u.key:<15}{u.conversations:>15}{u.messages:>10}" for u in rows]
    return lines


def _stats_rows(stats: Stats) -> Iterable[list[object]]:
    waits, ratings = stats.waits, stats.ratings
    summary: dict[str, object] = {
        "conversations": stats.total.conversations,
        "messages": stats.total.messages,
        "tickets": stats.tickets,
        "urgent_tickets": stats.urgent,
        "answered_tickets": waits.answered,
        "median_wait_seconds": _seconds(waits.median),
        "p90_wait_seconds": _seconds(waits.p90),
        "ratings_up": ratings.up,
        "ratings_down": ratings.down,
        "up_share": "" if ratings.up_share is None else round(ratings.up_share, 4),
        "down_share": "" if ratings.down_share is None else round(ratings.down_share, 4),
        "failed_updates": stats.failed_updates,
    }
    yield from (["summary", key, value] for key, value in summary.items())
    for unit, usage in (("day", stats.per_day), ("language", stats.per_language)):
        yield from ([f"conversations_per_{unit}", u.key, u.conversations] for u in usage)
        yield from ([f"messages_per_{unit}", u.key, u.messages] for u in usage)
    yield from (["intent_messages", i.intent, i.messages] for i in stats.top_intents)
    yield from (["tickets_by_reason", h.reason, h.tickets] for h in stats.handoffs)
    yield from (["urgent_tickets_by_reason", h.reason, h.urgent] for h in stats.handoffs)


def _seconds(duration: dt.timedelta | None) -> object:
    return "" if duration is None else round(duration.total_seconds())


def _duration(duration: dt.timedelta) -> str:
    """`45 s`, `12 min`, `2 h 05 min`, `3 d 4 h`: enough precision to compare periods."""
    seconds = round(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours = seconds // 60, seconds // 3600
    if hours == 0:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def _when(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone})"
