"""What the bot says shows where it comes from and how fresh it is (issue: truth in 2026)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import PROJECT_ROOT, Settings
from bot.content.catalog import Catalog
from bot.content.loader import inspect_content, load_catalog
from bot.content.problems import Severity, errors
from bot.dialog.buttons import ButtonSigner
from bot.dialog.engine import Engine
from bot.dialog.events import VenueReply
from bot.i18n import UiText
from bot.understanding.model_cache import ModelCache
from bot.understanding.reader import Reader
from tests.dialog import Person, texts

UI = UiText(PROJECT_ROOT / "locales")
# The session's models: none of these contents changes an example, so none trains again.
MODELS = ModelCache(Settings(_env_file=None).model_cache_dir)
NOTICE = """\
notices:
- id: comar_closed_holidays
  text:
    es: La COMAR cierra del 20 de diciembre al 5 de enero.
    en: COMAR is closed from 20 December to 5 January.
    fr: La COMAR est fermée du 20 décembre au 5 janvier.
    ht: COMAR fèmen depi 20 desanm rive 5 janvye.
  concerns: [asylum_mexico]
  from: 2026-12-20
  until: 2027-01-05
  reviewed: 2026-12-02
"""


def _engine(catalog: Catalog, day: dt.date, retention_days: int = 30) -> Engine:
    return Engine(
        catalog, Reader(catalog, MODELS), UI, ButtonSigner(b"k"),
        retention_days=retention_days, today=lambda: day,
    )  # fmt: skip


@pytest.fixture(scope="module")
def noticed(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("noticed") / "content"
    shutil.copytree(PROJECT_ROOT / "content", folder)
    (folder / "notices.yaml").write_text(NOTICE, encoding="utf-8")
    return load_catalog(folder)


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        (dt.date(2026, 12, 19), False),
        (dt.date(2026, 12, 20), True),
        (dt.date(2027, 1, 5), True),
        (dt.date(2027, 1, 6), False),
    ],
)
def test_a_notice_is_shown_with_its_answers_only_inside_its_window(
    noticed: Catalog, day: dt.date, shown: bool
) -> None:
    engine = _engine(noticed, day)
    answer = engine.answer_text("asylum_mexico", "es") or ""
    assert ("La COMAR cierra del 20 de diciembre" in answer) is shown
    assert "La COMAR cierra" not in (engine.answer_text("cbp_one_about", "es") or "")


def test_a_notice_about_nothing_or_ending_before_it_starts_is_an_error(
    content_copy: Path,
) -> None:
    bad = NOTICE.replace("[asylum_mexico]", "[asylum_mexic]").replace("2027-01-05", "2026-12-01")
    (content_copy / "notices.yaml").write_text(bad, encoding="utf-8")
    messages = [p.message for p in errors(inspect_content(content_copy)[1])]
    assert any('there is no intent or place "asylum_mexic"' in m for m in messages), messages
    assert any("ends (2026-12-01) before it starts (2026-12-20)" in m for m in messages)


def _first_source(content_copy: Path) -> tuple[Path, str]:
    """A content file and the text of its first source's url line."""
    for file in sorted((content_copy / "intents").glob("*.yaml")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("url: http"):
                return file, line
    raise AssertionError("no source with a url in the shipped content")


def test_a_source_without_a_url_fails_the_check(
    content_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file, line = _first_source(content_copy)
    file.write_text(file.read_text(encoding="utf-8").replace(line, "", 1), encoding="utf-8")
    assert main(["check", str(content_copy)]) == 1
    assert '"url" is missing' in capsys.readouterr().out


def _replace_once(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_source_without_a_date_or_a_retrieved_day_fails_the_check(
    content_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replace_once(content_copy / "intents" / "safe_transfer.yaml", "    date: 2025-01-22\n", "")
    assert main(["check", str(content_copy)]) == 1
    out = capsys.readouterr().out
    assert "safe_transfer.yaml:" in out and '"date" is missing' in out, out


def test_an_undated_source_counts_its_age_from_the_day_it_was_read(content_copy: Path) -> None:
    file = content_copy / "intents" / "safe_transfer.yaml"
    _replace_once(file, "    date: 2025-01-22\n", "    retrieved: 2026-01-10\n")
    _replace_once(file, "    checked: 2026-12-03  # no restart", "    # no restart")
    catalog, problems = inspect_content(content_copy, today=dt.date(2026, 12, 3))
    assert catalog is not None and not errors(problems)
    assert not [p for p in problems if "INM cancela corredor" in p.message]
    later = inspect_content(content_copy, today=dt.date(2027, 2, 1))[1]
    assert any("INM cancela corredor" in p.message and "was read on 2026-01-10" in p.message
               for p in later if p.severity is Severity.WARNING)  # fmt: skip


def test_an_old_source_a_person_confirmed_this_year_is_not_stale(content_copy: Path) -> None:
    """The 2025 news that the transfers ended is still the latest word: `checked` says so."""
    file = content_copy / "intents" / "safe_transfer.yaml"
    stale = [
        p for p in inspect_content(content_copy, today=dt.date(2027, 6, 1))[1]
        if "INM cancela corredor" in p.message
    ]  # fmt: skip
    assert not stale, stale
    _replace_once(file, "    checked: 2026-12-03", "    checked: 2026-01-10")
    warned = [
        p.message for p in inspect_content(content_copy, today=dt.date(2027, 6, 1))[1]
        if "INM cancela corredor" in p.message and p.severity is Severity.WARNING
    ]  # fmt: skip
    assert warned and 'put "checked:"' in warned[0], warned


def test_a_checked_or_retrieved_day_in_the_future_is_an_error(content_copy: Path) -> None:
    _replace_once(
        content_copy / "intents" / "safe_transfer.yaml",
        "    checked: 2026-12-03",
        "    checked: 2029-01-01",
    )
    messages = [p.message for p in errors(inspect_content(content_copy, dt.date(2026, 12, 3))[1])]
    assert any("the checked date 2029-01-01 is in the future" in m for m in messages), messages


def test_a_source_graded_d_never_ships(content_copy: Path) -> None:
    file = next(
        f for f in sorted((content_copy / "intents").glob("*.yaml"))
        if "grade: " in f.read_text(encoding="utf-8")
    )  # fmt: skip
    text = file.read_text(encoding="utf-8")
    grade = next(line for line in text.splitlines() if line.strip().startswith("grade: "))
    file.write_text(text.replace(grade, grade.split("grade:")[0] + "grade: D", 1), "utf-8")
    messages = [p.message for p in errors(inspect_content(content_copy)[1])]
    assert any('grade "D" never ships' in m for m in messages), messages


def test_an_old_source_and_an_old_review_are_warnings(content_copy: Path) -> None:
    _catalog, problems = inspect_content(content_copy, today=dt.date(2028, 6, 1))
    warnings = [p.message for p in problems if p.severity is Severity.WARNING]
    assert any("more than a year ago" in m for m in warnings)
    assert any("last reviewed" in m for m in warnings)
    assert not errors(problems)


def test_every_sourced_answer_says_when_it_was_reviewed(catalog: Catalog) -> None:
    engine = _engine(catalog, dt.date(2026, 12, 2))
    months = {"es": "diciembre de 2026", "en": "December 2026", "fr": "décembre 2026",
              "ht": "desanm 2026"}  # fmt: skip
    for intent in catalog.intents.values():
        for lang, month in months.items():
            answer = engine.answer_text(intent.id, lang) or ""
            if intent.sources and intent.reviewed == dt.date(2026, 12, 2):
                assert answer.endswith(f"{month}."), (intent.id, lang, answer[-60:])
            if not intent.sources:
                assert "2026." not in answer.splitlines()[-1], intent.id


def test_an_answer_resting_only_on_press_reports_says_so(content_copy: Path) -> None:
    for file in (content_copy / "intents").glob("*.yaml"):
        text = file.read_text(encoding="utf-8")
        for grade in ("grade: A", "grade: B"):
            text = text.replace(grade, "grade: C")
        file.write_text(text, encoding="utf-8")
    engine = _engine(load_catalog(content_copy), dt.date(2026, 12, 2))
    assert "press reports" in (engine.answer_text("asylum_mexico", "en") or "")


def test_the_privacy_answer_names_the_configured_retention(catalog: Catalog) -> None:
    engine = _engine(catalog, dt.date(2026, 12, 2), retention_days=45)
    for lang in ("es", "en", "fr", "ht"):
        answer = engine.answer_text("bot_about_privacy", lang) or ""
        assert "45" in answer and "{retention_days}" not in answer, lang


@pytest.mark.parametrize(
    ("lang", "team_chat"),
    [("es", "chat del equipo"), ("en", "team's chat"), ("fr", "chat de l'équipe"),
     ("ht", "chat ekip la")],
)  # fmt: skip
def test_the_privacy_answer_says_what_forget_may_leave_in_the_team_chat(
    engine: Engine, lang: str, team_chat: str
) -> None:
    """/forget deletes the copies in the staff group as far as Telegram allows; the person
    is told plainly what may stay there (older than 48 hours, the team's own replies)."""
    answer = engine.answer_text("bot_about_privacy", lang) or ""
    assert team_chat in answer and "48" in answer, lang


def test_report_sources_lists_every_source_with_its_answers_stalest_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["report", "sources", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = "publisher,title,date,retrieved,checked,grade,url,kind,id,reviewed"
    assert rows[0] == header
    ids = {row.split(",")[-2] for row in rows[1:]}
    assert {"asylum_mexico", "center_tapachula", "cms_tapachula"} <= ids
    undated = [row for row in rows[1:] if "comar.gob.mx" in row]
    assert undated and ",,2026-01-01," in undated[0], undated  # no date, read 2026-01-01


def test_report_sources_says_today_and_one_day_in_plain_words(
    capsys: pytest.CaptureFixture[str], content_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today, yesterday = dt.date.today(), dt.date.today() - dt.timedelta(days=1)
    intents = content_copy / "intents"
    for path, day in (
        (intents / "asylum.yaml", today),
        (intents / "care_centers.yaml", yesterday),
    ):
        text = re.sub(r"reviewed: \d{4}-\d{2}-\d{2}", f"reviewed: {day}", path.read_text())
        path.write_text(text)
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    assert main(["report", "sources"]) == 0
    out = capsys.readouterr().out
    assert "(today)" in out and "(1 day ago)" in out
    assert "(0 days ago)" not in out and "(1 days ago)" not in out


TAPACHULA = (14.905, -92.263)
HUIXTLA = (15.139, -92.466)
MEXICO_CITY = (19.43, -99.13)


def test_nearest_lists_open_places_with_approximate_distances_and_no_false_pin(
    engine: Engine, catalog: Catalog
) -> None:
    outcome = Person(engine, client_language="en").shares_location(*HUIXTLA)
    text = texts(outcome)[0]
    assert "about 3" in text and "km, in Tapachula" in text  # ~33 km from Huixtla
    assert "Libramiento Sur" in text
    assert "Huixtla" not in text.split("\n", 1)[1]  # no center there to list
    pins = [r for r in outcome.replies if isinstance(r, VenueReply)]
    exact = {p.name["en"] for p in catalog.places.values() if p.precision == "exact"}
    assert {pin.name for pin in pins} <= exact


def test_nearest_in_the_town_of_a_place_says_near_you_not_zero_km(
    engine: Engine, catalog: Catalog
) -> None:
    """Places known only to their town sit at its centre: "about 0 km" would be a false pin."""
    text = texts(Person(engine, client_language="en").shares_location(*TAPACHULA))[0]
    assert " 0 km" not in text and "near you, in Tapachula, Chiapas" in text, text
    open_places = [p for p in catalog.places.values() if p.status == "open"]
    assert all(p.name["en"] in text for p in open_places), text  # the clinic too


def test_nearest_never_lists_a_closed_place(catalog: Catalog, engine: Engine) -> None:
    text = texts(Person(engine, client_language="en").shares_location(*TAPACHULA))[0]
    for place in catalog.places.values():
        if place.status != "open":
            assert place.name["en"] not in text


def test_far_away_says_no_place_is_near(engine: Engine) -> None:
    outcome = Person(engine, client_language="es").shares_location(*MEXICO_CITY)
    assert texts(outcome)[0].startswith("No conozco ningún lugar abierto cerca de usted")


@pytest.mark.parametrize(("lat", "lon"), [(95.0, 10.0), (10.0, 200.0), (float("nan"), 1.0)])
def test_impossible_coordinates_are_refused(engine: Engine, lat: float, lon: float) -> None:
    outcome = Person(engine, client_language="en").shares_location(lat, lon)
    assert texts(outcome)[0].startswith("That location does not look right")
    assert not [r for r in outcome.replies if isinstance(r, VenueReply)]
