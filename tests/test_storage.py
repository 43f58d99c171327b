"""Storage: state survives between messages, /forget leaves nothing, migrations apply."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from bot.conversation import Conversation
from bot.dialog.events import (
    ButtonEvent,
    Command,
    CommandEvent,
    Incoming,
    Outcome,
    TextEvent,
    UserState,
)
from bot.storage.database import make_engine, upgrade
from bot.storage.models import Base
from bot.storage.store import NON_PERSONAL_TABLES, Store, UpdateClaim


def _say(conversation: Conversation, user_id: int, event) -> None:  # type: ignore[no-untyped-def]
    return conversation.handle(Incoming(user_id, event, "en"))


def test_state_and_events_round_trip(conversation: Conversation, store: Store) -> None:
    _say(conversation, 7, TextEvent("mwen bezwen konnen kijan pou m jwenn transfè a"))
    state = store.load_state(7)
    assert state.language == "ht" and not state.language_chosen
    _say(conversation, 7, TextEvent("qwertyuiop zxcvbnm"))
    with store.session() as session:
        rows = session.execute(text("SELECT language, text FROM unanswered_questions")).all()
    assert [tuple(r) for r in rows] == [("ht", "qwertyuiop zxcvbnm")]


def test_forget_leaves_no_row_about_the_person_in_any_table(
    conversation: Conversation, store: Store
) -> None:
    _say(conversation, 7, TextEvent("hello"))
    _say(conversation, 7, TextEvent("zzzz qqqq unanswerable"))
    _say(conversation, 8, TextEvent("hello"))
    outcome = _say(conversation, 7, CommandEvent(Command.FORGET))
    yes = outcome.replies[0].buttons[0][0].data
    _say(conversation, 7, ButtonEvent(yes))
    with store.session() as session:
        non_personal = {t.__tablename__ for t in NON_PERSONAL_TABLES}
        for table in Base.metadata.sorted_tables:
            if table.name in non_personal:
                continue
            columns = {c.name for c in table.columns}
            assert "user_id" in columns, f"{table.name} must be covered by /forget"
            rows = session.execute(
                text(f"SELECT COUNT(*) FROM {table.name} WHERE user_id = :u"), {"u": 7}
            ).scalar_one()
            assert rows == 0, table.name
        assert session.execute(text("SELECT COUNT(*) FROM people")).scalar_one() == 1
    assert store.load_state(7).language is None


def test_upgrade_creates_every_model_table_and_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'db.sqlite3'}")
    try:
        upgrade(engine)
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_a_start_on_the_latest_schema_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    probe = (
        "import sys\n"
        "from bot.storage.database import make_engine, upgrade\n"
        f"upgrade(make_engine({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]  # migrated, then at head


def test_the_migrations_build_the_schema_the_models_describe(store: Store) -> None:
    with store.session() as session:
        differences = compare_metadata(
            MigrationContext.configure(session.connection()), Base.metadata
        )
    assert differences == []


def test_text_no_database_could_store_is_stored_without_those_characters(
    conversation: Conversation, store: Store
) -> None:
    # PostgreSQL refuses U+0000; a lone surrogate encodes to no UTF-8: both once stalled
    # the update (retried forever, nobody behind it answered).
    _say(conversation, 7, TextEvent("zzzz\x00 qqqq \ud83d unanswerable"))
    with store.session() as session:
        stored = session.execute(text("SELECT text FROM conversation_events")).scalars().all()
        unanswered = session.execute(text("SELECT text FROM unanswered_questions")).scalar_one()
    assert stored == ["zzzz qqqq  unanswerable"]
    assert unanswered == "zzzz qqqq  unanswerable"


def test_an_operator_name_as_long_as_telegram_allows_is_stored_and_a_longer_one_cut(
    conversation: Conversation,
) -> None:
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    longest = "Á" * 64 + " " + "B" * 64  # first and last name at Telegram's limit
    for user_id, name in ((7, longest), (8, longest + " and more")):
        _say(conversation, user_id, TextEvent("hello"))
        ticket = conversation.desk.open(user_id, "en", "asked", False, now).ticket
        conversation.desk.note_operator_reply(ticket.id, 99, name, now)
        stored = conversation.desk.get(ticket.id)
        assert stored is not None and stored.operator_name == longest


def test_a_persons_first_two_messages_stored_at_once_do_not_collide(
    store: Store, database: Engine
) -> None:
    """Two webhook workers, one new person: the second first row must wait, not fail (an
    integrity error is never retried)."""
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    outcome = Outcome(replies=(), state=UserState(user_id=7, language="es"))
    other = database.connect()
    other.begin()
    other.execute(
        text("INSERT INTO people (user_id, language_chosen, first_seen, last_seen) "
             "VALUES (7, false, :at, :at)"),
        {"at": now},
    )  # fmt: skip
    second = threading.Thread(target=store.record, args=(7, now, "text", "hola", outcome))
    failures: list[BaseException] = []
    threading.excepthook = lambda args: failures.append(args.exc_value)  # type: ignore[assignment]
    try:
        second.start()
        second.join(timeout=0.5)  # it waits for the first worker's row
        other.commit()
        second.join(timeout=10)
    finally:
        other.close()
        threading.excepthook = threading.__excepthook__
    assert not failures
    assert store.load_state(7).language == "es"


def test_claiming_an_update_reads_the_persons_state_with_it(store: Store) -> None:
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    assert store.claim_with_state(1, "a", now, now, 7) == (
        UpdateClaim.CLAIMED, UserState(user_id=7)
    )  # fmt: skip
    store.record(7, now, "text", "hola", Outcome(replies=(), state=UserState(7, language="es")))
    claim, state = store.claim_with_state(2, "a", now, now, 7)
    assert claim is UpdateClaim.CLAIMED and state is not None and state.language == "es"
    assert store.claim_with_state(2, "b", now, now, 7) == (UpdateClaim.BUSY, None)
