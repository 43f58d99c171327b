"""The console's pages, in process: dashboard charts, answers and their editing, trying a
question, notices and the record of changes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.dialog.engine import Engine
from tests.console_support import Setup, console_setup, seed_usage, sign_in


@pytest.fixture
def setup(tmp_path: Path, engine: Engine) -> Iterator[Setup]:
    with console_setup(tmp_path, engine) as setup:
        yield setup


def test_the_dashboard_charts_the_period_without_any_message_text(setup: Setup) -> None:
    seed_usage(setup.database, dt.datetime.now(dt.UTC))
    sign_in(setup)
    page = setup.client.get("/?days=7").text
    assert page.count("<svg") == 6
    for caption in (
        "Messages per day, by language",
        "Top intents",
        "Handoffs opened",
        "Ratings after a handoff",
        "answered and unanswered",
    ):
        assert caption in page
    assert "asylum_mexico: 2" in page  # top intents
    assert "👍: 1" in page
    assert "<b>4</b><span>Messages</span>" in page and "<b>3</b><span>Conversations" in page
    assert "<b>50%</b><span>Unanswered" in page  # two of four texts
    assert "<b>5 min</b><span>First human reply p50" in page
    assert "secret words" not in page and "dolares" not in page


def test_the_dashboard_period_is_chosen_and_unknown_periods_fall_back(setup: Setup) -> None:
    sign_in(setup)
    assert len(re.findall(r"<title>[^<]*: 0</title>", setup.client.get("/?days=30").text)) == 0
    thirty = setup.client.get("/?days=30").text
    assert 'href="/?days=30" class="here"' in thirty
    assert 'href="/?days=7" class="here"' in setup.client.get("/?days=12345").text


def test_answers_list_stale_ones_first(setup: Setup) -> None:
    sign_in(setup)
    page = setup.client.get("/answers").text
    rows = re.findall(r'<tr data-testid="intent-row">.*?</tr>', page, re.S)
    assert len(rows) > 20
    stale = ['class="stale"' in row for row in rows]
    assert stale == sorted(stale, reverse=True)  # every stale row before every fresh one


def test_an_answer_page_shows_the_four_languages_as_telegram_shows_them(setup: Setup) -> None:
    sign_in(setup)
    page = setup.client.get("/answers/asylum_after_applying").text
    assert page.count('data-testid="telegram-preview"') == 4
    assert "Apre ou fin mande refij nan COMAR" in page
    assert "⬅️ Menu" in page or "Menú" in page  # the answer's buttons
    assert "Information reviewed in" in page  # the engine's own footer


def test_a_preview_shows_the_edited_text_and_its_problems_before_saving(setup: Setup) -> None:
    token = sign_in(setup)
    before = (setup.content / "intents" / "papers.yaml").read_text()
    response = setup.client.post(
        "/answers/asylum_after_applying/ht",
        data={"csrf_token": token, "answer": "Bonjou {non}", "action": "preview"},
    )
    assert response.status_code == 200
    assert "content/intents/papers.yaml:92" in response.text
    assert "is not something the bot can fill in" in response.text
    assert (setup.content / "intents" / "papers.yaml").read_text() == before
    fine = setup.client.post(
        "/answers/asylum_after_applying/ht",
        data={"csrf_token": token, "answer": "Nouvo tèks la", "action": "preview"},
    )
    assert 'data-testid="no-problems"' in fine.text
    assert '<div class="bubble">Nouvo tèks la' in fine.text


def test_broken_content_is_refused_and_the_file_stays(setup: Setup) -> None:
    token = sign_in(setup)
    before = (setup.content / "intents" / "papers.yaml").read_text()
    response = setup.client.post(
        "/answers/asylum_after_applying/ht",
        data={"csrf_token": token, "answer": "Bonjou {non}", "action": "save"},
    )
    assert response.status_code == 422 and 'data-testid="refused"' in response.text
    assert (setup.content / "intents" / "papers.yaml").read_text() == before
    assert "edit answer" not in setup.client.get("/changes").text


def test_a_saved_answer_is_written_in_place_served_and_recorded(setup: Setup) -> None:
    token = sign_in(setup, "Jean")
    path = setup.content / "intents" / "papers.yaml"
    before = path.read_text().split("\n")
    response = setup.client.post(
        "/answers/asylum_after_applying/ht",
        data={"csrf_token": token, "answer": "Premye liy\nDezyèm liy", "action": "save"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = path.read_text().split("\n")
    assert "      Premye liy" in after and "      Dezyèm liy" in after
    assert len(after) == len(before) - 5  # seven lines became two; nothing else moved
    assert before[:91] == after[:91]  # comments and everything before stay as they were
    assert setup.live.engine.answer_text("asylum_after_applying", "ht").startswith("Premye liy")
    changes = setup.client.get("/changes").text
    assert "Jean" in changes and "content/intents/papers.yaml:92" in changes


def test_mark_reviewed_sets_todays_date(setup: Setup) -> None:
    token = sign_in(setup)
    response = setup.client.post(
        "/answers/asylum_after_applying/reviewed",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    today = dt.datetime.now(ZoneInfo(setup.settings.timezone)).date()  # the NGO's day
    text = (setup.content / "intents" / "papers.yaml").read_text()
    assert f"\n  reviewed: {today.isoformat()}\n  answer:" in text
    assert setup.live.engine.catalog.intents["asylum_after_applying"].reviewed == today


def test_unknown_intents_and_languages_are_not_found(setup: Setup) -> None:
    sign_in(setup)
    assert setup.client.get("/answers/nope").status_code == 404
    assert setup.client.get("/answers/asylum_after_applying/de").status_code == 404


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("ya aplique en comar y ahora que", "answer: asylum_after_applying"),
        ("me quieren matar", "danger"),
        ("donde puedo comprar unos zapatos", "not understood"),
    ],
)
def test_trying_a_question_shows_language_ranking_decision_and_reply(
    setup: Setup, text: str, decision: str
) -> None:
    sign_in(setup)
    page = setup.client.get("/try", params={"text": text}).text
    found = re.search(r'data-testid="decision">([^<]*)<', page)
    assert found and found.group(1).startswith(decision)
    assert "Language: <b>" in page and 'data-testid="telegram-preview"' in page


def test_a_notice_is_created_then_ended(setup: Setup) -> None:
    token = sign_in(setup)
    today = dt.date.today()
    response = setup.client.post(
        "/notices/add",
        data={
            "csrf_token": token,
            "id": "comar_closed",
            "text_es": "La COMAR cierra.",
            "text_en": "COMAR is closed.",
            "text_fr": "La COMAR est fermée.",
            "text_ht": "COMAR fèmen.",
            "concerns": "asylum_mexico",
            "from": (today - dt.timedelta(days=2)).isoformat(),
            "until": (today + dt.timedelta(days=5)).isoformat(),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "COMAR is closed." in setup.live.engine.answer_text("asylum_mexico", "en")  # type: ignore[operator]
    assert "shown now" in setup.client.get("/notices").text
    ended = setup.client.post(
        "/notices/comar_closed/end", data={"csrf_token": token}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert "COMAR is closed." not in setup.live.engine.answer_text("asylum_mexico", "en")  # type: ignore[operator]
    assert "ended" in setup.client.get("/notices").text


def test_a_notice_the_check_refuses_is_not_written(setup: Setup) -> None:
    token = sign_in(setup)
    before = (setup.content / "notices.yaml").read_text()
    response = setup.client.post(
        "/notices/add",
        data={
            "csrf_token": token,
            "id": "bad",
            "text_es": "x",
            "text_en": "x",
            "text_fr": "x",
            "text_ht": "x",
            "concerns": "no_such_intent",
            "from": "2026-12-01",
            "until": "2026-12-05",
        },
    )
    assert response.status_code == 422 and "no_such_intent" in response.text
    assert (setup.content / "notices.yaml").read_text() == before


def test_two_editors_saving_at_once_both_keep_their_change(setup: Setup) -> None:
    import asyncio

    import httpx

    from tests.console_support import BASE, csrf_of, link

    async def both() -> None:
        app = setup.client.app
        editors = []
        for name in ("Ana", "Jean"):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
            await client.post(link(setup, name))
            editors.append((client, csrf_of((await client.get("/")).text)))
        saves = [
            client.post(
                f"/answers/asylum_after_applying/{lang}",
                data={"csrf_token": token, "answer": f"Nuevo {lang}", "action": "save"},
            )
            for (client, token), lang in zip(editors, ("es", "fr"), strict=True)
        ]
        assert [r.status_code for r in await asyncio.gather(*saves)] == [303, 303]
        for client, _ in editors:
            await client.aclose()

    asyncio.run(both())
    answers = setup.live.engine.catalog.intents["asylum_after_applying"].answer
    assert answers["es"] == "Nuevo es" and answers["fr"] == "Nuevo fr"
