"""The `migrant-bot` command line."""
