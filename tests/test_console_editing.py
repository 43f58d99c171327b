"""Content changes from the console touch only what they change: comments, order, quoting and
wrapping of the rest of the file stay byte for byte."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from bot.console import editing

PAPERS = Path("intents") / "papers.yaml"


def _diff(before: str, after: str) -> tuple[list[str], list[str]]:
    old, new = before.split("\n"), after.split("\n")
    return [line for line in old if line not in new], [line for line in new if line not in old]


def test_an_example_is_appended_to_its_list_and_nothing_else_changes(content_copy: Path) -> None:
    before = (content_copy / PAPERS).read_text()
    edit = editing.add_example(content_copy, "asylum_after_applying", "es", 'mi caso: "ya" salio?')
    removed, added = _diff(before, edit.text)
    assert removed == [] and added == ["    - 'mi caso: \"ya\" salio?'"]
    assert edit.text.split("\n")[edit.line - 1] == added[0]  # the line the check will name
    assert editing.check(content_copy, edit).ok


def test_an_out_of_scope_example_goes_to_out_of_scope_yaml(content_copy: Path) -> None:
    edit = editing.add_example(content_copy, editing.OUT_OF_SCOPE, "ht", "kote m ka achte soulye")
    assert edit.path == content_copy / "out_of_scope.yaml"
    assert edit.text.split("\n")[edit.line - 1] == "  - kote m ka achte soulye"


def test_an_answer_is_replaced_as_a_literal_block(content_copy: Path) -> None:
    before = (content_copy / PAPERS).read_text()
    edit = editing.set_answer(content_copy, "asylum_after_applying", "ht", "Liy 1\n\nLiy 2: ok")
    lines = edit.text.split("\n")
    assert lines[edit.line - 1 : edit.line + 3] == [
        "    ht: |-",
        "      Liy 1",
        "",
        "      Liy 2: ok",
    ]
    assert lines[edit.line + 3] == "  examples:"
    assert before.split("\n")[: edit.line - 1] == lines[: edit.line - 1]
    checked = editing.check(content_copy, edit)
    assert checked.ok and checked.catalog is not None
    assert checked.catalog.intents["asylum_after_applying"].answer["ht"] == "Liy 1\n\nLiy 2: ok"


def test_reviewed_keeps_its_comment(tmp_path: Path) -> None:
    intents = tmp_path / "content" / "intents"
    intents.mkdir(parents=True)
    (intents / "x.yaml").write_text("intents:\n- id: hello\n  reviewed: 2026-01-01  # by Ana\n")
    edit = editing.set_reviewed(tmp_path / "content", "hello", dt.date(2026, 12, 4))
    assert edit.text == "intents:\n- id: hello\n  reviewed: 2026-12-04  # by Ana\n"


def test_notices_are_added_ended_and_removed_before_they_start(content_copy: Path) -> None:
    first = {
        "id": "comar_closed",
        "text": {"es": "a", "en": "b", "fr": "c", "ht": "d"},
        "concerns": ["asylum_mexico"],
        "from": dt.date(2026, 12, 1),
        "until": dt.date(2026, 12, 30),
        "reviewed": dt.date(2026, 12, 4),
    }
    editing.save(editing.add_notice(content_copy, first), "Ana")
    later = {**first, "id": "later", "from": dt.date(2026, 12, 20)}
    editing.save(editing.add_notice(content_copy, later), "Ana")
    checked = editing.check(content_copy, None, dt.date(2026, 12, 4))
    assert checked.ok and [n.id for n in checked.catalog.notices] == ["comar_closed", "later"]  # type: ignore[union-attr]
    editing.save(editing.end_notice(content_copy, "comar_closed", dt.date(2026, 12, 4)), "Ana")
    editing.save(editing.end_notice(content_copy, "later", dt.date(2026, 12, 4)), "Ana")
    catalog = editing.check(content_copy, None, dt.date(2026, 12, 4)).catalog
    assert catalog is not None
    [notice] = catalog.notices
    assert notice.id == "comar_closed" and notice.ends == dt.date(2026, 12, 3)
    assert "# Notices: a short text" in (content_copy / "notices.yaml").read_text()


def test_unknown_intents_are_an_edit_error(content_copy: Path) -> None:
    with pytest.raises(editing.EditError):
        editing.add_example(content_copy, "nope", "es", "x")


def test_in_a_git_checkout_each_save_is_a_commit_by_the_editor(content_copy: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(content_copy), *args], check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    edit = editing.set_reviewed(content_copy, "asylum_after_applying", dt.date(2026, 12, 4))
    commit = editing.save(edit, "Ana Pérez")
    assert commit and git("log", "-1", "--format=%an|%s") == (
        "Ana Pérez|console: reviewed asylum_after_applying on 2026-12-04\n"
    )
    assert git("status", "--porcelain") == ""


def test_outside_git_a_save_just_writes(content_copy: Path) -> None:
    edit = editing.set_reviewed(content_copy, "asylum_after_applying", dt.date(2026, 12, 4))
    assert editing.save(edit, "Ana") is None  # pytest's temporary folder is no git checkout
    assert "reviewed: 2026-12-04" in (content_copy / PAPERS).read_text()
