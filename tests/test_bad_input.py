"""Bad input: random Unicode through understanding and the engine, odd Telegram updates.

Whatever people send (right-to-left scripts, zero-width characters, combining marks, emoji,
control characters, 4096-character messages, stickers, polls, forged buttons), the bot must
never crash and must always answer something a person can read.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.constants import MessageLimit

from bot.dialog.engine import Engine
from bot.dialog.events import (
    ButtonEvent,
    Command,
    CommandEvent,
    Event,
    Incoming,
    LocationEvent,
    MediaEvent,
    MediaKind,
    Outcome,
    TextEvent,
    TextReply,
    UserState,
    VenueReply,
)
from bot.languages import LANGUAGES
from bot.transport.replies import SAFE_LENGTH, split_text
from bot.transport.updates import to_incoming
from bot.understanding.normalize import Normalizer, fold
from bot.understanding.reader import ANSWER_AT, Reader

TELEGRAM_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
CALLBACK_DATA_BYTES = 64  # Telegram refuses longer callback_data
_FOLDED = re.compile(r"[a-z0-9 ]*")
_TOKEN = re.compile(r"[a-z0-9]+")

# -- strategies ----------------------------------------------------------------------------

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff")
BIDI_MARKS = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066")
CONTROL = (*(chr(c) for c in range(0x20)), "\x7f")
# Words the catalog knows, so that mixed-script messages also reach real candidates.
KNOWN_WORDS = (
    "cita", "cbp", "one", "tapachula", "ayuda", "albergue", "kijan", "randevou",
    "rendez-vous", "appointment", "help", "911", "hola", "bonjou",
)  # fmt: skip

hebrew = st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x05FF), min_size=1)
arabic = st.text(st.characters(min_codepoint=0x0600, max_codepoint=0x06FF), min_size=1)
rtl = st.lists(
    st.one_of(hebrew, arabic, st.sampled_from(BIDI_MARKS), st.just(" ")), min_size=1
).map("".join)
zero_width = st.text(st.sampled_from(ZERO_WIDTH), min_size=1)
combining = st.text(st.characters(min_codepoint=0x0300, max_codepoint=0x036F), min_size=1)
letters_with_marks = st.lists(
    st.tuples(st.sampled_from("aeiouncAEIOU"), combining).map("".join), min_size=1
).map("".join)
emoji_char = st.one_of(
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    st.characters(min_codepoint=0x2600, max_codepoint=0x27BF),
    st.sampled_from(("\u200d", "\ufe0f", "\U0001f3fb", "\U0001f3ff")),
)
flag = st.just("\U0001f1f2\U0001f1fd")  # one flag, two code points
emoji_only = st.lists(st.one_of(emoji_char, flag), min_size=1).map("".join)
control = st.text(st.sampled_from(CONTROL), min_size=1)
known_word = st.sampled_from(KNOWN_WORDS)
fragment = st.one_of(
    rtl, zero_width, combining, letters_with_marks, emoji_only, control, known_word,
    st.text(), st.just(" "),
)  # fmt: skip
mixed_scripts = st.lists(fragment, min_size=1, max_size=12).map("".join)
# A full-size Telegram message: a random pattern repeated to exactly 4096 characters.
full_size = st.text(min_size=1, max_size=40).map(
    lambda s: (s * (TELEGRAM_LIMIT // len(s) + 1))[:TELEGRAM_LIMIT]
)
bad_text = st.one_of(
    st.text(), rtl, zero_width, combining, letters_with_marks, emoji_only, control,
    mixed_scripts, full_size,
)  # fmt: skip
# What a person's app may say its language is: real codes, odd ones, and garbage.
client_language = st.one_of(
    st.none(),
    st.sampled_from(["es", "en-US", "fr_CA", "HT", "pt-BR", "", "-", "zh-hans"]),
    st.text(),
)
lang_or_none = st.sampled_from([None, *LANGUAGES])

# Noise that says nothing in our four languages: it must not hide a cry for help.
noise_piece = st.one_of(
    rtl, zero_width, emoji_only, control,
    st.text(st.sampled_from("!?¿¡.,;:…-_*#@()[]\"'«»"), min_size=1),
)  # fmt: skip
noise = st.lists(noise_piece, max_size=5).map(" ".join)
EMERGENCIES = (
    "me estan siguiendo ayuda",
    "someone is following me please help",
    "on m a vole et frappe je suis blesse",
    "gen moun k ap swiv mwen m pe",
)

# -- fixtures and helpers ------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENGINE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def reader(engine: Engine) -> Reader:
    return engine.reader


@pytest.fixture(scope="module")
def normalizer(reader: Reader) -> Normalizer:
    return reader.normalizer


def _text_replies(outcome: Outcome) -> list[TextReply]:
    return [r for r in outcome.replies if isinstance(r, TextReply)]


def _assert_sendable(outcome: Outcome, user_id: int) -> None:
    """At least one readable reply, a state, and everything within Telegram's limits."""
    assert outcome.replies, "no reply at all"
    assert isinstance(outcome.state, UserState) and outcome.state.user_id == user_id
    assert outcome.state.language in LANGUAGES
    texts = _text_replies(outcome)
    assert texts and all(r.text.strip() for r in texts), [r.text for r in texts]
    for reply in texts:
        assert all(len(piece) <= TELEGRAM_LIMIT for piece in split_text(reply.text))
        # What send_replies really sends: cut to SAFE_LENGTH, then HTML-escaped.
        sent = [html.escape(p, quote=False) for p in split_text(reply.text, SAFE_LENGTH)]
        assert all(0 < len(piece) <= TELEGRAM_LIMIT for piece in sent)
        for row in reply.buttons:
            for button in row:
                assert button.label.strip()
                assert len(button.data.encode()) <= CALLBACK_DATA_BYTES, button.data
    for venue in (r for r in outcome.replies if isinstance(r, VenueReply)):
        assert venue.name and -90 <= venue.latitude <= 90 and -180 <= venue.longitude <= 180
    if outcome.understanding is not None:
        assert 0.0 <= outcome.understanding.confidence <= 1.0


