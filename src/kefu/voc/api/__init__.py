"""The voice-of-customer API (/api/v1/voc/…); each module owns a router for its resources."""

from __future__ import annotations

import importlib

from ninja import Router

router = Router()
for _name in ("reviews", "feedback", "taxonomy", "analyze", "models", "insights"):
    try:
        _module = importlib.import_module(f"kefu.voc.api.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"kefu.voc.api.{_name}":
            raise
        continue
    router.add_router("", _module.router)
