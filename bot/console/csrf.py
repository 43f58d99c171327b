"""CSRF protection: every form carries a token derived from the session, checked on POST.

The cookie is SameSite=Strict already; the token is the second lock, for browsers or
proxies that do not honour it.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

FIELD = "csrf_token"


def token_for(key: bytes, session_id: str) -> str:
    return hmac.new(key, f"csrf|{session_id}".encode(), hashlib.sha256).hexdigest()


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token matched the session's; 403 otherwise."""
    form = await request.form()
    expected = token_for(request.app.state.console.key, request.state.signed_in.session_id)
    given = form.get(FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "This form has expired or did not come from the console.")
    return form
