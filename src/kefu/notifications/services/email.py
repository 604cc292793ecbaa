"""Notification emails: plain text, in the site language, sent once (emailed_at is the claim)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from kefu.core import clock
from kefu.notifications.models import Notification

SUBJECT_PREFIX = "[kefu] "
MAX_SUBJECT = 180
_SPACE = re.compile(r"\s+")


def base_url() -> str:
    return str(getattr(settings, "KEFU_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def email_subject(n: Notification) -> str:
    text = _SPACE.sub(" ", n.text).strip()
    number = n.ticket.number if n.ticket_id and n.ticket and n.ticket.number else ""
    if number and number not in text:
        text = f"{text} ({number})"
    subject = SUBJECT_PREFIX + text
    return subject if len(subject) <= MAX_SUBJECT else subject[: MAX_SUBJECT - 1] + "…"


def compose_notification_email(n: Notification) -> EmailMessage:
    language = getattr(settings, "KEFU_EMAIL_LANGUAGE", None) or settings.LANGUAGE_CODE
    try:
        tz = ZoneInfo(n.recipient.time_zone or settings.TIME_ZONE)
    except (KeyError, ValueError):
        tz = ZoneInfo(settings.TIME_ZONE)
    with translation.override(language), timezone.override(tz):
        ticket = n.ticket if n.ticket_id else None
        context = {
            "notification": n,
            "recipient": n.recipient,
            "text": n.text,
            "ticket": ticket,
            "ticket_url": base_url() + reverse("ticket_detail", args=[ticket.pk]) if ticket else "",
            "notifications_url": base_url() + reverse("notifications:list"),
            "created_at": n.created_at,
        }
        subject = email_subject(n)
        body = render_to_string("notifications/email/notification.txt", context)
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[n.recipient.email],
        headers={"Auto-Submitted": "auto-generated", "X-Kefu-Notification": str(n.pk)},
    )


def send_notification_email(*, notification_id: int) -> bool:
    """Email one notification to its recipient, once. Returns False when there is nothing to send
    (already emailed, recipient inactive or without an address). On a sending error the claim is
    released and the error raised, so the task's retry sends it later."""
    n = Notification.objects.select_related("recipient", "ticket").filter(pk=notification_id).first()
    if n is None or n.emailed_at is not None or not n.recipient.is_active or not n.recipient.email:
        return False
    now = clock.now()
    if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=now):
        return False  # another worker has it
    try:
        compose_notification_email(n).send()
    except Exception:
        Notification.objects.filter(pk=n.pk, emailed_at=now).update(emailed_at=None)
        raise
    n.emailed_at = now
    return True
