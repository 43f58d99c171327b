"""Engine creation and schema upgrades (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"
_DOWN_REVISION = re.compile(r'^down_revision = "(\w+)"', re.MULTILINE)


def _sqlite_datetime(value: dt.datetime) -> str:
    """As SQLAlchemy's DateTime stores it on SQLite: the clock time, the zone dropped."""
    return value.replace(tzinfo=None).isoformat(" ", timespec="microseconds")


# A date or datetime bound without a SQLAlchemy type (a plain `text()` parameter) reaches
# sqlite3 as is, whose default adapters for them are deprecated since Python 3.12. These
# explicit ones store the same text as SQLAlchemy's Date and DateTime columns do.
sqlite3.register_adapter(dt.datetime, _sqlite_datetime)
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def make_engine(url: str) -> Engine:
    """An engine; for SQLite the folder is created and foreign keys are enforced."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL still survives the process dying at any point (a commit is in the
    # log before it returns); only the machine losing power may undo the last commits.
    # FULL would wait for the disk at every commit: several per message.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the schema to `revision` (Alembic), on the engine's own connection. Alembic
    (and the template engine it imports, ~0.5 s and 10 MB) is loaded only when the schema is
    not at the latest revision already, which is every start but the first after an update."""
    if revision == "head" and _current(engine) == _head():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _head() -> str:
    """The latest revision: the one no migration names as its `down_revision` (the
    migrations are a single line, 0001 to the latest, each named after its revision)."""
    versions = sorted(p for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    below = {m.group(1) for p in versions if (m := _DOWN_REVISION.search(p.read_text()))}
    heads = [p.name.split("_", 1)[0] for p in versions if p.name.split("_", 1)[0] not in below]
    return heads[0] if len(heads) == 1 else ""  # several heads: let Alembic decide


def _current(engine: Engine) -> str | None:
    """The schema's revision, as Alembic recorded it; None for a database without one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return versions[0][0] if len(versions) == 1 else None
