"""A section's tab bar (templates/partials/section_tabs.html): the tabs of an app's pages that the
user may open, the current one marked. Each app's context processor lists its tabs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise

from kefu.core.permissions import has_permission


class Tab(NamedTuple):
    url_name: str  # within the namespace
    label: str | Promise
    permission: str
    active_on: Sequence[str]  # url names (within the namespace) that mark it current
    kwargs: Mapping[str, Any] = {}  # URL arguments; they must match too for the tab to be current


def section_tabs(
    request: HttpRequest, namespace: str, label: str | Promise, tabs: Sequence[Tab]
) -> dict[str, Any]:
    """{"section_tabs": […], "section_label": label} on the pages of `namespace`, else {}."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.namespace != namespace or user is None or not user.is_authenticated:
        return {}
    shown = [
        {
            "url": reverse(f"{namespace}:{tab.url_name}", kwargs=dict(tab.kwargs) or None),
            "label": tab.label,
            "active": match.url_name in tab.active_on
            and all(match.kwargs.get(k) == v for k, v in tab.kwargs.items()),
        }
        for tab in tabs
        if has_permission(user, tab.permission)
    ]
    return {"section_tabs": shown, "section_label": label}
