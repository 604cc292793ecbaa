"""Closed-loop pages; each module lists its own routes in `urlpatterns`."""

from __future__ import annotations

from django.urls import URLPattern

from kefu.loops.views import actions, owner, remediation, reports, risks, settings

urlpatterns: list[URLPattern] = [
    *actions.urlpatterns,
    *owner.urlpatterns,
    *remediation.urlpatterns,
    *risks.urlpatterns,
    *reports.urlpatterns,
    *settings.urlpatterns,
]
