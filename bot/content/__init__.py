"""What the bot knows: intents, places, topics and lexicons loaded from `content/`."""

from bot.content.catalog import Catalog, Intent, Lexicon, Place, Topic
from bot.content.loader import ContentError, load_catalog

__all__ = ["Catalog", "ContentError", "Intent", "Lexicon", "Place", "Topic", "load_catalog"]
