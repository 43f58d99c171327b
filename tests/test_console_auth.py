"""Signing in to the console: one-time links, sessions in signed cookies, CSRF, rate limits,
and nothing reachable without a session."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.cli.main import main
from bot.console.auth import AttemptLimiter
from bot.console.web import COOKIE
from bot.dialog.engine import Engine
from bot.storage.models import ConsoleLoginLink, ConsoleSession
from tests.console_support import Setup, console_setup, link, sign_in

PAGES = [
    "/",
    "/?days=30",
    "/unanswered",
    "/answers",
    "/answers/asylum_after_applying",
    "/answers/asylum_after_applying/ht",
    "/try?text=hola",
    "/notices",
    "/changes",
]
FORMS = [
    "/logout",
    "/unanswered/add",
    "/answers/asylum_after_applying/ht",
    "/answers/asylum_after_applying/reviewed",
    "/notices/add",
    "/notices/x/end",
]


@pytest.fixture
def setup(tmp_path: Path, engine: Engine) -> Iterator[Setup]:
    with console_setup(tmp_path, engine) as setup:
        yield setup


@pytest.mark.parametrize("path", PAGES)
def test_no_page_is_shown_without_a_session(setup: Setup, path: str) -> None:
    response = setup.client.get(path)
    assert response.status_code == 401
    assert "/console" in response.text and "csrf_token" not in response.text


@pytest.mark.parametrize("path", FORMS)
def test_no_form_is_accepted_without_a_session(setup: Setup, path: str) -> None:
    response = setup.client.post(path, data={"csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 401


def test_a_link_signs_in_once_with_a_strict_httponly_cookie(setup: Setup) -> None:
    url = link(setup, "Ana")
    opened = setup.client.get(url)
    assert opened.status_code == 200 and 'method="post"' in opened.text  # a preview spends nothing
    response = setup.client.post(url, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http on the test server
    dashboard = setup.client.get("/")
    assert dashboard.status_code == 200 and "Ana" in dashboard.text
    setup.client.cookies.clear()
    again = setup.client.post(url, follow_redirects=False)
    assert again.status_code == 403 and "expired or was used" in again.text


def test_an_expired_link_is_refused(setup: Setup) -> None:
    url = link(setup)
    with Session(setup.database) as session, session.begin():
        session.execute(
            update(ConsoleLoginLink).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
    response = setup.client.post(url, follow_redirects=False)
    assert response.status_code == 403 and COOKIE not in response.headers.get("set-cookie", "")


def test_a_made_up_link_is_refused(setup: Setup) -> None:
    assert setup.client.post("/login/not-a-real-token").status_code == 403


def test_links_are_stored_hashed(setup: Setup) -> None:
    url = link(setup)
    token = url.rsplit("/", 1)[1]
    with Session(setup.database) as session:
        [stored] = session.scalars(
            __import__("sqlalchemy").select(ConsoleLoginLink.token_hash)
        ).all()
    assert token not in stored and len(stored) == 64


def test_behind_https_the_cookie_is_secure(tmp_path: Path, engine: Engine) -> None:
    with console_setup(tmp_path, engine) as setup:
        setup.client.base_url = setup.client.base_url.copy_with(scheme="https")
        response = setup.client.post(link(setup), follow_redirects=False)
    assert "secure" in response.headers["set-cookie"].lower()


def test_signing_out_ends_the_session_even_for_a_copied_cookie(setup: Setup) -> None:
    token = sign_in(setup)
    copied = setup.client.cookies.get(COOKIE)
    response = setup.client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    setup.client.cookies.set(COOKIE, copied or "")
    assert setup.client.get("/").status_code == 401


def test_an_expired_session_is_refused(setup: Setup) -> None:
    sign_in(setup)
    with Session(setup.database) as session, session.begin():
        session.execute(
            update(ConsoleSession).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        )
    assert setup.client.get("/").status_code == 401


def test_a_forged_cookie_is_refused(setup: Setup) -> None:
    sign_in(setup)
    cookie = setup.client.cookies.get(COOKIE) or ""
    setup.client.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert setup.client.get("/").status_code == 401


@pytest.mark.parametrize("path", FORMS)
def test_a_form_with_a_forged_csrf_token_changes_nothing(setup: Setup, path: str) -> None:
    sign_in(setup)
    before = {p: p.read_text() for p in setup.content.rglob("*.yaml")}
    response = setup.client.post(
        path,
        data={"csrf_token": "0" * 64, "answer": "x", "action": "save"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert {p: p.read_text() for p in setup.content.rglob("*.yaml")} == before
    assert setup.client.get("/").status_code == 200  # still signed in: /logout was refused


def test_failed_sign_in_attempts_are_rate_limited(setup: Setup) -> None:
    sign_in(setup)  # a success does not count
    setup.client.cookies.clear()
    for _ in range(10):
        assert setup.client.post("/login/guess").status_code == 403
    assert setup.client.post("/login/guess").status_code == 429
    assert setup.client.post(link(setup)).status_code == 429  # even a good link, for a while
    assert setup.client.get(link(setup)).status_code == 429


def test_the_limiter_forgets_failures_after_its_window() -> None:
    limiter = AttemptLimiter(limit=1, window=0.0)
    limiter.failed("a")
    assert not limiter.blocked("a")
    assert not AttemptLimiter(limit=1).blocked("b")


def test_pages_forbid_scripts_and_framing(setup: Setup) -> None:
    sign_in(setup)
    policy = setup.client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy


@pytest.mark.parametrize("path", PAGES)
def test_every_form_on_every_page_carries_the_csrf_token(setup: Setup, path: str) -> None:
    token = sign_in(setup)
    page = setup.client.get(path).text
    forms = re.findall(r'<form[^>]*method="post".*?</form>', page, re.S)
    assert forms  # at least "sign out"
    for form in forms:
        assert f'name="csrf_token" value="{token}"' in form


def test_the_command_line_prints_a_link_that_signs_in_once(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    monkeypatch.setenv("DATABASE_URL", setup.settings.database_url)
    monkeypatch.setenv("BUTTON_SECRET", "test-secret")
    monkeypatch.setenv("CONSOLE_URL", "https://console.example.org/")
    assert main(["console", "--login-link", "--as", "Marie"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("https://console.example.org/login/")
    path = printed.removeprefix("https://console.example.org")
    assert setup.client.post(path, follow_redirects=False).status_code == 303
    assert "Marie" in setup.client.get("/").text
