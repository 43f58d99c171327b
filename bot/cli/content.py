"""`migrant-bot content export --json`: the loaded catalog, for tools and reviews."""

from __future__ import annotations

import argparse
import json
import sys

from bot.config import Settings
from bot.content.loader import ContentError, load_catalog


def register(parser: argparse.ArgumentParser) -> None:
    """The sub-command's arguments (its name and help are in bot.cli.main)."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="print the catalog")
    export.add_argument("--json", action="store_true", required=True, help="as JSON")
    export.set_defaults(handler=handle_export)


def handle_export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        catalog = load_catalog(settings.content_dir)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    document = {
        "version": catalog.version,
        "intents": [i.model_dump(mode="json") for i in catalog.intents.values()],
        "places": [p.model_dump(mode="json") for p in catalog.places.values()],
        "topics": [t.model_dump(mode="json") for t in catalog.topics.values()],
    }
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0
