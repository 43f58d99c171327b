"""Handing a conversation to a human operator: tickets, working hours, the staff desk.

Knows nothing of Telegram: the transport asks the desk what to do and reports what it did.
"""
