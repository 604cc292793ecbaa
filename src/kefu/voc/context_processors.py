"""The voice-of-customer section's tabs, on its own pages only (namespace "voc")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.nav import Tab, section_tabs

TABS = [
    Tab("dashboard", _("Dashboard"), "voc.view", ("dashboard",)),
    Tab("insight_list", _("Insights"), "voc.view", ("insight_list", "insight_detail")),
    Tab("feedback_list", _("Feedback"), "voc.view", ("feedback_list", "feedback_detail")),
    Tab("review_list", _("Reviews"), "voc.view", ("review_list",)),
    Tab("import_list", _("Imports"), "voc.import", ("import_list", "import_new", "import_detail")),
    Tab("models", _("Text models"), "voc.view", ("models",)),
    Tab("taxonomy", _("Touchpoints"), "voc.view", ("taxonomy",), {"kind": "touchpoint"}),
    Tab("taxonomy", _("Causes"), "voc.view", ("taxonomy",), {"kind": "cause"}),
    Tab("rules", _("Review tickets"), "voc.import", ("rules",)),
]


def voc_tabs(request: HttpRequest) -> dict[str, Any]:
    return section_tabs(request, "voc", _("Voice of customer"), TABS)
