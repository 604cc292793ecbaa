"""Reactions to other apps' events and the demo hook of the closed loop."""

from __future__ import annotations


def connect() -> None:
    """Subscribe the reactions (called from LoopsConfig.ready). The demo receiver is connected after
    the voice-of-customer one (kefu.voc comes before kefu.loops in INSTALLED_APPS, and apps are made
    ready in that order), so the insights it turns into actions exist."""
    from kefu.core.signals import demo_seeded
    from kefu.loops.demo import on_demo_seeded

    demo_seeded.connect(on_demo_seeded, dispatch_uid="loops-demo")
