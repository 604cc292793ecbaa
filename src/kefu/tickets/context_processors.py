"""The console's navigation: sections a user's role works in."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_permission

SECTIONS = [
    # (url name, label, permission needed or None, url names starting with this mark it active)
    ("inbox", _("Tickets"), None, "inbox"),
    ("call_new", _("Log a call"), "ticket.create", "call"),
    ("customer_list", _("Customers"), "customer.view", "customer"),
    ("knowledge:article_list", _("Knowledge"), "kb.view", "knowledge:"),
    ("bot:tuning", _("Bot tuning"), "bot.tune", "bot:"),
    ("voc:dashboard", _("Voice of customer"), "voc.view", "voc:"),
    ("loops:action_list", _("Improvement"), "loops.view", "loops:"),
    ("sla:policy_list", _("SLA"), "sla.manage", "sla:"),
    ("notifications:webhook_list", _("Webhooks"), "webhook.manage", "notifications:webhook"),
    ("channels:mailbox_list", _("Channels"), "mailbox.manage", "channels:"),
]


def nav_sections(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    match = getattr(request, "resolver_match", None)
    current = (f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name) if match else ""
    sections = []
    for name, label, perm, prefix in SECTIONS:
        if perm and not has_permission(user, perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the page is not installed yet
        sections.append({"url": url, "label": label, "active": current.startswith(prefix)})
    return {"nav_sections": sections}
