"""The conversation engine: `handle(incoming, state) -> Outcome`, with no I/O at all.

It decides what to say; the service around it stores state and applies the effects
(handoff, forget, unanswered question), and a transport draws the replies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

from bot.content.catalog import Catalog, Intent
from bot.dialog.buttons import Action, ButtonSigner, Press
from bot.dialog.events import (
    Button,
    ButtonEvent,
    Command,
    CommandEvent,
    Handoff,
    HandoffReason,
    Incoming,
    LocationEvent,
    MediaEvent,
    Outcome,
    Reply,
    TextEvent,
    TextReply,
    Understanding,
    UserState,
    VenueReply,
)
from bot.dialog.places import Nearby, is_on_earth, nearest_places
from bot.dialog.safety import Alarm, SafetyPolicy
from bot.i18n import N_, UiText
from bot.languages import DEFAULT_LANGUAGE, LANGUAGES, NATIVE_NAMES, Lang, as_language
from bot.understanding.reader import Reader, Reading, message_language

CONFIRM_FORGET = "confirm_forget"
# Month names are UI sentences (Babel has no Haitian Creole calendar); _() translates them.
MONTHS = (
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
# Every open place of the shipped content sits in Tapachula: all of them, the clinic included,
# rather than two picked at random among equals.
NEAREST_SHOWN = 4
# A place known only to its town is placed at the town centre: closer than this, a distance
# ("about 0 km") would be false precision, so the reply says the place is in the person's town.
IN_TOWN_KM = 5.0
_DEEP_LINK = re.compile(r"^([a-z][a-z0-9_]{1,40})-([a-z]{2})$")


class Engine:
    """Answers one event for one person from the catalog, the reader and the UI catalogs."""

    def __init__(
        self,
        catalog: Catalog,
        reader: Reader,
        ui: UiText,
        signer: ButtonSigner,
        *,
        retention_days: int = 30,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.catalog = catalog
        self.reader = reader
        self._ui = ui
        self._signer = signer
        self._retention_days = retention_days
        self._today = today  # which notices are in their window
        self._safety = SafetyPolicy(catalog, reader)
        self._danger_answers = {
            kind.id: kind.answer for kind in (catalog.danger.kinds if catalog.danger else [])
        }
        # Answers of the topics places belong to offer "share your location".
        self._place_topics = {
            catalog.intents[p.intent].topic
            for p in catalog.places.values()
            if p.intent in catalog.intents and p.status == "open"
        }

    def handle(self, incoming: Incoming, state: UserState, desk_open: bool = False) -> Outcome:
        """Decides the replies and effects of one event; never raises on user input.

        `desk_open` says whether a person can take the conversation (a staff group is set up):
        without one no handoff is ever opened, and the person is told so plainly.
        """
        state = dataclasses.replace(state)
        if state.in_handoff and desk_open:
            return self._during_handoff(incoming, state)
        state.in_handoff = False
        outcome = self._handle(incoming, state)
        if outcome.handoff is not None and not desk_open:
            return self._without_desk(incoming, outcome)
        return outcome

    def _handle(self, incoming: Incoming, state: UserState) -> Outcome:
        event = incoming.event
        if isinstance(event, TextEvent):
            return self._on_text(incoming, event.text, state)
        lang = self._language(state, None, incoming.client_language)
        if isinstance(event, CommandEvent):
            return self._on_command(incoming, event, state, lang)
        if isinstance(event, ButtonEvent):
            press = self._signer.verify(incoming.user_id, event.data)
            return self._on_button(incoming, press, state, lang)
        if isinstance(event, LocationEvent):
            return self._on_location(incoming, event, state, lang)
        if isinstance(event, MediaEvent):
            _ = self._ui.for_language(lang)
            text = _("I can only read text and locations. Please write your question in a few "
                     "words, or choose a topic.")  # fmt: skip
            return self._out(state, lang, self._menu_reply(incoming, lang, text))
        raise TypeError(f"unknown event {event!r}")

    # -- events --------------------------------------------------------------------------

    def _during_handoff(self, incoming: Incoming, state: UserState) -> Outcome:
        """A person is talking to operators: their messages go to them and the bot stays
        quiet, except for danger (the numbers at once, and the ticket becomes urgent), buttons
        and commands, which do what they say, and /cancel or "stop waiting"."""
        event = incoming.event
        lang = self._language(state, None, incoming.client_language)
        if isinstance(event, TextEvent):
            reading = self._safety.without_look_alikes(
                event.text, self.reader.read(event.text, lang)
            )
            alarm = self._safety.assess(event.text, reading)
            if alarm is not None:
                outcome = self._emergency(incoming, state, lang, alarm, reading, event.text)
                return dataclasses.replace(outcome, relay=True)
            return Outcome((), state, relay=True)
        if isinstance(event, (MediaEvent, LocationEvent)):
            return Outcome((), state, relay=True)
        press = None
        if isinstance(event, ButtonEvent):
            press = self._signer.verify(incoming.user_id, event.data)
        cancel = (isinstance(event, CommandEvent) and event.command is Command.CANCEL) or (
            press is not None and press.action is Action.STOP_WAITING
        )
        if cancel:
            state.in_handoff = False
            _ = self._ui.for_language(lang)
            text = _("You stopped waiting for a person. I can answer your questions again.")
            reply = self._menu_reply(incoming, lang, text)
            return Outcome((reply,), self._remember(state, lang), cancel_handoff=True)
        asks_for_person = (isinstance(event, CommandEvent) and event.command is Command.HUMAN) or (
            press is not None
            and (
                press.action in (Action.HUMAN, Action.HUMAN_NOT_UNDERSTOOD)
                or (press.action is Action.ANSWER and press.argument == "talk_to_human")
            )
        )
        if not asks_for_person and (press is not None or isinstance(event, CommandEvent)):
            outcome = self._handle(incoming, state)
            if outcome.handoff is not None and not outcome.handoff.urgent:
                outcome = dataclasses.replace(outcome, handoff=None)
            return outcome
        return Outcome((self.waiting_reply(incoming.user_id, lang),), state)

    def waiting_reply(self, user_id: int, lang: Lang) -> TextReply:
        """What a person waiting for an operator is told, with the ways out: the numbers,
        the menu, and leaving the queue."""
        _ = self._ui.for_language(lang)
        text = _("A person from the team will answer you here. Write /cancel to stop waiting.")
        return TextReply(text, self._waiting_buttons(user_id, lang))

    def _waiting_buttons(self, user_id: int, lang: Lang) -> tuple[tuple[Button, ...], ...]:
        _ = self._ui.for_language(lang)
        emergency = self.catalog.intents.get("emergency")
        rows: list[tuple[Button, ...]] = []
        if emergency is not None:
            data = self._signer.data(user_id, Action.ANSWER, emergency.id)
            rows.append((Button(emergency.title[lang], data),))
        rows.append((
            Button(_("❌ Stop waiting"), self._signer.data(user_id, Action.STOP_WAITING)),
            Button(_("⬅️ Menu"), self._signer.data(user_id, Action.MENU)),
        ))  # fmt: skip
        return tuple(rows)

    def _without_desk(self, incoming: Incoming, outcome: Outcome) -> Outcome:
        """Nobody can take this conversation: no handoff, the truth, and a way forward."""
        lang = as_language(outcome.state.language) or DEFAULT_LANGUAGE
        _ = self._ui.for_language(lang)
        handoff = outcome.handoff
        replies = list(outcome.replies)
        if handoff is not None and handoff.urgent:
            replies.append(TextReply(_(
                "Nobody from our team can read this chat. If you are in danger, call 911 now."
            )))  # fmt: skip
        else:
            first = next((i for i, r in enumerate(replies) if isinstance(r, TextReply)), None)
            no_person = _("No person from our team can answer in this chat. I can still "
                          "answer your questions: choose a topic below. If you are in danger, "
                          "call 911.")  # fmt: skip
            if first is not None:
                replies.pop(first)
            replies.insert(0, self._menu_reply(incoming, lang, no_person))
        return dataclasses.replace(outcome, replies=tuple(replies), handoff=None)

    def _on_text(self, incoming: Incoming, text: str, state: UserState) -> Outcome:
        if not text.strip():
            lang = self._language(state, None, incoming.client_language)
            return self._not_understood(incoming, state, lang, text, None, record=False)
        reading = self.reader.read(text, state.language or as_language(incoming.client_language))
        # Danger's words in a look-alike or a past story must not make the answer the
        # emergency one either (the safety policy judges the rest of the message).
        reading = self._safety.without_look_alikes(text, reading)
        lang = self._language(state, reading, incoming.client_language)
        state.pending = None
        alarm = self._safety.assess(text, reading)
        if alarm is not None and alarm.certain:
            return self._emergency(incoming, state, lang, alarm, reading, text)
        if reading.intent is None:
            outcome = self._not_understood(incoming, state, lang, text, reading)
        else:
            outcome = self._answer(incoming, state, lang, reading.intent, reading, text)
        return outcome if alarm is None else self._numbers_first(outcome, lang)

    def _numbers_first(self, outcome: Outcome, lang: Lang) -> Outcome:
        """Danger is possible but not clear (only the learned danger score, or a runner-up
        urgent intent, sees it): the numbers come first, then what the person asked. No
        urgent ticket: with them the policy fires on 3-5% of ordinary questions (tests/data/dev),
        which would bury the operators' real emergencies under false ones."""
        _ = self._ui.for_language(lang)
        numbers = _("If you are in danger now, call 911. Anonymous reports: 089.")
        first, *rest = outcome.replies
        assert isinstance(first, TextReply)
        first = dataclasses.replace(first, text=f"{numbers}\n\n{first.text}")
        return dataclasses.replace(outcome, replies=(first, *rest), danger=True)

    def _on_command(
        self, incoming: Incoming, event: CommandEvent, state: UserState, lang: Lang
    ) -> Outcome:
        state.pending = None
        command = event.command
        if command is Command.START:
            return self._start(incoming, event.argument, state, lang)
        if command is Command.MENU:
            _ = self._ui.for_language(lang)
            return self._out(state, lang, self._menu_reply(incoming, lang, _("Choose a topic:")))
        if command is Command.LANGUAGE:
            return self._out(state, lang, self._language_choice(incoming, lang))
        if command is Command.HUMAN:
            return self._answer(incoming, state, lang, "talk_to_human", None, None)
        if command is Command.FORGET:
            return self._answer(incoming, state, lang, "forget_me", None, None)
        if command is Command.HELP:
            return self._answer(incoming, state, lang, "help_menu", None, None)
        if command is Command.CANCEL:
            _ = self._ui.for_language(lang)
            return self._out(state, lang, self._menu_reply(incoming, lang, _("Choose a topic:")))
        _ = self._ui.for_language(lang)
        text = _("I don't know that command. Here is what I can do:")
        return self._out(state, lang, self._menu_reply(incoming, lang, text))

    def _on_button(
        self, incoming: Incoming, press: Press | None, state: UserState, lang: Lang
    ) -> Outcome:
        _ = self._ui.for_language(lang)
        expired = _("This button has expired. Here is the menu:")
        if press is None:
            return self._out(state, lang, self._menu_reply(incoming, lang, expired))
        action, argument = press.action, press.argument
        if action is Action.ANSWER and argument in self.catalog.intents:
            return self._answer(incoming, state, lang, argument, None, None)
        if action is Action.TOPIC and argument in self.catalog.topics:
            return self._topic(incoming, state, lang, argument)
        if action is Action.MENU:
            return self._out(state, lang, self._menu_reply(incoming, lang, _("Choose a topic:")))
        if action is Action.LANGUAGES:
            return self._out(state, lang, self._language_choice(incoming, lang))
        if action is Action.SET_LANGUAGE and (chosen := as_language(argument)):
            state.language, state.language_chosen = chosen, True
            _ = self._ui.for_language(chosen)
            return self._out(
                state, chosen, self._menu_reply(incoming, chosen, _("I will answer in English."))
            )
        if action is Action.HUMAN:
            return self._answer(incoming, state, lang, "talk_to_human", None, None)
        if action is Action.HUMAN_NOT_UNDERSTOOD:
            outcome = self._answer(incoming, state, lang, "talk_to_human", None, None)
            return dataclasses.replace(
                outcome, handoff=Handoff(HandoffReason.NOT_UNDERSTOOD, urgent=False)
            )
        if action is Action.RATE and (rating := _rating(argument)):
            reply = self._menu_reply(incoming, lang, _("Thank you for telling us."))
            return Outcome((reply,), self._remember(state, lang), rating=rating)
        if action is Action.FORGET_YES and state.pending == CONFIRM_FORGET:
            state = UserState(user_id=state.user_id)
            reply = TextReply(_("Done. I deleted everything I had saved about you."))
            return Outcome((reply,), state, forget=True)
        if action is Action.FORGET_NO and state.pending == CONFIRM_FORGET:
            state.pending = None
            return self._out(
                state, lang, self._menu_reply(incoming, lang, _("OK, I deleted nothing."))
            )
        state.pending = None
        return self._out(state, lang, self._menu_reply(incoming, lang, expired))

    def _on_location(
        self, incoming: Incoming, event: LocationEvent, state: UserState, lang: Lang
    ) -> Outcome:
        _ = self._ui.for_language(lang)
        if not is_on_earth(event.latitude, event.longitude):
            text = _("That location does not look right. Please share it again, or choose a "
                     "topic.")  # fmt: skip
            return self._out(state, lang, self._menu_reply(incoming, lang, text))
        nearest = nearest_places(self.catalog, event.latitude, event.longitude)[:NEAREST_SHOWN]
        if not nearest:
            text = _("I know of no open place near you. Ask a person from the team, or choose "
                     "a topic.")  # fmt: skip
            return self._out(state, lang, self._menu_reply(incoming, lang, text))
        lines = [_("The nearest places I know of (distances are approximate):")]
        lines += [f"{i}. {self._nearby_line(n, lang)}" for i, n in enumerate(nearest, 1)]
        replies: list[Reply] = [TextReply("\n".join(lines))]
        replies += [
            VenueReply(
                name=n.place.name[lang],
                address=", ".join(filter(None, (n.place.street, n.place.town))),
                latitude=n.place.latitude,
                longitude=n.place.longitude,
                distance_km=n.distance_km,
            )
            for n in nearest
            if n.exact  # a place known only to its town is never sent as a precise pin
        ]
        replies.append(self._menu_reply(incoming, lang, _("What else can I help you with?")))
        return self._out(state, lang, *replies)

    def _nearby_line(self, nearby: Nearby, lang: Lang) -> str:
        """ "CMS-T (COMAR): about 30 km, in Tapachula, Chiapas, on the Libramiento Sur"."""
        _ = self._ui.for_language(lang)
        place = nearby.place
        if not nearby.exact and nearby.distance_km < IN_TOWN_KM:
            where = _("near you, in {town}").format(town=place.town)
        else:
            km = max(1, round(nearby.distance_km))
            where = _("about {km} km, in {town}").format(km=km, town=place.town)
        if place.street:
            where = _("{where}, on {street}").format(where=where, street=place.street)
        return _("{name}: {where}. {offers}").format(
            name=place.name[lang], where=where, offers=place.offers[lang]
        )

    # -- replies -------------------------------------------------------------------------

    def _start(self, incoming: Incoming, payload: str, state: UserState, lang: Lang) -> Outcome:
        link = _DEEP_LINK.match(payload.strip().lower()) if payload else None
        if link and link.group(1) in self.catalog.intents and as_language(link.group(2)):
            linked = as_language(link.group(2)) or lang
            if not state.language_chosen:
                state.language = linked
            intent = self.catalog.intents[link.group(1)]
            if intent.handoff and not intent.urgent:
                return self._out(state, linked, self._offer_person(incoming, linked))
            # A link is shared, printed and scanned: it opens the answer (the emergency
            # numbers too), never a ticket; that takes the person's own message or press.
            outcome = self._answer(incoming, state, linked, intent.id, None, None)
            return dataclasses.replace(outcome, handoff=None)
        greeting = self.catalog.intents["greeting"].answer[lang]
        replies = (
            self._language_choice(incoming, lang, greeting),
            self._menu_reply(incoming, lang, None),
        )
        return self._out(state, lang, *replies)

    def _offer_person(self, incoming: Incoming, lang: Lang) -> TextReply:
        """A link to a person: the button that asks for one, pressed by the person."""
        _ = self._ui.for_language(lang)
        text = _("To talk to a person from our team, press the button below. If you are in "
                 "danger now, call 911.")  # fmt: skip
        return TextReply(text, (
            (Button(_("🙋 Talk to a person"), self._data(incoming, Action.HUMAN)),),
            (Button(_("⬅️ Menu"), self._data(incoming, Action.MENU)),),
        ))  # fmt: skip

    def _emergency(
        self,
        incoming: Incoming,
        state: UserState,
        lang: Lang,
        alarm: Alarm,
        reading: Reading,
        text: str,
    ) -> Outcome:
        """The numbers first, in the person's words when the danger kind has its own answer
        (self-harm is spoken to gently); what else the message asked waits."""
        outcome = self._answer(incoming, state, lang, alarm.intent, reading, text)
        own = self._danger_answers.get(alarm.kind or "", {}).get(lang)
        if own is None:
            return outcome
        first, *rest = outcome.replies
        assert isinstance(first, TextReply)
        return dataclasses.replace(outcome, replies=(dataclasses.replace(first, text=own), *rest))

    def _answer(
        self,
        incoming: Incoming,
        state: UserState,
        lang: Lang,
        intent_id: str,
        reading: Reading | None,
        text: str | None,
    ) -> Outcome:
        intent = self.catalog.intents[intent_id]
        _ = self._ui.for_language(lang)
        replies: list[Reply] = []
        handoff: Handoff | None = None
        if intent.urgent:
            handoff = Handoff(HandoffReason.EMERGENCY, urgent=True)
        elif intent.handoff:
            handoff = Handoff(HandoffReason.ASKED, urgent=False)
        answer = self._answer_text(intent, lang)
        if intent_id == "change_language":
            replies.append(self._language_choice(incoming, lang, answer))
        elif intent_id == "forget_me":
            state.pending = CONFIRM_FORGET
            replies.append(TextReply(answer, (
                (Button(_("Yes, delete everything"), self._data(incoming, Action.FORGET_YES)),),
                (Button(_("No, keep it"), self._data(incoming, Action.FORGET_NO)),),
            )))  # fmt: skip
        else:
            replies.append(TextReply(answer, self._answer_buttons(incoming, intent, lang)))
            if intent.topic in self._place_topics:
                replies.append(TextReply(
                    _("Share your location and I will show you the nearest places I know of."),
                    location_button=_("📍 Share my location"),
                ))  # fmt: skip
        understanding = None
        if reading is not None and text is not None:
            suggestions = tuple(s for s in reading.suggestions if s != intent_id)
            understanding = Understanding(
                text, lang, intent_id, round(reading.confidence, 3), suggestions
            )
        return Outcome(
            tuple(replies), self._remember(state, lang), understanding, handoff,
            danger=intent.urgent,
        )  # fmt: skip

    def _not_understood(
        self,
        incoming: Incoming,
        state: UserState,
        lang: Lang,
        text: str,
        reading: Reading | None,
        record: bool = True,
    ) -> Outcome:
        _ = self._ui.for_language(lang)
        understanding = None
        if reading is not None:
            understanding = Understanding(
                text, lang, None, round(reading.confidence, 3), reading.suggestions
            )
        if reading is not None and reading.suggestions:
            rows = tuple(
                (
                    Button(
                        self.catalog.intents[s].title[lang], self._data(incoming, Action.ANSWER, s)
                    ),
                )
                for s in reading.suggestions
            )
            human = self._data(incoming, Action.HUMAN_NOT_UNDERSTOOD)
            rows += ((Button(_("🙋 Talk to a person"), human),),)
            reply = TextReply(_("I am not sure I understood. Did you mean:"), rows)
            # Unsure is not answered: the question goes on the content editors' list too.
            return Outcome((reply,), self._remember(state, lang), understanding, unanswered=record)
        reply = self._menu_reply(
            incoming,
            lang,
            _(
                "Sorry, I did not understand. Choose a topic below, write your question in other "
                "words, or talk to a person."
            ),
            human=Action.HUMAN_NOT_UNDERSTOOD,
        )
        return Outcome((reply,), self._remember(state, lang), understanding, unanswered=record)

    def _topic(self, incoming: Incoming, state: UserState, lang: Lang, topic_id: str) -> Outcome:
        topic = self.catalog.topics[topic_id]
        if len(topic.intents) == 1:
            return self._answer(incoming, state, lang, topic.intents[0], None, None)
        _ = self._ui.for_language(lang)
        rows = tuple(
            (Button(self.catalog.intents[i].title[lang], self._data(incoming, Action.ANSWER, i)),)
            for i in topic.intents
        )
        rows += ((Button(_("⬅️ Menu"), self._data(incoming, Action.MENU)),),)
        return self._out(state, lang, TextReply(topic.title[lang], rows))

    def _answer_buttons(
        self, incoming: Incoming, intent: Intent, lang: Lang
    ) -> tuple[tuple[Button, ...], ...]:
        _ = self._ui.for_language(lang)
        rows = [
            (Button(self.catalog.intents[r].title[lang], self._data(incoming, Action.ANSWER, r)),)
            for r in intent.related
            if r in self.catalog.intents
        ]
        last = [Button(_("⬅️ Menu"), self._data(incoming, Action.MENU))]
        if not intent.handoff and not any(
            self.catalog.intents[r].handoff for r in intent.related if r in self.catalog.intents
        ):  # one way to a person is enough
            last.append(Button(_("🙋 Talk to a person"), self._data(incoming, Action.HUMAN)))
        return (*rows, tuple(last))

    def _menu_reply(
        self, incoming: Incoming, lang: Lang, text: str | None, human: Action = Action.HUMAN
    ) -> TextReply:
        _ = self._ui.for_language(lang)
        rows: list[tuple[Button, ...]] = [
            (Button(topic.title[lang], self._data(incoming, Action.TOPIC, topic.id)),)
            for topic in self.catalog.topics.values()
        ]
        rows.append((
            Button(_("🙋 Talk to a person"), self._data(incoming, human)),
            Button(_("🌐 Language"), self._data(incoming, Action.LANGUAGES)),
        ))  # fmt: skip
        return TextReply(text or _("Choose a topic:"), tuple(rows))

    def _language_choice(
        self, incoming: Incoming, lang: Lang, text: str | None = None
    ) -> TextReply:
        _ = self._ui.for_language(lang)
        buttons = tuple(
            Button(NATIVE_NAMES[code], self._data(incoming, Action.SET_LANGUAGE, code))
            for code in LANGUAGES
        )
        return TextReply(text or _("Choose your language:"), (buttons[:2], buttons[2:]))

    # -- for the handoff service ---------------------------------------------------------

    def handoff_notice(
        self,
        user_id: int,
        lang: Lang,
        urgent: bool,
        on_duty: bool,
        opening: str | None,
        reachable: bool,
    ) -> TextReply:
        """What the person is told once a ticket is open: whether someone is on duty, when
        they will be answered, and the emergency numbers again when urgent."""
        _ = self._ui.for_language(lang)
        lines = []
        if urgent:
            lines.append(_("If you are in danger now, call 911. Anonymous reports: 089."))
        if not reachable:
            lines.append(_("Our team cannot see messages right now. Your message is saved and "
                           "they will answer you here as soon as they can."))  # fmt: skip
        elif on_duty:
            lines.append(_("Someone from the team is on duty now and will answer you here."))
        elif opening:
            lines.append(_("Nobody from the team is on duty now. They will answer you here "
                           "from {when} (Chiapas time).").format(when=opening))  # fmt: skip
        else:
            lines.append(_("Nobody from the team is on duty now. They will answer you here as "
                           "soon as they can."))  # fmt: skip
        lines.append(_("Write /cancel to stop waiting."))
        return TextReply("\n".join(lines), self._waiting_buttons(user_id, lang))

    def closing_replies(self, user_id: int, lang: Lang, ticket_id: int) -> tuple[Reply, ...]:
        """The end of a handoff: a goodbye, a one-tap rating, and the menu."""
        _ = self._ui.for_language(lang)
        signer = self._signer
        rate = TextReply(
            _("The person from the team closed this conversation. Did this help?"),
            ((
                Button("👍", signer.data(user_id, Action.RATE, f"{ticket_id}:up")),
                Button("👎", signer.data(user_id, Action.RATE, f"{ticket_id}:down")),
            ),),
        )  # fmt: skip
        incoming = Incoming(user_id, CommandEvent(Command.MENU))
        return (rate, self._menu_reply(incoming, lang, _("What else can I help you with?")))

    def answer_text(self, intent_id: str, lang: Lang) -> str | None:
        intent = self.catalog.intents.get(intent_id)
        return self._answer_text(intent, lang) if intent else None

    def _answer_text(self, intent: Intent, lang: Lang) -> str:
        """The answer as the person reads it: notices in their window first, the text with
        its settings filled in, a caution when it rests on press reports only, and how fresh
        it is."""
        _ = self._ui.for_language(lang)
        text = intent.answer[lang].replace("{retention_days}", str(self._retention_days))
        parts = [f"⚠️ {notice}" for notice in self._notices(intent, lang)]
        parts.append(text)
        if intent.only_press and not intent.urgent:  # never a reason to wait in danger
            parts.append(_("This rests on press reports: check it with our team before you "
                           "act on it."))  # fmt: skip
        if intent.sources:
            month = _(MONTHS[intent.reviewed.month - 1])
            parts.append(_("Information reviewed in {month} {year}.").format(
                month=month, year=intent.reviewed.year
            ))  # fmt: skip
        return "\n\n".join(parts)

    def _notices(self, intent: Intent, lang: Lang) -> list[str]:
        today = self._today()
        places = {p.id for p in self.catalog.places.values() if p.intent == intent.id}
        return [
            notice.text[lang]
            for notice in self.catalog.notices
            if notice.shown_on(today) and ({intent.id} | places) & set(notice.concerns)
        ]

    # -- helpers -------------------------------------------------------------------------

    def _language(self, state: UserState, reading: Reading | None, client: str | None) -> Lang:
        """Saved choice; else the message's own language; else what we guessed before;
        else the app's language; else Spanish."""
        if state.language_chosen and state.language:
            return state.language
        written = message_language(reading.detection) if reading else None
        if written and (reading and reading.detection and not reading.detection.is_short):
            return written
        if state.language:
            return state.language
        return written or as_language(client) or DEFAULT_LANGUAGE

    def _data(self, incoming: Incoming, action: Action, argument: str = "") -> str:
        return self._signer.data(incoming.user_id, action, argument)

    @staticmethod
    def _remember(state: UserState, lang: Lang) -> UserState:
        if not state.language_chosen:
            state.language = lang
        return state

    def _out(self, state: UserState, lang: Lang, *replies: Reply) -> Outcome:
        return Outcome(tuple(replies), self._remember(state, lang))


def _rating(argument: str) -> tuple[int, str] | None:
    number, _, value = argument.partition(":")
    if number.isdigit() and value in ("up", "down"):
        return int(number), value
    return None
