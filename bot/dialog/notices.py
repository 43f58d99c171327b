"""Sentences the transport needs outside a normal reply (errors, command menu)."""

from __future__ import annotations

from bot.i18n import Gettext


def something_went_wrong(_: Gettext) -> str:
    return _("Sorry, something went wrong on our side. Please try again in a moment, or write "
             "/human to reach a person. In danger, call 911.")  # fmt: skip


def command_descriptions(_: Gettext) -> dict[str, str]:
    """The /commands shown in the person's Telegram menu, in their language."""
    return {
        "menu": _("Show the topics"),
        "language": _("Change the language"),
        "human": _("Talk to a person"),
        "help": _("What I can do"),
        "forget": _("Delete my data"),
    }


def private_only(_: Gettext) -> str:
    return _("Hello! I only answer in private chats, so that nobody's questions are seen by "
             "others. Write to me directly.")  # fmt: skip
