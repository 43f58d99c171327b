"""The Telegram adapter: the only package that imports `telegram`.

`updates.py` turns Updates into core events, `replies.py` turns core replies into Bot API
calls, `handlers.py` wires them to python-telegram-bot, `app.py` builds and runs it.
"""

import os

# Opt in to python-telegram-bot's next behaviour (durations as timedelta), which also keeps its
# deprecation warning about flood-control retries out of the logs.
os.environ.setdefault("PTB_TIMEDELTA", "1")
