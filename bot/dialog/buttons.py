"""Button callback data that the engine can verify before acting on it.

Data is `kind:argument~signature`. The signature binds the button to the person it was sent
to, so a forged or copied press cannot act for someone else, and it keeps within Telegram's
64 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

MAX_DATA_BYTES = 64
_SIGNATURE_CHARS = 10


class Action(StrEnum):
    ANSWER = "a"  # argument: intent id
    TOPIC = "t"  # argument: topic id
    MENU = "m"
    LANGUAGES = "L"  # show the language choice
    SET_LANGUAGE = "l"  # argument: language code
    HUMAN = "h"
    FORGET_YES = "fy"
    FORGET_NO = "fn"
    RATE = "r"  # argument: "<ticket id>:up" or "<ticket id>:down"
    HUMAN_NOT_UNDERSTOOD = "hn"  # "talk to a person" offered after a failed match
    STOP_WAITING = "x"  # leave the queue for a person
    STAFF = "S"  # a ticket button in the staff group; argument: "claim.<id>" or "close.<id>"


@dataclass(frozen=True)
class Press:
    action: Action
    argument: str = ""


class ButtonSigner:
    """Signs and verifies callback data with a secret shared by every worker."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def data(self, user_id: int, action: Action, argument: str = "") -> str:
        body = f"{action.value}:{argument}"
        data = f"{body}~{self._sign(user_id, body)}"
        if len(data.encode()) > MAX_DATA_BYTES:
            raise ValueError(f"callback data over {MAX_DATA_BYTES} bytes: {body!r}")
        return data

    def verify(self, user_id: int, data: str) -> Press | None:
        """The press, or None if the data is malformed, unknown or not signed for this user."""
        body, sep, signature = data.rpartition("~")
        # Bytes, not str: a forged press may carry any UTF-8, which compare_digest refuses.
        expected = self._sign(user_id, body).encode()
        if not sep or not hmac.compare_digest(signature.encode(), expected):
            return None
        code, _, argument = body.partition(":")
        try:
            return Press(Action(code), argument)
        except ValueError:
            return None

    def _sign(self, user_id: int, body: str) -> str:
        digest = hmac.new(self._secret, f"{user_id}|{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]
