"""Core replies as Bot API calls: escaped, split to Telegram's limits, keyboards drawn."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit
from telegram.error import RetryAfter

from bot.dialog.events import Reply, TextReply, VenueReply

log = logging.getLogger(__name__)
SAFE_LENGTH = MessageLimit.MAX_TEXT_LENGTH - 600
# How long one update's replies may wait for Telegram's flood control, all waits together,
# before they are left for the update's retry: well within Telegram's patience for a webhook.
PATIENCE_SECONDS = 30.0
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


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


def markup(reply: TextReply) -> ReplyMarkup:
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


@dataclass(frozen=True)
class Call:
    """One Bot API call that sends a reply or a piece of one, as plain JSON data: what an
    attempt could not send can wait in the database for the update's retry."""

    method: str  # "sendMessage" or "sendVenue"
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        return cls(str(data["method"]), dict(data["params"]))


def calls_for(chat_id: int, replies: tuple[Reply, ...]) -> list[Call]:
    """The calls that send `replies` in order; keyboards go with the last piece of a text."""
    calls = []
    for reply in replies:
        if isinstance(reply, VenueReply):
            calls.append(Call("sendVenue", {
                "chat_id": chat_id, "latitude": reply.latitude, "longitude": reply.longitude,
                "title": reply.name, "address": reply.address,
            }))  # fmt: skip
            continue
        # Cut before escaping (an entity is never cut in two), with room for the escapes.
        pieces = [html.escape(p, quote=False) for p in split_text(reply.text, SAFE_LENGTH)]
        keyboard = reply.buttons or reply.location_button
        for number, piece in enumerate(pieces, 1):
            params: dict[str, Any] = {"chat_id": chat_id, "text": piece, "parse_mode": "HTML"}
            if keyboard and number == len(pieces):
                params["reply_markup"] = markup(reply).to_dict()
            calls.append(Call("sendMessage", params))
    return calls


async def make(bot: Bot, call: Call, give_up_at: float) -> None:
    """Makes the call, waiting out Telegram's flood control (a 429 says how long) for as
    long as it takes before `give_up_at` (the event loop's clock); past it, the 429 is
    raised and what is unsent waits for the update's retry (see handlers.py).

    The call goes as the JSON it already is, through the bot's rate limiter like any other;
    Telegram's answer is not read into a Message nobody looks at (the public
    `do_api_request` does the same, but warns for a method the library has)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await bot._post(call.method, dict(call.params))  # private: see above
            return
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            if loop.time() + wait > give_up_at:
                raise
            log.info("flood control: waiting %.0f s before sending again", wait)
            await asyncio.sleep(wait)


async def send_replies(bot: Bot, chat_id: int, replies: tuple[Reply, ...]) -> None:
    """Sends each reply in order, patiently (see `make`)."""
    give_up_at = asyncio.get_running_loop().time() + PATIENCE_SECONDS
    for call in calls_for(chat_id, replies):
        await make(bot, call, give_up_at)


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
