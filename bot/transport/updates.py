"""Telegram Updates as core events: nothing of Telegram goes past this module."""

from __future__ import annotations

from telegram import Message, Update

from bot.dialog.events import (
    ButtonEvent,
    Command,
    CommandEvent,
    Event,
    Incoming,
    LocationEvent,
    MediaEvent,
    MediaKind,
    TextEvent,
)

_COMMANDS = {c.value: c for c in Command}
# Telegram message fields the bot cannot read, and what the person is told they sent.
_MEDIA = (
    ("voice", MediaKind.VOICE),
    ("audio", MediaKind.VOICE),
    ("video_note", MediaKind.VIDEO),
    ("video", MediaKind.VIDEO),
    ("animation", MediaKind.VIDEO),
    ("photo", MediaKind.PHOTO),
    ("sticker", MediaKind.STICKER),
    ("document", MediaKind.DOCUMENT),
    ("contact", MediaKind.CONTACT),
)


def to_incoming(update: Update) -> Incoming | None:
    """The core event of a private-chat update, or None when there is nothing to answer."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    event: Event | None
    if update.callback_query is not None:
        event = ButtonEvent(update.callback_query.data or "")
    elif update.edited_message is not None and update.edited_message.location is not None:
        # A live location moving arrives as edits: answered once, when it was shared.
        event = None
    else:
        message = update.message or update.edited_message
        event = _message_event(message) if message is not None else None
    if event is None:
        return None
    message_id = None if update.callback_query else update.effective_message.message_id  # type: ignore[union-attr]
    return Incoming(
        user_id=user.id, event=event, client_language=user.language_code, message_id=message_id
    )


def _message_event(message: Message) -> Event | None:
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            head, _, argument = text[1:].partition(" ")
            name = head.split("@", 1)[0].lower()
            return CommandEvent(_COMMANDS.get(name), argument.strip(), name)
        return TextEvent(text)
    if message.location is not None:
        return LocationEvent(message.location.latitude, message.location.longitude)
    if message.venue is not None:
        return LocationEvent(message.venue.location.latitude, message.venue.location.longitude)
    if message.caption:  # a photo of a paper with a question under it: answer the question
        return TextEvent(message.caption)
    for field, kind in _MEDIA:
        if getattr(message, field, None):
            return MediaEvent(kind)
    if message.poll is not None or message.dice is not None:
        return MediaEvent(MediaKind.OTHER)
    return None  # service messages (a member joined, a pinned message...): nothing to say
