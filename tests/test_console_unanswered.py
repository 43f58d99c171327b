"""Unanswered questions in the console: grouped with the intents the bot hesitated between,
and one action that makes a group an example the bot then answers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.cli.ask import ask
from bot.cli.main import main
from bot.dialog.engine import Engine
from bot.reports.unanswered import unanswered_groups
from bot.storage.models import Person, UnansweredQuestion
from tests.console_support import Setup, console_setup, sign_in

# Today not understood: a shelter question no example is like.
QUESTION = "hay casilleros para guardar mochila"


@pytest.fixture
def setup(tmp_path: Path, engine: Engine) -> Iterator[Setup]:
    with console_setup(tmp_path, engine) as setup:
        now = dt.datetime.now(dt.UTC)
        with Session(setup.database) as session, session.begin():
            session.add(Person(user_id=1, language="es", first_seen=now, last_seen=now))
            session.flush()
            for text in (QUESTION, QUESTION + "?", "donde venden chanclas"):
                session.add(UnansweredQuestion(user_id=1, at=now, language="es", text=text))
        yield setup


def test_groups_show_their_count_and_the_intents_the_bot_hesitated_between(setup: Setup) -> None:
    sign_in(setup)
    page = setup.client.get("/unanswered").text
    groups = re.findall(r'<div class="card" data-testid="group">(.*?)</form>', page, re.S)
    assert len(groups) == 2
    assert "<b>2×</b>" in groups[0] and QUESTION in groups[0]
    assert "The bot hesitated between:" in groups[0] and "%" in groups[0]
    assert 'name="intent"' in groups[0] and 'value="out_of_scope"' in groups[0]


def test_an_unknown_intent_is_refused(setup: Setup) -> None:
    token = sign_in(setup)
    response = setup.client.post(
        "/unanswered/add",
        data={"csrf_token": token, "example": QUESTION, "language": "es", "intent": "nope"},
    )
    assert response.status_code == 400


def test_adding_a_question_as_an_example_teaches_the_bot_and_clears_the_group(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = ask(setup.live.engine, QUESTION, None).understanding
    assert before is not None and before.intent is None
    token = sign_in(setup, "Ana")
    response = setup.client.post(
        "/unanswered/add",
        data={
            "csrf_token": token,
            "example": QUESTION,
            "language": "es",
            "intent": "center_services",
            "days": "30",
        },
    )
    assert response.status_code == 200, response.text
    added = re.search(r'data-testid="added">(.*?)</div>', response.text, re.S)
    assert added and "content/intents/care_centers.yaml:" in added.group(1)
    assert "2 questions done" in added.group(1)
    assert "The bot now says — answer: center_services" in added.group(1)
    left = unanswered_groups(setup.database, dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    assert [g.example for g in left] == ["donde venden chanclas"]
    # The bot (here `migrant-bot ask`, reading the same folder) answers it now.
    monkeypatch.setenv("CONTENT_DIR", str(setup.content))
    monkeypatch.setenv("BUTTON_SECRET", "test-secret")
    assert main(["ask", "--json", QUESTION]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert asked["intent"] == "center_services"
    assert "Ana" in setup.client.get("/changes").text