def _unit(value: float) -> bool:
    return math.isfinite(value) and 0.0 <= value <= 1.0


# -- normalisation -------------------------------------------------------------------------


@FAST
@given(text=bad_text)
@example(text="\x00" * 10)
@example(text="\ufdfa" * 2000)  # one character that NFKD turns into 18 letters
@example(text="ǅŉﬁ①²½ß İ")
def test_fold_keeps_only_lowercase_ascii_letters_digits_and_single_spaces(text: str) -> None:
    """fold never raises and leaves only [a-z0-9 ], trimmed, without double spaces."""
    folded = fold(text)
    assert _FOLDED.fullmatch(folded), folded
    assert folded == folded.strip() and "  " not in folded


@FAST
@given(text=bad_text, lang=st.sampled_from([None, *LANGUAGES, "all", "xx", ""]))
def test_tokens_are_plain_ascii_words_whatever_the_text_or_language(
    normalizer: Normalizer, text: str, lang: str | None
) -> None:
    """Normalizer.tokens/content_tokens never raise and give non-empty [a-z0-9] words."""
    tokens = normalizer.tokens(text, lang)
    content = normalizer.content_tokens(text, lang)
    assert all(_TOKEN.fullmatch(t) for t in tokens), tokens
    assert set(content) <= set(tokens)


@FAST
@given(text=st.one_of(rtl, zero_width, combining, control))
def test_text_without_latin_letters_digits_or_emoji_has_no_tokens(
    normalizer: Normalizer, text: str
) -> None:
    """RTL scripts, zero-width, combining marks and controls give no token at all."""
    assert fold(text) == ""
    assert normalizer.tokens(text, "es") == []


@FAST
@given(text=emoji_only)
def test_emoji_fold_to_nothing_for_language_detection(text: str) -> None:
    assert fold(text) == ""


@FAST
@given(text=emoji_only)
def test_each_emoji_becomes_a_word_of_its_own(normalizer: Normalizer, text: str) -> None:
    """ "👋" is read as the word "emojiwavinghandsign" (skin tones and joiners add nothing),
    so a greeting or thanks sent as an emoji is understood like the content's examples."""
    tokens = normalizer.tokens(text, "es")
    assert all(t.startswith("emoji") and _TOKEN.fullmatch(t) for t in tokens), tokens
    assert len(tokens) <= len(text)


@FAST
@given(
    word=known_word,
    junk=st.lists(st.sampled_from((*ZERO_WIDTH, "\u0301")), min_size=1, max_size=4),
)
def test_zero_width_characters_inside_a_word_do_not_split_it(word: str, junk: list[str]) -> None:
    """A zero-width joiner pasted inside a word vanishes instead of cutting it in two."""
    middle = len(word) // 2
    assert fold(word[:middle] + "".join(junk) + word[middle:]) == fold(word)


