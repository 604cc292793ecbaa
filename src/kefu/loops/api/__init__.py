"""The closed-loop API (/api/v1/loops/…); each module owns a router for its resources."""

from __future__ import annotations

import importlib

from ninja import Router

router = Router()
for _name in ("actions", "remediation", "risks", "reports"):
    try:
        _module = importlib.import_module(f"kefu.loops.api.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"kefu.loops.api.{_name}":
            raise
        continue
    router.add_router("", _module.router)
