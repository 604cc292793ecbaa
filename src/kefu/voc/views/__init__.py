"""Voice-of-customer pages; each module lists its own routes in `urlpatterns`."""

from __future__ import annotations

import importlib

from django.urls import URLPattern

# the page modules; a module not written yet is skipped
_MODULES = ("dashboards", "feedback", "taxonomy", "imports", "reviews", "models", "insights")

urlpatterns: list[URLPattern] = []
for _name in _MODULES:
    try:
        _module = importlib.import_module(f"kefu.voc.views.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"kefu.voc.views.{_name}":
            raise
        continue
    urlpatterns += _module.urlpatterns
