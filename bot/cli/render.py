"""Replies as terminal text and as JSON; shared by `ask` and `chat`."""

from __future__ import annotations

from typing import Any

from bot.dialog.events import Button, Outcome, Reply, TextReply, VenueReply


def render(replies: tuple[Reply, ...]) -> tuple[str, list[Button]]:
    """The replies as text, buttons numbered in the order they are listed."""
    lines: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        if isinstance(reply, VenueReply):
            distance = f" ({reply.distance_km:.0f} km)" if reply.distance_km is not None else ""
            lines.append(f"📍 {reply.name}{distance}\n   {reply.address}\n"
                         f"   {reply.latitude:.4f}, {reply.longitude:.4f}")  # fmt: skip
            continue
        lines.append(reply.text)
        if reply.location_button:
            lines.append(f"  [{reply.location_button}: type /location LAT LON]")
        for row in reply.buttons:
            for button in row:
                buttons.append(button)
                lines.append(f"  [{len(buttons)}] {button.label}")
        lines.append("")
    return "\n".join(lines).rstrip(), buttons


def as_json(text: str, outcome: Outcome) -> dict[str, Any]:
    """The `ask --json` contract: text, language, intent, confidence, answer, suggestions,
    handoff, and danger (the reply gives the emergency numbers first)."""
    understanding = outcome.understanding
    first = next((r for r in outcome.replies if isinstance(r, TextReply)), None)
    intent = understanding.intent if understanding else None
    return {
        "text": text,
        "language": understanding.language if understanding else outcome.state.language,
        "intent": intent,
        "confidence": understanding.confidence if understanding else 0.0,
        "answer": first.text if first and intent else None,
        "suggestions": list(understanding.suggestions) if understanding else [],
        "handoff": outcome.handoff is not None,
        "danger": outcome.danger,
    }
