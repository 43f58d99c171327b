"""/console in the staff group: the member gets a one-time sign-in link in private."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from telegram import Bot, Update

from bot.config import Settings
from bot.console.auth import redeem_link
from bot.conversation import Conversation
from bot.transport.staff import StaffDesk
from tests.test_staff_transport import ANONYMOUS_ADMIN, STAFF, _run

MEMBER = {"id": 555, "is_bot": False, "first_name": "Ana", "last_name": "Pérez"}


def _command(sender: dict[str, Any], **extra: Any) -> dict[str, Any]:
    chat = {"id": STAFF, "type": "supergroup", "title": "Ops"}
    return {
        "message_id": 700,
        "date": 0,
        "chat": chat,
        "from": sender,
        "text": "/console",
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
        **extra,
    }


def _send(conversation: Conversation, settings: Settings, message: dict[str, Any]):  # type: ignore[no-untyped-def]
    async def steps(staff: StaffDesk, bot: Bot) -> None:
        update = Update.de_json({"update_id": 1, "message": message}, bot)
        await staff.on_command(update, SimpleNamespace(bot=bot))  # type: ignore[arg-type]

    return _run(conversation, settings, steps)


def test_a_member_gets_a_link_in_private_that_signs_them_in_once(
    conversation: Conversation, settings: Settings
) -> None:
    calls = _send(conversation, settings, _command(MEMBER))
    assert [(name, params["chat_id"]) for name, params in calls] == [
        ("sendMessage", 555),
        ("sendMessage", STAFF),
    ]
    private = calls[0][1]["text"]
    assert "/login/" not in calls[1][1]["text"]  # never in the group
    token = re.search(r"/login/(\S+)", private)
    assert token and private.startswith("Su enlace")
    signed_in = redeem_link(conversation.desk.database, token.group(1))
    assert signed_in is not None and signed_in.editor == "Ana Pérez"
    assert redeem_link(conversation.desk.database, token.group(1)) is None


def test_an_administrator_posting_as_the_group_gets_no_link(
    conversation: Conversation, settings: Settings
) -> None:
    group = {"id": STAFF, "type": "supergroup", "title": "Ops"}
    calls = _send(conversation, settings, _command(ANONYMOUS_ADMIN, sender_chat=group))
    assert [(name, params["chat_id"]) for name, params in calls] == [("sendMessage", STAFF)]
    assert "/login/" not in calls[0][1]["text"]
