"""One way every change is saved: checked on a copy, refused with its problems, or written,
recorded with its editor, and served at once (the running bot follows the files too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bot.console import audit, editing
from bot.console.web import Console
from bot.live import Reloaded


@dataclass(frozen=True)
class Saved:
    checked: editing.Checked
    edit: editing.Edit
    commit: str | None = None
    reloaded: Reloaded | None = None

    @property
    def ok(self) -> bool:
        return self.checked.ok and self.reloaded is not None


def today(console: Console) -> dt.date:
    return dt.datetime.now(console.zone).date()


async def save(request: Request, make: Callable[[], editing.Edit], action: str) -> Saved:
    """Makes the edit from the files as they are and writes it unless the content check finds
    an error in the result; one save at a time, so two editors never overwrite each other
    (an EditError from `make` passes)."""
    console: Console = request.app.state.console
    async with console.saving:
        edit = await run_in_threadpool(make)
        checked = await run_in_threadpool(editing.check, console.content_dir, edit)
        if not checked.ok:
            return Saved(checked, edit)
        editor = request.state.signed_in.editor
        commit = await run_in_threadpool(editing.save, edit, editor)
        where = f"{edit.path.relative_to(console.content_dir.parent)}:{edit.line}"
        await run_in_threadpool(
            audit.record, console.database, editor, action, f"{edit.summary} ({where})"
        )
        # Training on new examples takes seconds; the old engine answers until the swap.
        reloaded = await run_in_threadpool(console.live.reload)
    return Saved(checked, edit, commit, reloaded)