# -- language detection and matching -------------------------------------------------------


@FAST
@given(text=bad_text)
def test_language_detection_never_raises_and_scores_are_probabilities(
    reader: Reader, text: str
) -> None:
    """detect gives None for wordless text, else one of our languages with scores in 0..1."""
    detection = reader.detector.detect(text)
    if not fold(text[:500]).split():
        assert detection is None
        return
    assert detection is not None
    assert detection.language in LANGUAGES and detection.words >= 1
    assert _unit(detection.confidence)
    assert set(detection.scores) == set(LANGUAGES)
    assert all(_unit(score) for score in detection.scores.values())
    assert detection.confidence == max(detection.scores.values())


@FAST
@given(text=bad_text, lang=lang_or_none)
def test_matching_never_raises_and_ranks_known_intents_with_bounded_scores(
    reader: Reader, text: str, lang: str | None
) -> None:
    """match returns at most `limit` catalog intents with probabilities in 0..1."""
    result = reader.matcher.match(text, lang, limit=5)
    assert len(result.candidates) <= 5
    intents = [c.intent for c in result.candidates]
    assert len(set(intents)) == len(intents)
    assert set(intents) <= set(reader.classifier.intents)
    # Probabilities: allow for float rounding just above 1.
    assert all(math.isfinite(c.score) and -1e-9 <= c.score <= 1 + 1e-9 for c in result.candidates)


@FAST
@given(text=bad_text, fallback=lang_or_none)
def test_reading_never_raises_and_its_confidence_is_a_probability(
    reader: Reader, text: str, fallback: Any
) -> None:
    """read gives a confidence in 0..1, an intent only when confident, <= 3 suggestions."""
    reading = reader.read(text, fallback)
    assert _unit(reading.confidence)
    known = set(reader.classifier.intents)
    assert reading.intent is None or reading.intent in known
    assert set(reading.suggestions) <= known and len(reading.suggestions) <= 3
    if reading.intent is not None:
        assert reading.confidence >= ANSWER_AT


# -- the whole engine ----------------------------------------------------------------------


@ENGINE
@given(
    text=bad_text,
    client=client_language,
    language=lang_or_none,
    chosen=st.booleans(),
    pending=st.sampled_from([None, "confirm_forget"]),
)
@example(text="", client=None, language=None, chosen=False, pending=None)
@example(text="\u200b\u200b", client="ar", language=None, chosen=False, pending=None)
@example(text="\x00" * TELEGRAM_LIMIT, client="he", language="ht", chosen=True, pending=None)
def test_engine_always_answers_any_text_within_telegram_limits(
    engine: Engine,
    text: str,
    client: str | None,
    language: Any,
    chosen: bool,
    pending: str | None,
) -> None:
    """Any text from any person gets a non-empty reply, a state and a bounded confidence."""
    chosen = chosen and language is not None  # a chosen language is never None
    state = UserState(user_id=7, language=language, language_chosen=chosen, pending=pending)
    outcome = engine.handle(Incoming(7, TextEvent(text), client), state)
    _assert_sendable(outcome, 7)


@ENGINE
@given(text=bad_text, language=lang_or_none)
def test_engine_during_a_handoff_relays_or_answers_any_text(
    engine: Engine, text: str, language: Any
) -> None:
    """While operators talk to the person, text is relayed (or, in danger, answered)."""
    state = UserState(user_id=8, language=language, in_handoff=True)
    outcome = engine.handle(Incoming(8, TextEvent(text)), state, desk_open=True)
    assert outcome.relay
    assert outcome.state.in_handoff
    if outcome.replies:
        _assert_sendable(outcome, 8)


@settings(max_examples=60, deadline=None)
@given(phrase=st.sampled_from(EMERGENCIES), before=noise, after=noise, client=client_language)
def test_an_emergency_surrounded_by_noise_still_gets_the_emergency_numbers(
    engine: Engine, phrase: str, before: str, after: str, client: str | None
) -> None:
    """A cry for help wrapped in emoji, RTL text, zero-width or control characters is still
    answered with 911 first."""
    outcome = engine.handle(
        Incoming(9, TextEvent(f"{before} {phrase} {after}"), client), UserState(9), desk_open=True
    )
    _assert_sendable(outcome, 9)
    assert "911" in _text_replies(outcome)[0].text
    assert outcome.handoff is not None and outcome.handoff.urgent


