"""`migrant-bot check` names each broken-content problem with its file and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.content.loader import ContentError, inspect_content, load_catalog
from bot.content.problems import Severity, errors


def _edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replaces `old` in the file and returns the (1-based) line where it was."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def _line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def test_shipped_content_has_no_errors() -> None:
    _catalog, problems = inspect_content(Path("content"))
    assert errors(problems) == []


def test_deleted_translation_is_named_with_file_line_and_language(content_copy: Path) -> None:
    file = content_copy / "intents" / "asylum.yaml"
    text = file.read_text(encoding="utf-8")
    start = text.index("    ht: |-", text.index("  answer:"))
    end = text.index("  examples:", start)
    file.write_text(text[:start] + text[end:], encoding="utf-8")
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.file.endswith("intents/asylum.yaml")
    assert problem.field == "asylum_mexico.answer.ht"
    assert problem.line == _line_of(file, "  answer:")
    assert "Haitian Creole answer is missing" in problem.message


def test_misspelled_related_id_suggests_the_right_one(content_copy: Path) -> None:
    file = content_copy / "intents" / "cbp_one.yaml"
    line = _edit(file, "  - asylum_mexico\n", "  - asylum_mexco\n")
    [problem] = errors(inspect_content(content_copy)[1])
    assert (problem.file.endswith("intents/cbp_one.yaml"), problem.line) == (True, line)
    assert 'did you mean "asylum_mexico"' in problem.message


def test_malformed_yaml_points_at_the_line(content_copy: Path) -> None:
    file = content_copy / "intents" / "safe_transfer.yaml"
    line = _edit(file, "  topic: moving\n", '  topic: "moving\n')
    problems = errors(inspect_content(content_copy)[1])
    broken = [p for p in problems if p.file.endswith("safe_transfer.yaml")]
    assert len(broken) == 1
    assert line - 1 <= broken[0].line <= line + 3
    assert "cannot be read" in broken[0].message


def test_duplicate_id_names_both_places(content_copy: Path) -> None:
    file = content_copy / "intents" / "safe_transfer.yaml"
    line = _edit(file, "- id: safe_transfer_request", "- id: cbp_one_status")
    problems = errors(inspect_content(content_copy)[1])
    duplicate = [p for p in problems if "already used" in p.message]
    assert duplicate and duplicate[0].line == line
    assert "cbp_one.yaml" in duplicate[0].message


def test_bad_coordinates_are_explained(content_copy: Path) -> None:
    file = content_copy / "places" / "chiapas.yaml"
    line = _edit(file, "latitude: 14.905", "latitude: 149.05")
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.line == line and problem.field == "cms_tapachula.latitude"
    assert "out of range" in problem.message


def test_too_long_answer_is_an_error(content_copy: Path) -> None:
    file = content_copy / "intents" / "asylum.yaml"
    _edit(file, "    en: |-\n", "    en: |-\n      " + "very long answer " * 50 + "\n")
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.field == "asylum_mexico.answer.en" and "shorten it" in problem.message


def test_old_review_date_is_a_warning_only(content_copy: Path) -> None:
    later = dt.date(2026, 11, 27) + dt.timedelta(days=400)
    catalog, problems = inspect_content(content_copy, today=later)
    assert catalog is not None
    stale = [p for p in problems if p.field.endswith(".reviewed")]
    assert stale and all(p.severity is Severity.WARNING for p in stale)


def test_a_place_with_an_unknown_kind_or_status_names_the_choices(content_copy: Path) -> None:
    file = content_copy / "places" / "chiapas.yaml"
    line = _edit(file, "status: open", "status: abierto")
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.line == line and "'open', 'closed' or 'not_confirmed'" in problem.message


def test_unknown_field_and_bad_date_are_plain_words(content_copy: Path) -> None:
    file = content_copy / "intents" / "asylum.yaml"
    _edit(
        file, "  urgent: false\n", "  urgnet: false\n"
    ) if "urgent: false" in file.read_text() else _edit(
        file, "  topic: asylum\n", "  topic: asylum\n  urgnet: false\n"
    )
    _edit(file, "reviewed: 2026-12-02", "reviewed: 02/12/2026")
    messages = [p.message for p in errors(inspect_content(content_copy)[1])]
    assert any("not a field we know" in m for m in messages)
    assert any("2026-11-27" in m for m in messages)


def test_broken_content_is_never_loaded(content_copy: Path) -> None:
    _edit(content_copy / "intents" / "cbp_one.yaml", "  - asylum_mexico\n", "  - nothing_here\n")
    with pytest.raises(ContentError):
        load_catalog(content_copy)


def test_check_command_prints_file_line_field_and_exits_1(
    content_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(content_copy / "intents" / "cbp_one.yaml", "  - asylum_mexico\n", "  - asylum_mexco\n")
    (content_copy / "intents" / "broken.yaml").write_text("intents:\n  - id: [unclosed\n")
    assert main(["check", str(content_copy)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    assert re.search(r"content/intents/cbp_one\.yaml:\d+: cbp_one_\w+\.related: ", out)
    assert re.search(r"content/intents/broken\.yaml:\d+: the file cannot be read", out)


def test_check_command_says_ok_on_good_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "content OK" in capsys.readouterr().out


@pytest.mark.parametrize("word", ["no", "on", "yes", "off", "No", "OFF"])
def test_an_unquoted_yes_no_word_is_read_as_the_word_and_the_editor_told_to_quote_it(
    content_copy: Path, word: str
) -> None:
    """YAML 1.1 reads `- no` as false; it is an example phrase, so the loader keeps the word
    and warns (another YAML tool would still read it as false)."""
    file = content_copy / "intents" / "general.yaml"
    line = _edit(file, "    - hola\n", f"    - {word}\n    - hola\n")
    catalog, problems = inspect_content(content_copy)
    assert errors(problems) == [] and catalog is not None
    assert word in catalog.intents["greeting"].examples["es"]
    [warning] = [p for p in problems if "yes/no" in p.message]
    assert (warning.file.endswith("intents/general.yaml"), warning.line) == (True, line)
    assert str(warning).endswith(
        f'greeting.examples.es: warning: "{word}" was read as a yes/no value; '
        f'put it in quotes: "{word}"'
    )


def test_y_n_quoted_words_and_yes_no_fields_load_without_a_warning(content_copy: Path) -> None:
    file = content_copy / "intents" / "general.yaml"
    _edit(file, "    - hola\n", '    - y\n    - n\n    - "no"\n    - hola\n')
    _edit(file, "  small_talk: true\n", "  small_talk: yes\n")
    catalog, problems = inspect_content(content_copy)
    assert catalog is not None and not [p for p in problems if "yes/no" in p.message]
    greeting = catalog.intents["greeting"]
    assert {"y", "n", "no"} <= set(greeting.examples["es"]) and greeting.small_talk is True


def test_a_yes_no_word_where_a_number_goes_is_one_problem_not_two(content_copy: Path) -> None:
    _edit(content_copy / "places" / "chiapas.yaml", "latitude: 14.905", "latitude: no")
    problems = inspect_content(content_copy)[1]
    [problem] = [p for p in problems if "latitude" in p.field]
    assert problem.severity is Severity.ERROR and "number" in problem.message


def test_an_intent_that_fails_to_load_is_not_also_reported_missing_or_unknown(
    content_copy: Path,
) -> None:
    """center_tapachula is required, and a topic, a place and other intents refer to it:
    its one mistake is the one problem."""
    file = content_copy / "intents" / "care_centers.yaml"
    text = file.read_text(encoding="utf-8")
    at = text.index("  reviewed: ", text.index("- id: center_tapachula"))
    file.write_text(text[:at] + text[at:].replace("2026-12-02", "last week", 1), "utf-8")
    [problem] = errors(inspect_content(content_copy)[1])
    assert (problem.field, problem.line) == (
        "center_tapachula.reviewed",
        _line_of(file, "last week"),
    )


def test_an_unreadable_intents_file_is_the_only_problem(content_copy: Path) -> None:
    """general.yaml holds required intents that topics and other intents refer to."""
    file = content_copy / "intents" / "general.yaml"
    _edit(file, "- id: greeting\n", '- id: "greeting\n')
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.file.endswith("general.yaml") and "cannot be read" in problem.message


def test_a_lexicon_that_fails_to_load_is_not_also_reported_missing(content_copy: Path) -> None:
    _edit(content_copy / "lexicon" / "fr.yaml", "replacements:", "replacement:")
    [problem] = errors(inspect_content(content_copy)[1])
    assert problem.file.endswith("lexicon/fr.yaml") and "not a field we know" in problem.message


def test_a_danger_expression_the_matcher_cannot_use_is_named_with_its_line(
    content_copy: Path,
) -> None:
    danger = content_copy / "danger.yaml"
    text = danger.read_text(encoding="utf-8")
    first = re.search(r"\n    es:\n    - (.+)\n", text)
    assert first is not None
    line = _edit(danger, f"    - {first.group(1)}\n", "    - Mat* ..\n")
    problems = errors(inspect_content(content_copy)[1])
    assert [(p.file, p.line) for p in problems] == [("content/danger.yaml", line)]
    assert "lowercase without accents" in problems[0].message or ".." in problems[0].message


def test_a_past_danger_pattern_the_matcher_cannot_use_is_named_with_its_line(
    content_copy: Path,
) -> None:
    danger = content_copy / "danger.yaml"
    text = danger.read_text(encoding="utf-8")
    first = re.search(r"\npast:\n  es:\n  - (.+)\n", text)
    assert first is not None
    line = _edit(danger, f"  - {first.group(1)}\n", "  - .. hace\n")
    problems = errors(inspect_content(content_copy)[1])
    assert [(p.file, p.line) for p in problems] == [("content/danger.yaml", line)]
    assert ".." in problems[0].message


def test_a_danger_kind_without_a_language_is_an_error(content_copy: Path) -> None:
    danger = content_copy / "danger.yaml"
    text = danger.read_text(encoding="utf-8")
    start = text.index("\n    ht:\n")
    end = text.index("\n- id:", start) if "\n- id:" in text[start:] else len(text)
    danger.write_text(text[:start] + text[end:], encoding="utf-8")
    messages = [p.message for p in errors(inspect_content(content_copy)[1])]
    assert any("no Haitian Creole expressions" in m for m in messages), messages


def test_the_danger_lists_are_required(content_copy: Path) -> None:
    (content_copy / "danger.yaml").unlink()
    problems = errors(inspect_content(content_copy)[1])
    assert [p.file for p in problems] == ["content/danger.yaml"]
