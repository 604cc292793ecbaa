"""Webhook dispatch: the audit event table is the outbox.

1. Enqueue: for each active endpoint, audit events after its cursor (and, in the periodic run, those
   of the last SAFETY_WINDOW whose transaction committed after later ones were scanned) whose verb
   matches its patterns get a WebhookDelivery row. The unique (endpoint, event) constraint makes
   this idempotent, so scanning twice never sends twice.
2. Send: due pending deliveries are claimed (in a short transaction, rows locked with SKIP LOCKED on
   PostgreSQL; SQLite serializes writers) by moving next_attempt_at forward by a lease, then POSTed
   outside any transaction. A crash after the claim only delays the delivery until the lease ends.
   2xx → delivered; anything else → retried after 1 min, 5 min, 30 min, 2 h, 12 h, then failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from django.db import transaction

from kefu.audit.models import AuditEvent
from kefu.core import clock, db
from kefu.notifications.choices import DeliveryStatus
from kefu.notifications.models import WebhookDelivery, WebhookEndpoint
from kefu.notifications.services import http

logger = logging.getLogger(__name__)

SAFETY_WINDOW = timedelta(minutes=5)
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)
SCAN_BATCH = 1000
SEND_BATCH = 5
TIME_BUDGET_SECONDS = 45.0


@dataclass(frozen=True)
class _Ev:
    pk: int
    verb: str
    created_at: datetime


@dataclass
class DispatchResult:
    created: int = 0
    sent: int = 0
    delivered: int = 0


def matches(patterns: Iterable[str], verb: str) -> bool:
    return any(p == "*" or fnmatchcase(verb, p) for p in patterns)


def dispatch_webhooks(*, event_ids: Iterable[int] = (), rescan_window: bool = False) -> DispatchResult:
    """Create deliveries for new events (plus `event_ids`, and the safety window when asked), then
    send what is due. Safe to run concurrently and repeatedly."""
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    result = DispatchResult()
    result.created = enqueue_deliveries(event_ids=event_ids, rescan_window=rescan_window, deadline=deadline)
    result.sent, result.delivered = send_due_deliveries(deadline=deadline)
    return result


def enqueue_deliveries(
    *, event_ids: Iterable[int] = (), rescan_window: bool = False, deadline: float | None = None
) -> int:
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk"))
    if not endpoints:
        return 0
    now = clock.now()
    since = now - SAFETY_WINDOW
    floor = min(e.cursor_event_id for e in endpoints)
    fields = ("pk", "verb", "created_at")
    extra: dict[int, _Ev] = {}
    asked = [pk for pk in event_ids if pk and pk <= floor]
    if asked:
        extra.update((r[0], _Ev(*r)) for r in AuditEvent.objects.filter(pk__in=asked).values_list(*fields))
    if rescan_window:
        late = AuditEvent.objects.filter(created_at__gte=since, pk__lte=floor).values_list(*fields)
        extra.update((r[0], _Ev(*r)) for r in late)
    created = 0
    after = floor
    first = True
    while True:
        batch = [
            _Ev(*r)
            for r in AuditEvent.objects.filter(pk__gt=after).order_by("pk").values_list(*fields)[:SCAN_BATCH]
        ]
        # events at or below an endpoint's cursor are re-considered only when listed or in the window
        candidates = [*extra.values(), *batch] if first else batch
        for endpoint in endpoints:
            created += _enqueue_for(endpoint, candidates, batch, now)
        first = False
        if len(batch) < SCAN_BATCH or (deadline is not None and time.monotonic() > deadline):
            break
        after = batch[-1].pk
    return created


def _enqueue_for(endpoint: WebhookEndpoint, candidates: list[_Ev], batch: list[_Ev], now: datetime) -> int:
    # candidates the endpoint saw before are harmless: existing deliveries are skipped below
    wanted = [
        ev.pk
        for ev in candidates
        if ev.created_at >= endpoint.active_since and matches(endpoint.patterns, ev.verb)
    ]
    count = 0
    if wanted:
        existing = set(
            WebhookDelivery.objects.filter(
                endpoint_id=endpoint.pk, event_id__gte=min(wanted), event_id__lte=max(wanted)
            ).values_list("event_id", flat=True)
        )
        rows = [
            WebhookDelivery(
                endpoint_id=endpoint.pk, event_id=pk, status=DeliveryStatus.PENDING, next_attempt_at=now,
                created_at=now,
            )
            for pk in dict.fromkeys(wanted)
            if pk not in existing
        ]  # fmt: skip
        if rows:
            WebhookDelivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
            count = len(rows)
    if batch and batch[-1].pk > endpoint.cursor_event_id:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, cursor_event_id__lt=batch[-1].pk).update(
            cursor_event_id=batch[-1].pk
        )
        endpoint.cursor_event_id = batch[-1].pk
    return count


def claim_due_deliveries(*, limit: int = SEND_BATCH) -> list[int]:
    """Claim up to `limit` due deliveries for this worker (lease: next_attempt_at = now + LEASE)."""
    now = clock.now()
    with transaction.atomic():
        qs = WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        ).order_by("next_attempt_at", "pk")
        if db.supports_skip_locked():
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        WebhookDelivery.objects.filter(
            pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
    return ids


def release_deliveries(ids: list[int]) -> None:
    """Give claimed but unsent deliveries back (due now) instead of letting their lease run out."""
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
            next_attempt_at=clock.now()
        )


def send_due_deliveries(*, deadline: float | None = None) -> tuple[int, int]:
    """Send due deliveries until none is left (or the time budget is spent); (sent, delivered).
    A claim is only used while its lease can still cover one more request, so a slow endpoint
    never lets another worker claim (and send again) a delivery this one is about to send."""
    sent = delivered = 0
    safe_for = LEASE.total_seconds() - http.TIMEOUT_SECONDS * 3
    while deadline is None or time.monotonic() < deadline:
        ids = claim_due_deliveries()
        if not ids:
            break
        claimed_at = time.monotonic()
        rows = {
            d.pk: d for d in WebhookDelivery.objects.select_related("endpoint", "event").filter(pk__in=ids)
        }
        queue = [pk for pk in ids if pk in rows]
        while queue:
            now = time.monotonic()
            if now - claimed_at > safe_for or (deadline is not None and now > deadline):
                release_deliveries(queue)
                return sent, delivered
            sent += 1
            delivered += attempt_delivery(rows[queue.pop(0)])
    return sent, delivered


def payload(event: AuditEvent) -> dict:
    return {
        "id": event.pk,
        "verb": event.verb,
        "created_at": event.created_at.isoformat(),
        "ticket_id": event.ticket_id,
        "customer_id": event.customer_id,
        "actor_id": event.actor_id,
        "data": event.data,
    }


def attempt_delivery(delivery: WebhookDelivery) -> bool:
    """POST one (claimed) delivery and record the outcome; True when delivered."""
    endpoint = delivery.endpoint
    body = http.encode(payload(delivery.event))
    headers = {
        "X-Kefu-Event": delivery.event.verb,
        "X-Kefu-Delivery": str(delivery.pk),
        "X-Kefu-Signature": http.signature(endpoint.secret, body, int(time.time())),
    }
    result = http.post_json(endpoint.url, body, headers)
    now = clock.now()
    attempts = delivery.attempts + 1
    update: dict = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": result.status,
        "last_error": "" if result.ok else (result.error or f"HTTP {result.status}")[:500],
        "response_snippet": result.snippet[: http.SNIPPET_CHARS],
    }
    if result.ok:
        update.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif attempts >= MAX_ATTEMPTS:
        update.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        update["next_attempt_at"] = now + BACKOFF[attempts - 1]
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(**update)
    for key, value in update.items():
        setattr(delivery, key, value)
    if not result.ok:
        logger.warning(
            "webhook delivery %s (endpoint %s, event %s) attempt %s failed: status=%s error=%s%s",
            delivery.pk,
            endpoint.pk,
            delivery.event_id,
            attempts,
            result.status,
            update["last_error"],
            " (giving up)" if update.get("status") == DeliveryStatus.FAILED else "",
        )
    return result.ok


def prune_webhook_deliveries(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete finished deliveries older than `older_than` (the log keeps the recent ones)."""
    cutoff = clock.now() - older_than
    deleted, _ = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted
