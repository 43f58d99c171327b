"""The handoff in the core: tickets, the bot staying quiet, escalation, claims, close, rating."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text

from bot.conversation import Conversation, StaffEventKind, Turn
from bot.dialog.events import (
    ButtonEvent,
    Command,
    CommandEvent,
    Incoming,
    MediaEvent,
    MediaKind,
    TextEvent,
    TextReply,
)
from bot.handoff.desk import Desk, Status
from bot.handoff.hours import BadHours, WorkingHours

CHIAPAS = dt.timezone(dt.timedelta(hours=-6))
TUESDAY_NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=CHIAPAS)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 23, 0, tzinfo=CHIAPAS)


def _send(
    conversation: Conversation,
    user: int,
    event,  # type: ignore[no-untyped-def]
    at: dt.datetime = TUESDAY_NOON,
    lang: str = "es",
    message_id: int = 1,
) -> Turn:
    return conversation.handle(Incoming(user, event, lang, at=at, message_id=message_id))


def _texts(turn: Turn) -> list[str]:
    return [r.text for r in turn.replies if isinstance(r, TextReply)]


def test_asking_for_a_person_opens_a_ticket_and_says_someone_is_on_duty(
    conversation: Conversation,
) -> None:
    turn = _send(conversation, 1, CommandEvent(Command.HUMAN), lang="en")
    [event] = turn.staff
    assert event.kind is StaffEventKind.OPENED
    assert event.ticket.reason == "asked" and not event.ticket.urgent
    assert event.ticket.status is Status.WAITING and event.ticket.language == "en"
    assert _texts(turn)[-1].startswith("Someone from the team is on duty now")
    assert "/cancel" in _texts(turn)[-1]


def test_outside_working_hours_the_person_is_told_when_they_will_be_answered(
    conversation: Conversation,
) -> None:
    turn = _send(conversation, 1, CommandEvent(Command.HUMAN), at=SATURDAY_NIGHT, lang="en")
    notice = _texts(turn)[-1]
    assert "2026-12-07 09:00" in notice  # Monday morning, Chiapas time


def test_emergency_opens_an_urgent_ticket_and_repeats_the_numbers(
    conversation: Conversation,
) -> None:
    turn = _send(conversation, 1, TextEvent("me quieren secuestrar, ayuda"))
    assert turn.staff[0].kind is StaffEventKind.OPENED and turn.staff[0].ticket.urgent
    assert "911" in _texts(turn)[0][:120] and "911" in _texts(turn)[-1]


def test_during_a_handoff_the_bot_is_quiet_and_relays_everything(
    conversation: Conversation,
) -> None:
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    for number, event in enumerate(
        [TextEvent("donde queda el centro de tapachula"), MediaEvent(MediaKind.VOICE)], 10
    ):
        turn = _send(conversation, 1, event, message_id=number)
        assert turn.replies == ()
        [relay] = turn.staff
        assert relay.kind is StaffEventKind.RELAY and relay.person_message_id == number


def test_danger_during_a_handoff_escalates_and_shows_the_numbers(
    conversation: Conversation,
) -> None:
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    turn = _send(conversation, 1, TextEvent("un hombre me esta siguiendo tengo miedo"))
    assert "911" in _texts(turn)[0][:120]
    kinds = [e.kind for e in turn.staff]
    assert StaffEventKind.ESCALATED in kinds and StaffEventKind.RELAY in kinds
    assert conversation.desk.open_ticket_of(1).urgent  # type: ignore[union-attr]


def test_cancel_ends_the_wait_and_the_bot_answers_again(conversation: Conversation) -> None:
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    turn = _send(conversation, 1, CommandEvent(Command.CANCEL))
    assert [e.kind for e in turn.staff] == [StaffEventKind.CANCELLED]
    assert conversation.desk.open_ticket_of(1) is None
    turn = _send(conversation, 1, TextEvent("cbp one sigue funcionando?"))
    assert turn.outcome.understanding and turn.outcome.understanding.intent == "cbp_one_status"


def test_forget_still_works_during_a_handoff_and_removes_the_ticket(
    conversation: Conversation, database
) -> None:  # type: ignore[no-untyped-def]
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    question = _send(conversation, 1, CommandEvent(Command.FORGET))
    yes = question.replies[0].buttons[0][0].data  # type: ignore[union-attr]
    turn = _send(conversation, 1, ButtonEvent(yes))
    assert [e.kind for e in turn.staff] == [StaffEventKind.FORGOTTEN]
    with database.connect() as connection:
        for table in ("tickets", "relayed_messages", "people", "conversation_events"):
            count = connection.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE user_id = 1")
            ).scalar_one()
            assert count == 0, table


def test_talk_to_a_person_after_a_failed_match_says_why(conversation: Conversation) -> None:
    turn = _send(conversation, 1, TextEvent("zzqx wwpt lorem"), lang="en")
    human = next(
        b for r in turn.replies if isinstance(r, TextReply) for row in r.buttons for b in row
        if "Talk to a person" in b.label
    )  # fmt: skip
    turn = _send(conversation, 1, ButtonEvent(human.data), lang="en")
    assert turn.staff[0].ticket.reason == "not_understood"


def test_only_one_of_two_simultaneous_claims_wins(conversation: Conversation) -> None:
    desk = conversation.desk
    for round_ in range(10):
        user = 100 + round_
        _send(conversation, user, CommandEvent(Command.HUMAN))
        ticket = desk.open_ticket_of(user)
        assert ticket is not None
        barrier = threading.Barrier(2)
        results: list = []

        def claim(operator: int, barrier=barrier, results=results, ticket=ticket) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            results.append(desk.claim(ticket.id, operator, f"op{operator}", TUESDAY_NOON))

        threads = [threading.Thread(target=claim, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.won for r in results) == [False, True]
        loser = next(r for r in results if not r.won)
        assert loser.holder in ("op1", "op2")


def test_close_then_rating_is_stored_once_and_only_by_its_person(
    conversation: Conversation, database
) -> None:  # type: ignore[no-untyped-def]
    desk = conversation.desk
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    ticket = desk.open_ticket_of(1)
    assert ticket is not None and desk.close(ticket.id, TUESDAY_NOON) is not None
    assert desk.close(ticket.id, TUESDAY_NOON) is None  # a second close does nothing
    rate, _menu = conversation.engine.closing_replies(1, "es", ticket.id)
    up, down = rate.buttons[0]  # type: ignore[union-attr]
    assert (up.label, down.label) == ("👍", "👎")
    stolen = _send(conversation, 2, ButtonEvent(up.data))  # someone else presses it
    assert stolen.outcome.rating is None
    turn = _send(conversation, 1, ButtonEvent(down.data))
    assert turn.outcome.rating == (ticket.id, "down")
    _send(conversation, 1, ButtonEvent(up.data))
    with database.connect() as connection:
        rating = connection.execute(
            text("SELECT rating FROM tickets WHERE id = :i"), {"i": ticket.id}
        ).scalar_one()
    assert rating == "down"


def test_queue_lists_urgent_first_then_longest_waiting(conversation: Conversation) -> None:
    early, late = TUESDAY_NOON - dt.timedelta(hours=1), TUESDAY_NOON
    _send(conversation, 1, CommandEvent(Command.HUMAN), at=early)
    _send(conversation, 2, CommandEvent(Command.HUMAN), at=late)
    _send(conversation, 3, TextEvent("ayuda me estan siguiendo"), at=late)
    assert [t.user_id for t in conversation.desk.queue()] == [3, 1, 2]


def test_unclaimed_urgent_tickets_are_announced_again_after_the_delay(
    conversation: Conversation,
) -> None:
    desk = conversation.desk
    _send(conversation, 3, TextEvent("ayuda me estan siguiendo"))
    ticket = desk.open_ticket_of(3)
    assert ticket is not None
    desk.place_in_staff_chat(ticket.id, 77, 78)
    delay = dt.timedelta(minutes=10)
    assert desk.due_reminders(TUESDAY_NOON + dt.timedelta(minutes=5), delay) == []
    assert [t.id for t in desk.due_reminders(TUESDAY_NOON + dt.timedelta(minutes=11), delay)] == [
        ticket.id
    ]
    assert desk.due_reminders(TUESDAY_NOON + dt.timedelta(minutes=12), delay) == []
    desk.claim(ticket.id, 9, "Ana", TUESDAY_NOON)
    assert desk.due_reminders(TUESDAY_NOON + dt.timedelta(hours=1), delay) == []


def test_operators_see_a_stable_pseudonym(database) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(database, b"key")
    assert desk.pseudonym(123) == desk.pseudonym(123)
    assert len(desk.pseudonym(123)) == 4 and desk.pseudonym(123) != desk.pseudonym(124)


def test_working_hours_are_read_in_the_configured_time_zone() -> None:
    hours = WorkingHours.parse("mon-fri 09:00-18:00; sat 10:00-14:00", "America/Mexico_City")
    assert hours.on_duty(TUESDAY_NOON)
    assert not hours.on_duty(SATURDAY_NIGHT)
    assert hours.next_opening(SATURDAY_NIGHT) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=hours.zone)


def test_working_hours_may_end_at_midnight_written_24_00() -> None:
    hours = WorkingHours.parse("mon-sun 00:00-24:00", "America/Mexico_City")
    for minutes in range(0, 7 * 24 * 60, 7):
        assert hours.on_duty(TUESDAY_NOON + dt.timedelta(minutes=minutes))
    late = WorkingHours.parse("sat 18:00-24:00", "America/Mexico_City")
    assert late.on_duty(SATURDAY_NIGHT.replace(minute=59))
    assert not late.on_duty(SATURDAY_NIGHT + dt.timedelta(hours=1))


def test_overnight_working_hours_run_into_the_next_day() -> None:
    hours = WorkingHours.parse("fri-sat 22:00-06:00", "America/Mexico_City")
    friday = dt.datetime(2026, 12, 4, 21, 0, tzinfo=hours.zone)
    on = [friday + dt.timedelta(hours=h) for h in (1, 5, 8.99, 25, 32.99)]
    off = [friday + dt.timedelta(hours=h) for h in (0, 9, 13, 24.99, 33, 50, 80)]
    assert [hours.on_duty(t) for t in on] == [True] * len(on)  # Fri 22:00 to Sun 06:00 but
    assert [hours.on_duty(t) for t in off] == [False] * len(off)  # not Sat 06:00-22:00
    saturday_opening = dt.datetime(2026, 12, 5, 22, 0, tzinfo=hours.zone)
    assert hours.next_opening(friday) == friday.replace(hour=22)
    assert hours.next_opening(friday + dt.timedelta(hours=13)) == saturday_opening
    # Sunday morning's hours only go on from Saturday night: the next opening is Friday's.
    sunday = dt.datetime(2026, 12, 6, 7, 0, tzinfo=hours.zone)
    assert hours.next_opening(sunday) == dt.datetime(2026, 12, 11, 22, 0, tzinfo=hours.zone)


@pytest.mark.parametrize(
    "bad",
    ["monday 9-5", "mon 09:00-09:00", "xyz 09:00-10:00", "mon 25:00-26:00", "mon 09:60-10:00",
     "mon 24:00-06:00", "mon-fri 09:00-24:30"],
)  # fmt: skip
def test_unreadable_working_hours_say_how_to_write_them(bad: str) -> None:
    with pytest.raises(BadHours, match="cannot read"):
        WorkingHours.parse(bad, "America/Mexico_City")


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(BadHours, match='"Mars/Olympus"'):
        WorkingHours.parse("mon-fri 09:00-18:00", "Mars/Olympus")


def test_in_a_topic_the_topic_decides_whose_ticket_a_reply_belongs_to(
    conversation: Conversation,
) -> None:
    """An operator in ticket B's topic who replies to ticket A's header (or to a message
    relayed for A) writes to B: outside topics only the reply says which ticket."""
    desk = conversation.desk
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    _send(conversation, 2, CommandEvent(Command.HUMAN))
    first, second = desk.open_ticket_of(1), desk.open_ticket_of(2)
    assert first is not None and second is not None
    desk.place_in_staff_chat(first.id, 77, 78)
    desk.place_in_staff_chat(second.id, 90, 91)
    desk.record_relay(first, "in", 5, 79, TUESDAY_NOON)
    assert desk.by_staff_message(90, 78).user_id == 2  # type: ignore[union-attr]
    assert desk.by_staff_message(90, 79).user_id == 2  # type: ignore[union-attr]
    assert desk.by_staff_message(None, 78).user_id == 1  # type: ignore[union-attr]
    assert desk.by_staff_message(None, 79).user_id == 1  # type: ignore[union-attr]
    desk.close(second.id, TUESDAY_NOON)
    assert desk.by_staff_message(90, 78) is None  # B's closed topic never reaches A
    assert desk.by_staff_message(55, 78) is None  # nor does a topic that is no ticket's


@pytest.mark.parametrize("payload", ["emergency-es", "talk_to_human-es", "talk_to_human-ht"])
def test_a_deep_link_opens_no_ticket_until_the_person_asks(
    conversation: Conversation, payload: str
) -> None:
    """A link or QR code shared widely must not flood the staff group."""
    turn = _send(conversation, 1, CommandEvent(Command.START, payload))
    assert turn.staff == () and conversation.desk.open_ticket_of(1) is None
    if payload.startswith("emergency"):
        assert "911" in _texts(turn)[0][:200]
    human = next(
        b for r in turn.replies if isinstance(r, TextReply) for row in r.buttons for b in row
        if b.label.startswith("🙋")
    )  # fmt: skip
    turn = _send(conversation, 1, ButtonEvent(human.data))
    assert [e.kind for e in turn.staff] == [StaffEventKind.OPENED]


def test_past_the_new_tickets_allowed_an_hour_the_latest_ticket_reopens(
    conversation: Conversation, database
) -> None:  # type: ignore[no-untyped-def]
    """Three new tickets an hour per person (TICKETS_PER_HOUR); then asking again, even in
    danger, reopens the latest one: the numbers at once, the message in its topic."""
    opened = []
    for minute in range(3):
        at = TUESDAY_NOON + dt.timedelta(minutes=minute)
        turn = _send(conversation, 1, CommandEvent(Command.HUMAN), at=at)
        assert [e.kind for e in turn.staff] == [StaffEventKind.OPENED]
        opened.append(turn.staff[0].ticket.id)
        _send(conversation, 1, CommandEvent(Command.CANCEL), at=at)
    later = TUESDAY_NOON + dt.timedelta(minutes=10)
    turn = _send(conversation, 1, CommandEvent(Command.HUMAN), at=later)
    assert [(e.kind, e.ticket.id) for e in turn.staff] == [(StaffEventKind.REOPENED, opened[-1])]
    assert "/cancel" in _texts(turn)[-1]  # told a person will answer, like any ticket
    ticket = conversation.desk.open_ticket_of(1)
    assert ticket is not None and ticket.id == opened[-1] and ticket.status is Status.WAITING
    _send(conversation, 1, CommandEvent(Command.CANCEL), at=later)

    turn = _send(conversation, 1, TextEvent("me quieren secuestrar, ayuda"), at=later,
                 message_id=77)  # fmt: skip
    assert "911" in _texts(turn)[0][:120]
    kinds = [(e.kind, e.ticket.id, e.person_message_id) for e in turn.staff]
    assert kinds == [(StaffEventKind.REOPENED, opened[-1], 77),
                     (StaffEventKind.ESCALATED, opened[-1], None)]  # fmt: skip
    assert conversation.desk.open_ticket_of(1).urgent  # type: ignore[union-attr]
    with database.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM tickets WHERE user_id = 1"))
        assert count.scalar_one() == 3
    _send(conversation, 1, CommandEvent(Command.CANCEL), at=later)

    an_hour_on = TUESDAY_NOON + dt.timedelta(minutes=62)
    turn = _send(conversation, 1, CommandEvent(Command.HUMAN), at=an_hour_on)
    assert [e.kind for e in turn.staff] == [StaffEventKind.OPENED]


def test_forget_tells_the_staff_side_every_ticket_and_message_to_delete(
    conversation: Conversation, database
) -> None:  # type: ignore[no-untyped-def]
    """The staff group's ids are read before the rows go: a closed ticket's topic and copies
    as well as the open one's."""
    desk = conversation.desk
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    first = desk.open_ticket_of(1)
    assert first is not None
    desk.place_in_staff_chat(first.id, 77, 78)
    desk.record_relay(first, "in", 5, 79, TUESDAY_NOON)  # a copy of the person's message
    desk.record_relay(first, "out", 6, 80, TUESDAY_NOON)  # an operator's answer
    desk.record_relay(first, "out", 7, None, TUESDAY_NOON)  # an /answer: nothing in the group
    desk.close(first.id, TUESDAY_NOON)
    _send(conversation, 1, CommandEvent(Command.HUMAN))
    second = desk.open_ticket_of(1)
    assert second is not None
    desk.place_in_staff_chat(second.id, None, 91)
    desk.record_relay(second, "in", 8, 92, TUESDAY_NOON)
    question = _send(conversation, 1, CommandEvent(Command.FORGET))
    yes = question.replies[0].buttons[0][0].data  # type: ignore[union-attr]
    turn = _send(conversation, 1, ButtonEvent(yes))
    erased = [
        (e.kind, e.ticket.id, e.ticket.status, e.ticket.staff_thread_id, e.ticket.staff_header_id,
         [m.id for m in e.staff_messages])
        for e in turn.staff
    ]  # fmt: skip
    assert erased == [
        (StaffEventKind.FORGOTTEN, first.id, Status.CLOSED, 77, 78, [79, 80]),
        (StaffEventKind.FORGOTTEN, second.id, Status.WAITING, None, 91, [92]),
    ]
    with database.connect() as connection:
        for table in ("tickets", "relayed_messages"):
            count = connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            assert count == 0, table
