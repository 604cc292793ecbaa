"""The voice-of-customer section's tabs, on its own pages only (namespace "voc")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_permission

# (url name, label, permission, url names that mark it active)
TABS = [
    ("dashboard", _("Dashboard"), "voc.view", ("dashboard",)),
    ("insight_list", _("Insights"), "voc.view", ("insight_list", "insight_detail")),
    ("feedback_list", _("Feedback"), "voc.view", ("feedback_list", "feedback_detail")),
    ("review_list", _("Reviews"), "voc.view", ("review_list",)),
    ("import_list", _("Imports"), "voc.import", ("import_list", "import_new", "import_detail")),
    ("models", _("Text models"), "voc.view", ("models",)),
    ("taxonomy_touchpoint", _("Touchpoints"), "voc.view", ()),
    ("taxonomy_cause", _("Causes"), "voc.view", ()),
    ("rules", _("Review tickets"), "voc.import", ("rules",)),
]


def voc_tabs(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.namespace != "voc" or user is None or not user.is_authenticated:
        return {}
    tabs = []
    for name, label, perm, active_on in TABS:
        if not has_permission(user, perm):
            continue
        if name.startswith("taxonomy_"):
            kind = name.removeprefix("taxonomy_")
            url = reverse("voc:taxonomy", kwargs={"kind": kind})
            active = match.url_name == "taxonomy" and match.kwargs.get("kind") == kind
        else:
            url = reverse(f"voc:{name}")
            active = match.url_name in active_on
        tabs.append({"url": url, "label": label, "active": active})
    return {"voc_tabs": tabs}
