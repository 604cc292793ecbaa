"""Reactions to other apps' events (none yet); the demo's handbook."""


def register() -> None:
    pass
