"""migrant-bot: answers for migrants in southern Mexico in es, en, fr and ht."""
