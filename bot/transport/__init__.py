"""The Telegram adapter: the only package that imports `telegram`.

`updates.py` turns Updates into core events, `replies.py` turns core replies into Bot API
calls, `handlers.py` wires them to python-telegram-bot, `app.py` builds and runs it.
"""
