"""Core replies as Bot API calls: escaped, split to Telegram's limits, keyboards drawn."""

from __future__ import annotations

import html

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit, ParseMode

from bot.dialog.events import Reply, TextReply, VenueReply

SAFE_LENGTH = MessageLimit.MAX_TEXT_LENGTH - 600


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cuts text into pieces under `limit`, at paragraph, then line, then word boundaries."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = rest.rfind(separator, 0, limit)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def markup(reply: TextReply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove:
    if reply.location_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.location_button, request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
             for row in reply.buttons]
        )  # fmt: skip
    return ReplyKeyboardRemove()


async def send_replies(bot: Bot, chat_id: int, replies: tuple[Reply, ...]) -> None:
    """Sends each reply in order; keyboards go with the last piece of a long text."""
    for reply in replies:
        if isinstance(reply, VenueReply):
            await bot.send_venue(
                chat_id=chat_id,
                latitude=reply.latitude,
                longitude=reply.longitude,
                title=reply.name,
                address=reply.address,
            )
            continue
        # Cut before escaping (an entity is never cut in two), with room for the escapes.
        pieces = [html.escape(p, quote=False) for p in split_text(reply.text, SAFE_LENGTH)]
        for number, piece in enumerate(pieces, 1):
            last = number == len(pieces)
            await bot.send_message(
                chat_id=chat_id,
                text=piece,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(reply) if last and (reply.buttons or reply.location_button)
                else None,
            )  # fmt: skip
