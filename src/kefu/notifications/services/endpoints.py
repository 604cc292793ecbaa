"""Webhook endpoints: configuration writes (admin only), each audited without secrets or full URLs."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.notifications import events
from kefu.notifications.choices import DeliveryStatus
from kefu.notifications.models import WebhookDelivery, WebhookEndpoint

PERMISSION = "webhook.manage"
MAX_PATTERNS = 50
MAX_PATTERN_LENGTH = 64
MAX_URL_LENGTH = 500
PATTERN = re.compile(r"^(\*|[a-z0-9_*]+(\.[a-z0-9_*]+)+)$")
SECRET_PREFIX = "whsec_"

# --- validation ----------------------------------------------------------------------------------


def clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationFailed(_("Name is required."), field="name")
    if len(name) > 100:
        raise ValidationFailed(_("Name must be at most 100 characters."), field="name")
    return name


def clean_url(value: Any) -> str:
    url = str(value or "").strip()
    if not url:
        raise ValidationFailed(_("URL is required."), field="url")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(
            _("URL must be at most %(n)d characters.") % {"n": MAX_URL_LENGTH}, field="url"
        )
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationFailed(
            _("URL must be a full http:// or https:// address, such as https://example.com/hooks/kefu."),
            field="url",
        ) from None
    return url


def clean_patterns(value: Any) -> list[str]:
    """Event patterns: "*" or dotted verbs with * wildcards ("ticket.*", "sla.breached")."""
    items = value.replace(",", "\n").splitlines() if isinstance(value, str) else list(value or [])
    patterns = list(dict.fromkeys(str(p).strip().lower() for p in items if str(p).strip()))
    if not patterns:
        raise ValidationFailed(
            _("Give at least one event pattern, such as ticket.* or * for every event."), field="patterns"
        )
    if len(patterns) > MAX_PATTERNS:
        raise ValidationFailed(_("At most %(n)d event patterns.") % {"n": MAX_PATTERNS}, field="patterns")
    for p in patterns:
        if len(p) > MAX_PATTERN_LENGTH or not PATTERN.match(p):
            raise ValidationFailed(
                _(
                    "“%(pattern)s” is not an event pattern: use * or a dotted event type such as "
                    "ticket.created, ticket.* or sla.breached."
                )
                % {"pattern": p[:MAX_PATTERN_LENGTH]},
                field="patterns",
            )
    return patterns


def url_host(url: str) -> str:
    """The host (and port) of a URL, without credentials, path or query: what audit events keep."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- "is any endpoint active?" (asked after every commit; cached per process for a few seconds) ----

_ACTIVE_TTL = 5.0
_active_lock = threading.Lock()
_active_cache: dict[str, tuple[float, bool]] = {}


def has_active_endpoints() -> bool:
    now = time.monotonic()
    cached = _active_cache.get("active")
    if cached is not None and now - cached[0] < _ACTIVE_TTL:
        return cached[1]
    value = WebhookEndpoint.objects.filter(is_active=True).exists()
    with _active_lock:
        _active_cache["active"] = (now, value)
    return value


def forget_active_endpoints() -> None:
    with _active_lock:
        _active_cache.clear()


# --- services -------------------------------------------------------------------------------------


def _last_event_id() -> int:
    return AuditEvent.objects.aggregate(m=Max("pk"))["m"] or 0


def _lock_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("Webhook endpoint %(id)s not found.") % {"id": endpoint_id}, field="endpoint_id")
    return endpoint


@transaction.atomic
def create_webhook_endpoint(
    *, actor: User, name: str, url: str, patterns: Iterable[str] | str, is_active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it with its signing secret (show it to the admin once). It receives
    events recorded from now on."""
    authorize(actor, PERMISSION)
    now = clock.now()
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        name=clean_name(name),
        url=clean_url(url),
        patterns=clean_patterns(patterns),
        is_active=bool(is_active),
        secret=secret,
        cursor_event_id=_last_event_id(),
        active_since=now,
        created_at=now,
        updated_at=now,
    )
    record_event(
        actor=actor,
        verb=events.WEBHOOK_CREATED.verb,
        subject=endpoint,
        data={
            "name": endpoint.name,
            "host": url_host(endpoint.url),
            "patterns": endpoint.patterns,
            "is_active": endpoint.is_active,
        },
    )
    transaction.on_commit(forget_active_endpoints)
    return endpoint, secret


@transaction.atomic
def update_webhook_endpoint(
    *,
    actor: User,
    endpoint_id: int,
    name: str | None = None,
    url: str | None = None,
    patterns: Iterable[str] | str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's name, URL, patterns or active flag (None leaves a field as it is). A
    paused endpoint misses the events recorded while it was paused."""
    authorize(actor, PERMISSION)
    endpoint = _lock_endpoint(endpoint_id)
    changes: dict[str, dict[str, Any]] = {}
    new: dict[str, Any] = {}
    if name is not None:
        new["name"] = clean_name(name)
    if url is not None:
        new["url"] = clean_url(url)
    if patterns is not None:
        new["patterns"] = clean_patterns(patterns)
    if is_active is not None:
        new["is_active"] = bool(is_active)
    for field, value in new.items():
        old = getattr(endpoint, field)
        if old == value:
            continue
        if field == "url":
            changes["url"] = {"from": url_host(old), "to": url_host(value)}
        else:
            changes[field] = {"from": old, "to": value}
        setattr(endpoint, field, value)
    if not changes:
        return endpoint
    now = clock.now()
    if changes.get("is_active", {}).get("to") is True:
        # resume from now: what happened while paused is not sent
        endpoint.cursor_event_id = max(endpoint.cursor_event_id, _last_event_id())
        endpoint.active_since = now
    endpoint.updated_at = now
    endpoint.save()
    record_event(
        actor=actor,
        verb=events.WEBHOOK_UPDATED.verb,
        subject=endpoint,
        data={"name": endpoint.name, "fields": ", ".join(sorted(changes)), "changes": changes},
    )
    transaction.on_commit(forget_active_endpoints)
    return endpoint


@transaction.atomic
def rotate_webhook_secret(*, actor: User, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """Replace the signing secret; returns the new one (show it once). Deliveries from now on are
    signed with it, including retries of earlier events."""
    authorize(actor, PERMISSION)
    endpoint = _lock_endpoint(endpoint_id)
    now = clock.now()
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = now
    endpoint.updated_at = now
    endpoint.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
    record_event(
        actor=actor, verb=events.WEBHOOK_SECRET_ROTATED.verb, subject=endpoint, data={"name": endpoint.name}
    )
    return endpoint, endpoint.secret


@transaction.atomic
def redeliver_webhook_delivery(
    *, actor: User, delivery_id: int, endpoint_id: int | None = None
) -> WebhookDelivery:
    """Send a failed (or delivered) delivery again, with a fresh set of attempts."""
    authorize(actor, PERMISSION)
    qs = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint")
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    delivery = qs.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(_("Delivery %(id)s not found.") % {"id": delivery_id}, field="delivery_id")
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(_("This delivery is already waiting to be sent."), field="delivery_id")
    if not delivery.endpoint.is_active:
        raise Conflict(
            _("The endpoint is paused: activate it before sending deliveries again."), field="delivery_id"
        )
    now = clock.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    record_event(
        actor=actor,
        verb=events.WEBHOOK_REDELIVERY_REQUESTED.verb,
        subject=delivery.endpoint,
        data={"name": delivery.endpoint.name, "delivery_id": delivery.pk, "event_id": delivery.event_id},
    )
    return delivery