@settings(max_examples=60, deadline=None)
@given(phrase=st.sampled_from(EMERGENCIES), junk=st.sampled_from(ZERO_WIDTH), data=st.data())
def test_an_emergency_with_zero_width_characters_inside_words_gets_the_numbers(
    engine: Engine, phrase: str, junk: str, data: st.DataObject
) -> None:
    """Zero-width characters pasted inside the words of a cry for help change nothing."""
    cuts = data.draw(st.lists(st.integers(1, len(phrase) - 1), max_size=6, unique=True))
    text = "".join(junk + c if i in cuts else c for i, c in enumerate(phrase))
    outcome = engine.handle(Incoming(10, TextEvent(text)), UserState(10))
    assert "911" in _text_replies(outcome)[0].text


@FAST
@given(
    latitude=st.floats(-90, 90, allow_nan=False),
    longitude=st.floats(-180, 180, allow_nan=False),
    client=client_language,
)
def test_any_real_location_gets_the_nearest_centers(
    engine: Engine, latitude: float, longitude: float, client: str | None
) -> None:
    """A location anywhere on Earth (poles, antimeridian included) gets a sendable answer."""
    outcome = engine.handle(
        Incoming(11, LocationEvent(latitude, longitude), client), UserState(11)
    )
    _assert_sendable(outcome, 11)


@FAST
@given(
    body=st.text(),
    signature=st.text(),
    tilde=st.booleans(),
)
@example(body="a:emergency", signature="A" * 60, tilde=True)
@example(body="\x00", signature="\x00", tilde=True)
def test_a_forged_button_gets_the_expired_notice_and_the_menu(
    engine: Engine, body: str, signature: str, tilde: bool
) -> None:
    """Any callback data that was not signed for this person is refused politely."""
    data = f"{body}~{signature}" if tilde else body.replace("~", "") + signature
    outcome = engine.handle(Incoming(12, ButtonEvent(data), "en"), UserState(12))
    _assert_sendable(outcome, 12)
    assert _text_replies(outcome)[0].text == "This button has expired. Here is the menu:"


@pytest.mark.parametrize("data", ["~\x80", "a:emergency~ñ", "m:~AAAAAAAAA\u00e9", "t:cbp~🙂"])
def test_a_forged_button_with_a_non_ascii_signature_gets_the_expired_notice(
    engine: Engine, data: str
) -> None:
    """Callback data is any UTF-8 a modified client sends: a non-ASCII "signature" must be
    refused like any other forgery, not crash the engine."""
    outcome = engine.handle(Incoming(13, ButtonEvent(data), "en"), UserState(13))
    assert _text_replies(outcome)[0].text == "This button has expired. Here is the menu:"


def test_a_forged_non_ascii_button_during_a_handoff_gets_the_waiting_notice(
    engine: Engine,
) -> None:
    """The same forgery while operators talk to the person: they are told to wait."""
    state = UserState(user_id=14, language="en", in_handoff=True)
    outcome = engine.handle(Incoming(14, ButtonEvent("fy:~é")), state, desk_open=True)
    assert _text_replies(outcome)[0].text.startswith("A person from the team will answer")


# -- Telegram updates ----------------------------------------------------------------------

USER = {"id": 5001, "is_bot": False, "first_name": "Ana", "language_code": "es"}
BOT_USER = {"id": 5002, "is_bot": True, "first_name": "OtherBot", "username": "other_bot"}
PRIVATE = {"id": 5001, "type": "private", "first_name": "Ana"}
GROUP = {"id": -100500, "type": "supergroup", "title": "Migrantes"}
CHANNEL = {"id": -100600, "type": "channel", "title": "Noticias"}
DATE = 1_700_000_000
FILE = {"file_id": "AgAD", "file_unique_id": "AQAD"}
LOCATION = {"latitude": 14.9039, "longitude": -92.2575}  # Tapachula


def _message(
    sender: dict[str, Any] | None = USER, chat: dict[str, Any] = PRIVATE, **fields: Any
) -> dict[str, Any]:
    """A Bot API Message payload (private chat from Ana unless told otherwise)."""
    payload: dict[str, Any] = {"message_id": 77, "date": DATE, "chat": chat, **fields}
    if sender is not None:
        payload["from"] = sender
    return payload


