"""The `migrant-bot` command line: the JSON contract of `ask`, batches, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main

KEYS = {"text", "language", "intent", "confidence", "answer", "suggestions", "handoff"}


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


def test_ask_json_marks_handoff_for_an_emergency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--lang", "ht", "gen moun k ap swiv mwen, m pe anpil"]) == 0
    [result] = _json_lines(capsys)
    assert result["intent"] == "emergency" and result["handoff"] is True
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
    assert len(document["intents"]) >= 20 and len(document["places"]) == 2
    status = next(i for i in document["intents"] if i["id"] == "cbp_one_status")
    assert set(status["answer"]) == {"es", "en", "fr", "ht"} and status["examples"]["ht"]


def test_run_without_token_explains_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert main(["run"]) != 0
    assert "@BotFather" in capsys.readouterr().err
