"""The conversation: a pure engine from one event and a person's state to replies."""
