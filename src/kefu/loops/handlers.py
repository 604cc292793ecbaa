"""Reactions to other apps' events and the demo hook of the closed loop."""

from __future__ import annotations


def connect() -> None:
    """Subscribe the reactions (called from LoopsConfig.ready)."""
