"""``python -m tests.emulator --port PORT [--host 127.0.0.1]``: run the emulator standalone."""

from __future__ import annotations

import argparse
import asyncio
import functools

from .server import serve
from .state import DEFAULT_BOT_NAME, DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, BotProfile, EmulatorState


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the only token accepted")
    parser.add_argument("--bot-name", default=DEFAULT_BOT_NAME)
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    parser.add_argument(
        "--no-privacy",
        action="store_true",
        help="let the bot read every group message (privacy mode off)",
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    profile = BotProfile(
        token=args.token,
        first_name=args.bot_name,
        username=args.bot_username,
        privacy_mode=not args.no_privacy,
    )
    announce = functools.partial(print, flush=True)
    asyncio.run(
        serve(EmulatorState(profile), args.host, args.port, announce, log_level=args.log_level)
    )


if __name__ == "__main__":
    main()
