"""Reactions to other apps' events: tickets and bot conversations become feedback items."""

from __future__ import annotations


def connect() -> None:
    """Subscribe the reactions (called from VocConfig.ready)."""
