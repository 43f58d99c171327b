"""Privacy by default: old message text is purged, counts survive; migrations keep data."""

from __future__ import annotations

import datetime as dt

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from bot.conversation import Conversation
from bot.dialog.events import Command, CommandEvent, Incoming, TextEvent
from bot.storage.database import MIGRATIONS, upgrade
from bot.storage.retention import purge
from bot.storage.store import Store, UpdateClaim

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _say(conversation: Conversation, user: int, text_: str, at: dt.datetime) -> None:
    conversation.handle(Incoming(user, TextEvent(text_), "es", at=at))


def test_text_older_than_the_retention_period_is_deleted_and_counts_survive(
    conversation: Conversation, database: Engine
) -> None:
    _say(conversation, 1, "hola", NOW - dt.timedelta(days=40))
    _say(conversation, 1, "xqzw plok unanswerable", NOW - dt.timedelta(days=40))
    _say(conversation, 1, "cbp one sigue funcionando", NOW - dt.timedelta(days=2))
    purged = purge(database, NOW, days=30)
    assert (purged.event_texts, purged.unanswered_texts) == (2, 1)
    with database.connect() as connection:
        rows = connection.execute(
            text("SELECT text, intent FROM conversation_events ORDER BY id")
        ).all()
        unanswered = connection.execute(text("SELECT text FROM unanswered_questions")).all()
    assert [r.text for r in rows] == [None, None, "cbp one sigue funcionando"]
    assert rows[0].intent == "greeting"  # what reports count is still there
    assert unanswered == [(None,)]
    assert purge(database, NOW, days=30).event_texts == 0


def test_the_purge_command_reports_what_it_deleted(
    conversation: Conversation, database: Engine, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from bot.cli.main import main

    _say(conversation, 1, "hola", dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
    monkeypatch.setenv("DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert main(["purge"]) == 0
    assert "deleted the text of 1 messages" in capsys.readouterr().out


def test_old_relay_records_of_closed_tickets_are_deleted(
    conversation: Conversation, database: Engine
) -> None:
    conversation.handle(
        Incoming(2, CommandEvent(Command.HUMAN), "es", at=NOW - dt.timedelta(days=60))
    )
    ticket = conversation.desk.open_ticket_of(2)
    assert ticket is not None
    conversation.desk.record_relay(ticket, "in", 5, 6, NOW - dt.timedelta(days=60))
    conversation.desk.close(ticket.id, NOW - dt.timedelta(days=59))
    assert purge(database, NOW, days=30).relayed == 1


def test_upgrade_from_the_previous_release_keeps_its_data(database: Engine) -> None:
    upgrade(database, "0001")
    with database.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO people (user_id, language, language_chosen, first_seen, last_seen) "
                "VALUES (7, 'ht', true, :t, :t)"
            ),
            {"t": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO conversation_events (user_id, at, direction, kind, language, text) "
                "VALUES (7, :t, 'in', 'text', 'ht', 'bonjou')"
            ),
            {"t": NOW},
        )
    upgrade(database)
    tables = set(inspect(database).get_table_names())
    assert {"tickets", "relayed_messages"} <= tables
    with database.connect() as connection:
        assert connection.execute(text("SELECT language FROM people")).scalar_one() == "ht"
        assert connection.execute(text("SELECT text FROM conversation_events")).scalar_one() == (
            "bonjou"
        )
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_updates_handled_before_the_upgrade_stay_handled(database: Engine) -> None:
    upgrade(database, "0004")
    with database.begin() as connection:
        connection.execute(
            text("INSERT INTO processed_updates (update_id, at) VALUES (41, :t)"), {"t": NOW}
        )
    upgrade(database)
    store = Store(database)
    assert store.claim_update(41, "new", NOW, NOW + dt.timedelta(days=1)) is UpdateClaim.DONE
    assert store.claim_update(42, "new", NOW, NOW) is UpdateClaim.CLAIMED


def test_failed_updates_are_kept_for_the_staff_report_until_the_retention_period(
    store: Store, database: Engine
) -> None:
    for update_id, failed in ((51, False), (52, True)):
        store.claim_update(update_id, "w", NOW, NOW)
        store.finish_update(update_id, "w", failed=failed)
    purge(database, NOW + dt.timedelta(days=3), days=30)
    with database.connect() as connection:
        kept = connection.execute(text("SELECT update_id FROM processed_updates")).scalars()
        assert list(kept) == [52]  # a done one is not needed after Telegram's day of retries
    purge(database, NOW + dt.timedelta(days=31), days=30)
    with database.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM processed_updates")).scalar() == 0
