"""Understanding a message: normalise it, detect its language, match it to an intent."""
