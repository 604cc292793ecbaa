"""The console's navigation: sections a user's role works in."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_permission

SECTIONS = [
    # (url name, label, permission needed or None)
    ("inbox", _("Tickets"), None),
    ("call_new", _("Log a call"), "ticket.create"),
    ("customer_list", _("Customers"), "customer.view"),
    ("sla:policy_list", _("SLA"), "sla.manage"),
]


def nav_sections(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    sections = []
    for name, label, perm in SECTIONS:
        if perm and not has_permission(user, perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the page is not installed yet
        sections.append({"url": url, "label": label, "active": current.startswith(name.split("_")[0])})
    return {"nav_sections": sections}