def _update(**fields: Any) -> Update:
    return Update.de_json({"update_id": 1, **fields}, None)


MESSAGES: dict[str, tuple[dict[str, Any], Event]] = {
    "sticker": (
        _message(
            sticker={
                **FILE,
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "emoji": "🙂",
            }
        ),
        MediaEvent(MediaKind.STICKER),
    ),
    "voice": (
        _message(voice={**FILE, "duration": 4, "mime_type": "audio/ogg"}),
        MediaEvent(MediaKind.VOICE),
    ),
    "audio": (_message(audio={**FILE, "duration": 180}), MediaEvent(MediaKind.VOICE)),
    "photo": (
        _message(
            photo=[{**FILE, "width": 90, "height": 90}, {**FILE, "width": 800, "height": 800}]
        ),
        MediaEvent(MediaKind.PHOTO),
    ),
    "video_note": (
        _message(video_note={**FILE, "length": 240, "duration": 9}),
        MediaEvent(MediaKind.VIDEO),
    ),
    "video": (
        _message(video={**FILE, "width": 640, "height": 360, "duration": 30}),
        MediaEvent(MediaKind.VIDEO),
    ),
    "animation": (
        _message(
            animation={**FILE, "width": 320, "height": 240, "duration": 3},
            document={**FILE, "mime_type": "video/mp4"},
        ),
        MediaEvent(MediaKind.VIDEO),
    ),
    "document": (
        _message(document={**FILE, "file_name": "acta.pdf", "mime_type": "application/pdf"}),
        MediaEvent(MediaKind.DOCUMENT),
    ),
    "contact": (
        _message(contact={"phone_number": "+529621234567", "first_name": "Luis"}),
        MediaEvent(MediaKind.CONTACT),
    ),
    "poll": (
        _message(
            poll={
                "id": "9",
                "question": "¿Cita?",
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": True,
                "members_only": False,
                "options": [
                    {"text": "sí", "voter_count": 0, "persistent_id": "1"},
                    {"text": "no", "voter_count": 0, "persistent_id": "2"},
                ],
            }
        ),
        MediaEvent(MediaKind.OTHER),
    ),
    "dice": (_message(dice={"emoji": "🎲", "value": 6}), MediaEvent(MediaKind.OTHER)),
    "location": (_message(location=LOCATION), LocationEvent(14.9039, -92.2575)),
    "live_location": (
        _message(location={**LOCATION, "live_period": 900, "heading": 90}),
        LocationEvent(14.9039, -92.2575),
    ),
    "venue": (
        _message(
            location=LOCATION,
            venue={"location": LOCATION, "title": "Parque", "address": "Centro, Tapachula"},
        ),
        LocationEvent(14.9039, -92.2575),
    ),
    "photo_with_caption": (
        _message(
            photo=[{**FILE, "width": 800, "height": 800}],
            caption="como saco una cita en cbp one",
        ),
        TextEvent("como saco una cita en cbp one"),
    ),
    "document_with_rtl_caption": (
        _message(document=FILE, caption="\u202eمرحبا\u200b"),
        TextEvent("\u202eمرحبا\u200b"),
    ),
    "text_with_control_characters": (
        _message(text="hola\x00\x1f\x7f\u200b"),
        TextEvent("hola\x00\x1f\x7f\u200b"),
    ),
}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_each_private_message_kind_becomes_its_core_event(kind: str) -> None:
    """Media become a MediaEvent of the right kind, places a LocationEvent, captions text."""
    payload, expected = MESSAGES[kind]
    incoming = to_incoming(_update(message=payload))
    assert incoming is not None
    assert incoming.event == expected
    assert incoming.user_id == USER["id"] and incoming.client_language == "es"
    assert incoming.message_id == 77


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_each_private_message_kind_gets_a_reply_from_the_engine(engine: Engine, kind: str) -> None:
    """Whatever the person sent, the engine answers it within Telegram's limits."""
    incoming = to_incoming(_update(message=MESSAGES[kind][0]))
    assert incoming is not None
    _assert_sendable(engine.handle(incoming, UserState(user_id=incoming.user_id)), USER["id"])


