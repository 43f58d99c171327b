"""The `migrant-bot` command line: the JSON contract of `ask`, batches, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import BadSettings, load_settings

KEYS = {
    "text", "language", "intent", "confidence", "answer", "suggestions", "handoff", "danger",
}  # fmt: skip


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_ask_json_prints_one_object_with_the_contract_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "--json", "cbp", "one", "sigue", "funcionando?"]) == 0
    [result] = _json_lines(capsys)
    assert set(result) == KEYS
    assert result["intent"] == "cbp_one_status" and result["language"] == "es"
    assert 0 < result["confidence"] <= 1 and "2025" in result["answer"]
    assert result["handoff"] is False


def test_ask_json_with_nothing_matched_has_null_intent_and_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "--json", "--lang", "en", "best pizza in town"]) == 0
    [result] = _json_lines(capsys)
    assert result["intent"] is None and result["answer"] is None
    assert result["language"] == "en"


def test_ask_json_marks_danger_but_no_handoff_for_an_emergency(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ask` has no staff group: the numbers, never a promise that someone will write."""
    assert main(["ask", "--json", "--lang", "ht", "gen moun k ap swiv mwen, m pe anpil"]) == 0
    [result] = _json_lines(capsys)
    assert result["intent"] == "emergency" and result["danger"] is True
    assert result["handoff"] is False
    assert "911" in result["answer"]


def test_ask_batch_answers_every_line_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = [
        {"text": "hola"},
        {"text": "where is the huixtla center", "lang": "en"},
        {"text": "mesi anpil"},
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(q) for q in questions) + "\nnot json\n")
    assert main(["ask", "--batch", str(batch), "--json"]) == 0
    results = _json_lines(capsys)
    assert [r.get("text") for r in results[:3]] == [q["text"] for q in questions]
    assert [r["intent"] for r in results[:3]] == ["greeting", "center_huixtla", "thanks"]
    assert "error" in results[3]


def test_ask_plain_prints_the_answer_and_numbered_buttons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "--lang", "fr", "c est quoi cbp one"]) == 0
    out = capsys.readouterr().out
    assert "CBP" in out and "[1]" in out


def test_content_export_json_lists_intents_and_places(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "export", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["intents"]) >= 26 and len(document["places"]) == 4
    status = next(i for i in document["intents"] if i["id"] == "cbp_one_status")
    assert set(status["answer"]) == {"es", "en", "fr", "ht"} and status["examples"]["ht"]


def test_run_without_token_explains_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert main(["run"]) != 0
    assert "@BotFather" in capsys.readouterr().err


# -- settings: one plain line each, before anything loads -----------------------------------


