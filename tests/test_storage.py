"""Storage: state survives between messages, /forget leaves nothing, migrations apply."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from bot.conversation import Conversation
from bot.dialog.events import ButtonEvent, Command, CommandEvent, Incoming, TextEvent
from bot.storage.database import make_engine, upgrade
from bot.storage.models import Base
from bot.storage.store import NON_PERSONAL_TABLES, Store


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
