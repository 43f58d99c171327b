"""What operators read in the staff group, in the staff's language (gettext)."""

from __future__ import annotations

import datetime as dt

from bot.handoff.desk import TicketView
from bot.i18n import Gettext
from bot.live import Reloaded


def _reason(reason: str, _: Gettext) -> str:
    return {
        "asked": _("asked for a person"),
        "not_understood": _("the bot did not understand"),
        "emergency": _("EMERGENCY"),
    }.get(reason, reason)


def _waiting(ticket: TicketView, now: dt.datetime) -> int:
    return max(0, int((now - ticket.opened_at).total_seconds() // 60))


def topic_name(ticket: TicketView, _: Gettext) -> str:
    """Like "🔴 #42 · HT · Persona 4821": urgency, number, language, pseudonym."""
    icon = "🔴" if ticket.urgent else "🟢"
    person = _("Person {number}").format(number=ticket.pseudonym)
    return f"{icon} #{ticket.id} · {ticket.language.upper()} · {person}"


def header(
    ticket: TicketView,
    recent: list[str],
    guesses: list[str],
    now: dt.datetime,
    zone: dt.tzinfo,
    _: Gettext,
) -> str:
    """The first message of a ticket: who (a pseudonym), language, why, since when, context."""
    lines = [
        topic_name(ticket, _),
        _("Reason: {reason}").format(reason=_reason(ticket.reason, _)),
        _("Waiting since {time} ({minutes} min)").format(
            time=ticket.opened_at.astimezone(zone).strftime("%H:%M"),
            minutes=_waiting(ticket, now),
        ),
    ]
    if recent:
        lines.append(_("Last messages:"))
        lines += [f"» {text[:300]}" for text in recent]
    if guesses:
        lines.append(_("The bot's guesses: {intents}").format(intents=", ".join(guesses)))
    lines.append(
        _("Reply here to answer (the person sees the bot, not you). /note TEXT stays "
          "internal. /answer INTENT_ID sends that answer in the person's language. /close ends.")
    )  # fmt: skip
    return "\n".join(lines)


def queue(tickets: list[TicketView], now: dt.datetime, _: Gettext) -> str:
    if not tickets:
        return _("No open tickets.")
    lines = [_("Open tickets (urgent first, then longest waiting):")]
    for ticket in tickets:
        who = ticket.operator_name or _("nobody")
        lines.append(
            _("{name} — waiting {minutes} min — claimed by {who}").format(
                name=topic_name(ticket, _), minutes=_waiting(ticket, now), who=who
            )
        )
    return "\n".join(lines)


def claimed_by(name: str, _: Gettext) -> str:
    return _("Claimed by {name}.").format(name=name)


def anonymous_admin(_: Gettext) -> str:
    """The name of an administrator who posts as the group, without a custom title."""
    return _("Anonymous administrator")


def already_claimed(name: str | None, _: Gettext) -> str:
    return _("Already claimed by {name}.").format(name=name or "?")


def closed_by(name: str, _: Gettext) -> str:
    return _("Closed by {name}. The person got the closing message and the menu.").format(
        name=name
    )


def now_urgent(_: Gettext) -> str:
    return _("⚠️ This person may now be in danger: the ticket is URGENT. They were given 911.")


def still_waiting(ticket: TicketView, now: dt.datetime, _: Gettext) -> str:
    return _(
        "⏰ Urgent ticket #{number} has waited {minutes} min and nobody has claimed it."
    ).format(number=ticket.id, minutes=_waiting(ticket, now))


def reopened(_: Gettext) -> str:
    return _("↩️ The person asked for help again. They opened the most new tickets allowed in "
             "an hour, so this ticket is open again instead of a new one.")  # fmt: skip


def cancelled(_: Gettext) -> str:
    return _("The person stopped waiting (/cancel). Ticket closed.")


def forgotten(ticket: TicketView, _: Gettext) -> str:
    """Said in the group, and left in place of a header the bot may no longer delete."""
    text = _("🗑 Ticket #{number}: the person asked to delete their data. The bot deleted the "
             "ticket and its messages here, as far as Telegram allows.")  # fmt: skip
    return text.format(number=ticket.id)


def sent_answer(intent: str, language: str, text: str, _: Gettext) -> str:
    return (
        _("Sent to the person ({language}, {intent}):").format(
            language=language.upper(), intent=intent
        )
        + f"\n{text}"
    )


def unknown_intent(intent: str, _: Gettext) -> str:
    return _('There is no intent "{intent}". /answer takes an id like cbp_one_status.').format(
        intent=intent
    )


def not_delivered(reason: str, _: Gettext) -> str:
    return _("⚠️ Not delivered to the person: {reason}").format(reason=reason)


def blocked(_: Gettext) -> str:
    return _("the person blocked the bot")


def no_ticket_here(_: Gettext) -> str:
    return _(
        "This is not an open ticket. Use it in a ticket's topic, or as a reply to its header."
    )


def claim_button(_: Gettext) -> str:
    return _("✋ Claim")


def close_button(_: Gettext) -> str:
    return _("✅ Close")


def reloaded(result: Reloaded, _: Gettext) -> str:
    """What staff read after /reload or an automatic reload."""
    if result.problems:
        lines = [
            _("The content was NOT reloaded: fix these problems (the bot keeps version {version}):"
              ).format(version=result.version)
        ]  # fmt: skip
        lines += [str(p) for p in result.problems[:15]]
        if len(result.problems) > 15:
            lines.append(_("… and {count} more: run migrant-bot check").format(
                count=len(result.problems) - 15))  # fmt: skip
        return "\n".join(lines)
    if result.changed:
        return _("Content reloaded: version {version}, {count} intents.").format(
            version=result.version, count=result.intents
        )
    return _("The content has not changed (version {version}).").format(version=result.version)


def console_link(link: str, _: Gettext) -> str:
    return _(
        "Your sign-in link to the staff console (works once, for 10 minutes):\n{link}"
    ).format(link=link)


def console_link_sent(_: Gettext) -> str:
    return _("I sent you a sign-in link to the console in a private message.")


def console_start_private(_: Gettext) -> str:
    return _("I cannot write to you in private: open a chat with me, press Start, then send "
             "/console here again.")  # fmt: skip


def console_needs_member(_: Gettext) -> str:
    return _("Only a member writing as themselves can get a console link (not as the group).")
