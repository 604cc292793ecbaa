from __future__ import annotations

from typing import Any

from django.db import models

from kefu.audit.context import current
from kefu.audit.models import AuditEvent
from kefu.core import clock, events


def record_event(
    *,
    actor: Any,
    verb: str,
    subject: models.Model,
    data: dict[str, Any] | None = None,
    ticket_id: int | None = None,
    customer_id: int | None = None,
) -> AuditEvent:
    """Store an audit event in the caller's transaction and publish it after commit."""
    if events.get_type(verb) is None:
        raise KeyError(f"unregistered event type {verb!r}")
    source, request_id = current()
    ev = AuditEvent.objects.create(
        created_at=clock.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        subject_type=subject._meta.model_name or "",
        subject_id=subject.pk,
        ticket_id=ticket_id,
        customer_id=customer_id,
        data=data or {},
        source=source,
        request_id=request_id,
    )
    events.publish(
        events.Event(
            verb=verb,
            data=ev.data,
            actor_id=ev.actor_id,
            ticket_id=ticket_id,
            customer_id=customer_id,
            event_id=ev.pk,
        )
    )
    return ev