@pytest.fixture
def no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `.env`, and loading content (or the engine) fails the test: bad settings must be
    reported before anything loads."""
    monkeypatch.chdir(Path(__file__).parent)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    def must_not_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("content was loaded before the settings were checked")

    monkeypatch.setattr("bot.cli.run.build_engine", must_not_load)
    monkeypatch.setattr("bot.cli.check.inspect_content", must_not_load)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HANDOFF_HOURS", "mon-sun 00:00-25:00", "25:00 is not a time of day"),
        ("HANDOFF_HOURS", "monday 9-5", 'write days and hours like "mon-fri 09:00-18:00'),
        ("TIMEZONE", "America/Mexico_Cty", 'no time zone "America/Mexico_Cty"'),
        ("RETENTION_DAYS", "abc", 'must be a whole number of days, e.g. 30 (got "abc")'),
        ("RETENTION_DAYS", "0", "the least is 1"),
        ("STAFF_LANGUAGE", "de", 'must be one of es, en, fr, ht (got "de")'),
        ("STAFF_CHAT_ID", "ops-group", "a whole number like -1001234567890"),
        ("STAFF_SEES_IDENTITY", "maybe", 'must be true or false (got "maybe")'),
        ("URGENT_REMINDER_MINUTES", "ten", "a whole number of minutes"),
        ("CONTENT_CHECK_SECONDS", "-1", "a number of seconds above 0"),
        ("WEBHOOK_PORT", "99999", "a port number from 1 to 65535"),
        ("WEBHOOK_URL", "bot.example.org/telegram", "the public https:// address"),
        ("WEBHOOK_PATH", "telegram", "a path starting with /"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot", "an http:// or https:// address"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR"),
        ("DATABASE_URL", "postgres://bot:hunter2@db/bot", 'a "postgres://" address'),
    ],
)
@pytest.mark.usefixtures("no_loading")
def test_a_bad_setting_is_one_line_naming_it_and_exit_code_2(
    variable: str,
    value: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    for command in (["check"], ["run"]):
        assert main(command) == 2
        captured = capsys.readouterr()
        [line] = captured.err.splitlines()
        assert line.startswith(f"migrant-bot: {variable}") and says in line, line
        assert captured.out == ""
    assert "hunter2" not in line  # a password in an address is never repeated


@pytest.mark.usefixtures("no_loading")
def test_every_bad_setting_is_reported_at_once_with_the_token_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:not-a-token")
    monkeypatch.setenv("RETENTION_DAYS", "abc")
    monkeypatch.setenv("STAFF_LANGUAGE", "de")
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    assert main(["run"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[1].rstrip(":") for line in lines] == [
        "TELEGRAM_BOT_TOKEN", "RETENTION_DAYS", "STAFF_LANGUAGE", "TIMEZONE",
    ]  # fmt: skip
    assert "123:not-a-token" not in "\n".join(lines)


@pytest.mark.usefixtures("no_loading")
def test_a_malformed_token_is_refused_before_anything_loads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not a token")
    for command in (["run"], ["run", "--webhook"]):
        assert main(command) == 2
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("migrant-bot: TELEGRAM_BOT_TOKEN does not look like a token")


@pytest.mark.usefixtures("no_loading")
def test_commands_without_telegram_do_not_mind_a_malformed_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not a token")
    assert load_settings().telegram_bot_token is not None
    with pytest.raises(BadSettings):
        load_settings(needs_token=True)


@pytest.mark.usefixtures("no_loading")
def test_a_setting_left_empty_takes_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """`STAFF_CHAT_ID=` in .env means "not set", not a malformed number."""
    for variable in ("STAFF_CHAT_ID", "RETENTION_DAYS", "TIMEZONE"):
        monkeypatch.setenv(variable, "")
    settings = load_settings()
    assert (settings.staff_chat_id, settings.retention_days) == (None, 30)
    assert settings.timezone == "America/Mexico_City"


@pytest.mark.parametrize(
    "hours", ["mon-sun 00:00-24:00", "fri-sat 22:00-06:00", "mon-fri 09:00-18:00; sat 10:00-14:00"]
)
def test_working_hours_to_midnight_or_overnight_are_valid_settings(hours: str) -> None:
    assert load_settings(_env_file=None, handoff_hours=hours).handoff_hours == hours


def test_ask_json_says_danger_when_the_numbers_come_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "--json", "--lang", "en", "i", "want", "to", "die"]) == 0
    assert main(["ask", "--json", "--lang", "en", "is", "cbp", "one", "still", "working"]) == 0
    danger, calm = _json_lines(capsys)
    assert danger["danger"] is True and "911" in danger["answer"]
    assert calm["danger"] is False


def test_terminal_chat_shows_a_whole_handoff_with_a_team_side(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.sqlite3'}")
    _typing(monkeypatch, "/human", "mi cita se cancelo, que hago",
            "/team Hola, soy Ana del equipo", "/team close")  # fmt: skip
    assert main(["chat", "--staff", "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert "[team] new conversation #1 · ES" in out
    assert "[team] #1 · ES" in out and "mi cita se cancelo" in out
    assert "Terminal operator: Hola, soy Ana del equipo" in out
    assert "La persona del equipo cerró esta conversación. ¿Le sirvió?" in out


def test_terminal_chat_without_a_team_never_parks_the_person(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.sqlite3'}")
    _typing(monkeypatch, "/human", "como saco una cita en cbp one")
    assert main(["chat", "--lang", "es"]) == 0
    out = capsys.readouterr().out
    assert "no hay una persona de nuestro equipo" in out
    assert "[team]" not in out
    assert out.count("CBP One") >= 2  # the question after /human was answered


def _typing(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    """The terminal reads these lines, then the end of input."""
    typed = iter(lines)

    def read(_prompt: str) -> str:
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", read)


def test_help_lists_every_command_without_loading_any_of_them() -> None:
    # A process of its own: this one has imported everything already.
    probe = (
        "import sys\n"
        "from bot.cli.main import COMMANDS, main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m.startswith('bot.cli.') and m != 'bot.cli.main']\n"
        "print(loaded, 'sqlalchemy' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[] False False"
    for name in (
        "ask",
        "chat",
        "check",
        "console",
        "content",
        "db",
        "eval",
        "purge",
        "report",
        "run",
    ):
        assert f"    {name}" in done.stdout


def test_ask_does_not_load_the_database_side() -> None:
    probe = (
        "import sys\n"
        "from bot.cli.main import main\n"
        "main(['ask', 'hola'])\n"
        "print('bot.storage.store' in sys.modules, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "False False"
