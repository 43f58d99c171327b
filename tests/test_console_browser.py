"""The console in a real browser (Debian's chromium, driven by Playwright): sign in with a
one-time link, see the charts, teach the bot an unanswered question, preview an edited
answer, and be refused without a session, with a spent link and with a forged CSRF token.

Skipped with the reason when no chromium is installed (`apt-get install chromium`); when
CI=true a missing chromium fails instead. With CONSOLE_SCREENSHOTS=docs/console the pages
are also photographed for docs/CONSOLE.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.console.app import create_app
from bot.console.auth import issue_login_link
from bot.dialog.engine import Engine
from bot.storage.models import ConsoleLoginLink
from tests.console_support import Setup, console_setup, seed_weeks

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# How the seeded group of unanswered questions begins.
QUESTION = "hay casilleros para guardar mochila"
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def _browser_or_skip():  # type: ignore[no-untyped-def]
    """Playwright's sync API with the system chromium, or a skip that says what is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is None and not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing = f"no chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests are required in CI: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[Setup]:
    """The console on a real port (uvicorn in a thread), on a seeded database."""
    import uvicorn

    port = _free_port()
    with console_setup(tmp_path_factory.mktemp("browser"), engine) as setup:
        setup.settings.console_url = f"http://127.0.0.1:{port}"
        seed_weeks(setup.database, dt.datetime.now(dt.UTC))
        app = create_app(setup.settings, setup.database, setup.live)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the console did not start"
        yield setup
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(served: Setup) -> Iterator[object]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A fresh phone-sized browser context (no cookies)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1.5)
    page = context.new_page()
    yield page
    context.close()


def _link(setup: Setup) -> str:
    return issue_login_link(setup.database, "Ana", setup.settings.console_address())


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page, setup: Setup) -> None:  # type: ignore[no-untyped-def]
    page.goto(_link(setup))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(setup.settings.console_address() + "/")


