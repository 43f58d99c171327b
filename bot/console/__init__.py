"""The staff console: a small web app where editors see the figures, turn unanswered questions
into examples, keep the answers true and try the bot (docs/CONSOLE.md)."""
