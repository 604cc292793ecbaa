"""Channel event types (dotted, past tense, never renamed)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register


def _repair_source(data: dict[str, Any]) -> dict[str, Any]:
    from kefu.channels.choices import RepairSource

    source = data.get("source")
    return {**data, "source": RepairSource(source).label if source in RepairSource.values else source}


def _portal_method(data: dict[str, Any]) -> dict[str, Any]:
    labels = {"email": _("email link"), "tracking": _("tracking number and phone")}
    return {**data, "method": labels.get(data.get("method", ""), data.get("method", ""))}


EMAIL_RECEIVED = register("email.received", _("Email received from {from}"))
EMAIL_SENT = register("email.sent", _("Email sent to {to}"))
EMAIL_FAILED = register("email.failed", _("Email to {to} could not be sent: {error}"))
EMAIL_BOUNCED = register("email.bounced", _("Mail to {recipients} bounced"))
EMAIL_AUTO_REPLY = register("email.auto_reply", _("Auto-reply from {from} received (not answered)"))
EMAIL_REJECTED = register("email.rejected", _("Mail from {from} rejected: {reason}"))
MAILBOX_SAVED = register("mailbox.saved", _("Mailbox {address} saved"))
CHANNEL_SETTINGS_SAVED = register(
    "channel_settings.saved", _("Channel settings saved: repair requests go to {team}")
)
REPAIR_REQUESTED = register("repair.requested", _("Repair request submitted via {source}"), _repair_source)
PORTAL_LINK_SENT = register("portal.link_sent", _("Portal sign-in link sent to {email}"))
PORTAL_SIGNED_IN = register(
    "portal.signed_in", _("Customer signed in to the portal ({method})"), _portal_method
)