def test_without_a_session_nothing_is_shown(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    response = phone.goto(served.settings.console_address() + "/answers")
    assert response.status == 401
    assert "You are not signed in" in phone.content()
    assert phone.locator("nav").count() == 0
    _shoot(phone, "sign-in")


def test_signing_in_with_a_link_shows_the_dashboard_with_its_charts(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    link = _link(served)
    phone.goto(link)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(served.settings.console_address() + "/")
    assert phone.locator("figure.chart svg").count() == 6
    assert phone.locator("svg rect").count() > 20
    assert phone.get_by_text("Messages per day, by language").is_visible()
    _shoot(phone, "dashboard")
    phone.get_by_role("link", name="30 days").click()
    assert "days=30" in phone.url and phone.locator("figure.chart svg").count() == 6
    cookie = next(c for c in phone.context.cookies() if c["name"] == "console_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # The same link again, in another browser: spent.
    other = phone.context.browser.new_context()
    page = other.new_page()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    assert "expired or was used" in page.content()
    other.close()


def test_an_expired_link_is_refused(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    link = _link(served)
    with Session(served.database) as session, session.begin():
        session.execute(
            update(ConsoleLoginLink)
            .where(ConsoleLoginLink.used_at.is_(None))
            .values(expires_at=dt.datetime.now(dt.UTC))
        )
    phone.goto(link)
    phone.get_by_role("button", name="Sign in").click()
    assert "expired or was used" in phone.content()
    assert not [c for c in phone.context.cookies() if c["name"] == "console_session"]


def test_a_forged_csrf_token_is_refused(served: Setup, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    _sign_in(page, served)
    page.goto(served.settings.console_address() + "/answers/asylum_after_applying")
    before = (served.content / "intents" / "papers.yaml").read_text()
    page.locator('form[action$="/reviewed"] input[name="csrf_token"]').evaluate(
        "input => { input.value = 'forged' }"
    )
    page.get_by_role("button", name="Mark reviewed today").click()
    assert "did not come from the console" in page.content()
    assert (served.content / "intents" / "papers.yaml").read_text() == before
    context.close()


def test_an_unanswered_question_becomes_an_example_the_bot_answers(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    _sign_in(phone, served)
    phone.goto(served.settings.console_address() + "/unanswered")
    _shoot(phone, "unanswered")
    group = phone.locator('[data-testid="group"]', has_text=QUESTION).first
    example = group.locator('input[name="example"]').get_attribute("value") or ""
    assert example.startswith(QUESTION)
    group.locator('select[name="intent"]').select_option("center_services")
    # The save trains the classifier again before its page comes back: seconds, and more
    # than Playwright's 30 s default on a loaded machine.
    phone.set_default_navigation_timeout(180_000)
    group.get_by_role("button", name="Add as example").click(timeout=180_000)
    added = phone.locator('[data-testid="added"]')
    added.wait_for(timeout=180_000)
    assert "content/intents/care_centers.yaml:" in added.inner_text()
    assert phone.locator('[data-testid="group"]', has_text=QUESTION).count() == 0
    _shoot(phone, "unanswered-added")
    env = {**os.environ, "CONTENT_DIR": str(served.content), "BUTTON_SECRET": "test-secret"}
    asked = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", example],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=300,
        check=True,
    )
    assert json.loads(asked.stdout)["intent"] == "center_services"


def test_editing_an_answer_shows_the_telegram_preview(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    _sign_in(phone, served)
    phone.goto(served.settings.console_address() + "/answers")
    _shoot(phone, "answers")
    phone.goto(served.settings.console_address() + "/answers/asylum_after_applying")
    _shoot(phone, "answer")
    phone.goto(served.settings.console_address() + "/answers/asylum_after_applying/ht")
    phone.locator("textarea").fill("Apre ou fin mande refij nan COMAR, tann entèvyou a.")
    phone.get_by_role("button", name="Preview").click()
    bubble = phone.locator('[data-testid="telegram-preview"] .bubble').first
    assert bubble.inner_text().startswith("Apre ou fin mande refij nan COMAR, tann entèvyou a.")
    assert phone.locator('[data-testid="telegram-preview"] .key-button').count() >= 2
    assert phone.locator('[data-testid="no-problems"]').is_visible()
    _shoot(phone, "answer-edit")
    phone.locator("textarea").fill("Bonjou {non}")
    phone.get_by_role("button", name="Save").click()
    assert phone.locator('[data-testid="refused"]').is_visible()
    assert "is not something the bot can fill in" in phone.content()


def test_trying_a_question_and_the_other_pages(served: Setup, phone) -> None:  # type: ignore[no-untyped-def]
    _sign_in(phone, served)
    phone.goto(served.settings.console_address() + "/try")
    phone.locator("#text").fill("me quieren matar, ayuda")
    phone.get_by_role("button", name="Ask").click()
    assert phone.locator('[data-testid="decision"]').inner_text().startswith("danger")
    _shoot(phone, "try")
    phone.goto(served.settings.console_address() + "/notices")
    today = dt.date.today()
    for field, value in (
        ("#id", "comar_closed_holidays"),
        ("#text_es", "La COMAR cierra del 20 de diciembre al 5 de enero."),
        ("#text_en", "COMAR is closed from 20 December to 5 January."),
        ("#text_fr", "La COMAR est fermée du 20 décembre au 5 janvier."),
        ("#text_ht", "COMAR fèmen depi 20 desanm rive 5 janvye."),
        ("#concerns", "asylum_mexico"),
        ("#from", (today - dt.timedelta(days=1)).isoformat()),
        ("#until", (today + dt.timedelta(days=30)).isoformat()),
    ):
        phone.locator(field).fill(value)
    phone.get_by_role("button", name="Add notice").click()
    assert phone.locator('[data-testid="saved"]').is_visible()
    assert phone.locator('[data-testid="notice"]', has_text="shown now").count() == 1
    _shoot(phone, "notices")
    phone.goto(served.settings.console_address() + "/changes")
    assert "add notice" in phone.content()
    _shoot(phone, "changes")
    phone.get_by_role("button", name="Sign out").click()
    assert "You are not signed in" in phone.content()
    phone.goto(served.settings.console_address() + "/")
    assert "You are not signed in" in phone.content()