def test_an_edited_text_message_is_read_as_text_and_answered(engine: Engine) -> None:
    """Fixing a typo in a question (an edit) gets the corrected question answered."""
    edited = _message(text="donde esta el albergue", edit_date=DATE + 60)
    incoming = to_incoming(_update(edited_message=edited))
    assert incoming is not None and incoming.event == TextEvent("donde esta el albergue")
    assert incoming.message_id == 77
    _assert_sendable(engine.handle(incoming, UserState(user_id=incoming.user_id)), USER["id"])


def test_a_forged_callback_query_becomes_a_button_event_that_expires(engine: Engine) -> None:
    """Callback data crafted by a client is passed on as-is and refused by the engine."""
    query = {
        "id": "42",
        "from": USER,
        "chat_instance": "-1",
        "data": "a:emergency~AAAAAAAAAA",
        "message": _message(text="menu"),
    }
    incoming = to_incoming(_update(callback_query=query))
    assert incoming is not None and incoming.event == ButtonEvent("a:emergency~AAAAAAAAAA")
    assert incoming.message_id is None
    outcome = engine.handle(incoming, UserState(user_id=incoming.user_id))
    _assert_sendable(outcome, USER["id"])
    assert outcome.handoff is None


def test_a_callback_query_without_data_becomes_an_empty_button_press(engine: Engine) -> None:
    """A game button (no data) is an empty press, refused like any unknown button."""
    query = {"id": "43", "from": USER, "chat_instance": "-1", "game_short_name": "g"}
    incoming = to_incoming(_update(callback_query=query))
    assert incoming is not None and incoming.event == ButtonEvent("")
    _assert_sendable(engine.handle(incoming, UserState(user_id=incoming.user_id)), USER["id"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/", CommandEvent(None, "", "")),
        ("/\u200b", CommandEvent(None, "", "\u200b")),
        (
            "/START@SomeBot  cbp_one_status-ht ",
            CommandEvent(Command.START, "cbp_one_status-ht", "start"),
        ),
        ("/start ../../\x00", CommandEvent(Command.START, "../../\x00", "start")),
    ],
)
def test_odd_commands_are_parsed_and_answered(
    engine: Engine, text: str, expected: CommandEvent
) -> None:
    """A bare slash, invisible or shouted command names and junk deep links all get a reply."""
    incoming = to_incoming(_update(message=_message(text=text)))
    assert incoming is not None and incoming.event == expected
    _assert_sendable(engine.handle(incoming, UserState(user_id=incoming.user_id)), USER["id"])


IGNORED: dict[str, dict[str, Any]] = {
    "channel_post": {"channel_post": _message(None, CHANNEL, text="hola", sender_chat=CHANNEL)},
    "edited_channel_post": {
        "edited_channel_post": _message(None, CHANNEL, text="hola", edit_date=DATE)
    },
    "my_chat_member": {
        "my_chat_member": {
            "chat": PRIVATE,
            "from": USER,
            "date": DATE,
            "old_chat_member": {"status": "member", "user": BOT_USER},
            "new_chat_member": {"status": "kicked", "user": BOT_USER, "until_date": 0},
        }
    },
    "new_chat_members": {"message": _message(chat=GROUP, new_chat_members=[USER, BOT_USER])},
    "left_chat_member": {"message": _message(chat=GROUP, left_chat_member=USER)},
    "pinned_message": {"message": _message(pinned_message=_message(text="hola"))},
    "text_from_a_bot": {"message": _message(BOT_USER, text="me estan siguiendo ayuda")},
    "sticker_from_a_bot": {
        "message": _message(BOT_USER, sticker=MESSAGES["sticker"][0]["sticker"])
    },
    "button_from_a_bot": {
        "callback_query": {"id": "1", "from": BOT_USER, "chat_instance": "-1", "data": "x"}
    },
    "anonymous_group_admin": {"message": _message(None, GROUP, text="hola", sender_chat=GROUP)},
}


@pytest.mark.parametrize("kind", list(IGNORED))
def test_updates_nobody_asked_through_are_ignored(kind: str) -> None:
    """Channel posts, membership changes, service messages and bots get no core event."""
    assert to_incoming(_update(**IGNORED[kind])) is None


def test_a_live_location_moving_is_not_answered_again() -> None:
    """Telegram re-sends a shared live location as an edit every time it moves: only the
    first share deserves the list of nearest centers, not every step of the walk."""
    moved = {**LOCATION, "latitude": 14.91, "live_period": 900}
    edit = _message(location=moved, edit_date=DATE + 30)
    assert to_incoming(_update(edited_message=edit)) is None
