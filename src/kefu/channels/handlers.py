"""Reactions to ticket events: a public reply on an email ticket is sent as mail."""


def register() -> None:
    pass
