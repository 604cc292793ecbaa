"""The closed loop section's tabs, on its own pages only (namespace "loops")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_permission

# (url name, label, permission, url names that mark it active)
TABS = [
    ("action_list", _("Improvement actions"), "loops.view", ("action_list", "action_new", "action_detail")),
    ("owner", _("My department"), "loops.own", ("owner",)),
    ("remediation_list", _("Remediation"), "loops.view", ("remediation_list", "remediation_new")),
    ("risk_list", _("Risks"), "loops.view", ("risk_list", "risk_new", "risk_detail")),
    ("report_list", _("Weekly reports"), "loops.view", ("report_list", "report_detail")),
    ("settings", _("Settings"), "loops.settings", ("settings",)),
]


def loops_tabs(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.namespace != "loops" or user is None or not user.is_authenticated:
        return {}
    tabs = [
        {"url": reverse(f"loops:{name}"), "label": label, "active": match.url_name in active_on}
        for name, label, perm, active_on in TABS
        if has_permission(user, perm)
    ]
    return {"loops_tabs": tabs}
