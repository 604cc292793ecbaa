"""The closed loop section's tabs, on its own pages only (namespace "loops")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.nav import Tab, section_tabs

TABS = [
    Tab(
        "action_list", _("Improvement actions"), "loops.view", ("action_list", "action_new", "action_detail")
    ),
    Tab("owner", _("My department"), "loops.own", ("owner",)),
    Tab("remediation_list", _("Remediation"), "loops.view", ("remediation_list", "remediation_new")),
    Tab("risk_list", _("Risks"), "loops.view", ("risk_list", "risk_new", "risk_detail")),
    Tab("report_list", _("Weekly reports"), "loops.view", ("report_list", "report_detail")),
    Tab("settings", _("Settings"), "loops.settings", ("settings",)),
]


def loops_tabs(request: HttpRequest) -> dict[str, Any]:
    return section_tabs(request, "loops", _("Closed loop"), TABS)
