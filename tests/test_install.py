"""Installable anywhere: the wheel carries the content and the catalogs, and every path
starts from the home folder, never from the current directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import HOME_VARIABLE, PROJECT_ROOT, Settings, home


def test_the_wheel_carries_the_content_the_catalogs_and_the_example_settings(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        cwd=PROJECT_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("migrant_bot-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("bot/shipped/")}
    expected = {
        f"bot/shipped/{p.relative_to(PROJECT_ROOT)}"
        for folder in ("content", "locales")
        for p in (PROJECT_ROOT / folder).rglob("*")
        if p.is_file() and p.suffix != ".mo"
    }
    assert shipped == expected | {"bot/shipped/env.example"}


def test_relative_paths_and_env_are_taken_in_the_home_folder_whatever_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    bot_home.mkdir()
    elsewhere.mkdir()
    (bot_home / ".env").write_text("CONTENT_DIR=my-content\nDATABASE_URL=sqlite:///db/b.sqlite3\n")
    (elsewhere / ".env").write_text("CONTENT_DIR=wrong\n")
    monkeypatch.setenv(HOME_VARIABLE, str(bot_home))
    for variable in ("CONTENT_DIR", "DATABASE_URL", "LOCALES_DIR", "MODEL_CACHE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(elsewhere)

    settings = Settings()
    assert home() == bot_home
    assert settings.content_dir == bot_home / "my-content"
    assert settings.database_url == f"sqlite:///{bot_home / 'db' / 'b.sqlite3'}"
    assert settings.model_cache_dir == bot_home / "data" / "models"
    assert settings.locales_dir == PROJECT_ROOT / "locales"  # none in the home: the shipped


def test_in_the_source_checkout_the_home_is_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_VARIABLE, raising=False)
    monkeypatch.chdir("/")
    settings = Settings(_env_file=None)
    assert settings.content_dir == PROJECT_ROOT / "content"
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'data' / 'migrant-bot.sqlite3'}"


@pytest.mark.parametrize(
    "url",
    ["sqlite:///data/b.sqlite3", "sqlite:////tmp/b.sqlite3", "sqlite+pysqlite:///./db/../b.db"],
)
def test_a_plain_sqlite_file_is_read_as_sqlalchemy_reads_it(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    expected = parsed.set(database=str(home() / str(parsed.database)))
    settings = Settings(_env_file=None, database_url=url)
    assert settings.database_url == expected.render_as_string(hide_password=False)


def test_settings_with_a_plain_sqlite_file_do_not_import_sqlalchemy() -> None:
    script = (
        "import sys\n"
        "from bot.config import Settings\n"
        "Settings(_env_file=None, database_url='sqlite:///data/b.sqlite3')\n"
        "assert 'sqlalchemy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_init_lays_out_a_home_that_the_bot_then_answers_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "bot-home"
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv(HOME_VARIABLE, str(folder))
    # The checkout's trained models (a new home would train them again, for seconds).
    monkeypatch.setenv("MODEL_CACHE_DIR", str(PROJECT_ROOT / "data" / "models"))
    assert main(["init", str(folder)]) == 0
    assert (folder / ".env").stat().st_mode & 0o077 == 0
    assert (folder / "content" / "intents").is_dir() and (folder / "data").is_dir()
    assert Settings().content_dir == folder / "content"
    capsys.readouterr()
    assert main(["ask", "hola"]) == 0
    assert "Hola" in capsys.readouterr().out
