"""Closed-loop pages; each module lists its own routes in `urlpatterns`."""

from __future__ import annotations

import importlib

from django.urls import URLPattern

# the page modules; a module not written yet is skipped
_MODULES = ("actions", "owner", "remediation", "risks", "reports", "settings")

urlpatterns: list[URLPattern] = []
for _name in _MODULES:
    try:
        _module = importlib.import_module(f"kefu.loops.views.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"kefu.loops.views.{_name}":
            raise
        continue
    urlpatterns += _module.urlpatterns
