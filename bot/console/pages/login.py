"""Signing in with a one-time link, and signing out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console import audit, auth
from bot.console.csrf import checked_form
from bot.console.web import COOKIE, Console, render, set_session_cookie

SPENT = (
    "This link has expired or was used already. Ask for a new one: /console in the staff group."
)


async def ask_for_link(request: Request) -> Response:
    return render(request, "login.html")


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _limited(request: Request) -> Response | None:
    console: Console = request.app.state.console
    if not console.limiter.blocked(_client(request)):
        return None
    return render(request, "error.html", status=429, message="Too many sign-in attempts: "
                  "wait ten minutes and ask for a new link.")  # fmt: skip


async def confirm(request: Request) -> Response:
    """The link's page: a button that signs in. Opening the link alone (a chat app fetching a
    preview) must not use it up."""
    return _limited(request) or render(
        request, "login_confirm.html", token=request.path_params["token"]
    )


async def sign_in(request: Request) -> Response:
    limited = _limited(request)
    if limited:
        return limited
    console: Console = request.app.state.console
    signed_in = await run_in_threadpool(
        auth.redeem_link, console.database, request.path_params["token"]
    )
    if signed_in is None:
        console.limiter.failed(_client(request))
        return render(request, "error.html", status=403, message=SPENT)
    await run_in_threadpool(audit.record, console.database, signed_in.editor, "sign in", "")
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, signed_in)
    return response


async def sign_out(request: Request) -> Response:
    await checked_form(request)
    console: Console = request.app.state.console
    signed_in = request.state.signed_in
    await run_in_threadpool(auth.end_session, console.database, signed_in.session_id)
    await run_in_threadpool(audit.record, console.database, signed_in.editor, "sign out", "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


routes = [
    Route("/login", ask_for_link),
    Route("/login/{token}", confirm, methods=["GET"]),
    Route("/login/{token}", sign_in, methods=["POST"]),
    Route("/logout", sign_out, methods=["POST"]),
]
