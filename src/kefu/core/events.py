"""Event registry and publish.

Every app declares its event types (dotted, past tense, never renamed) with a display template.
Audit events are stored by `kefu.audit.services.record_event`; handlers registered here run after the
transaction that stored the event commits, so a rolled-back change never notifies anybody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.functional import Promise


@dataclass(frozen=True)
class EventType:
    verb: str
    label: str | Promise  # display template, formatted with the event's data
    # turns stored data (codes, ISO instants) into display values (labels, local times) before formatting
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass
class Event:
    verb: str
    data: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None
    ticket_id: int | None = None
    customer_id: int | None = None
    event_id: int | None = None


_types: dict[str, EventType] = {}
_handlers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)
_sync_handlers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)


def register(
    verb: str, label: str | Promise, prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
) -> EventType:
    existing = _types.get(verb)
    if existing:
        return existing
    et = EventType(verb, label, prepare)
    _types[verb] = et
    return et


def get_type(verb: str) -> EventType | None:
    return _types.get(verb)


def all_types() -> dict[str, EventType]:
    return dict(_types)


def subscribe(verb: str, handler: Callable[[Event], None]) -> None:
    if handler not in _handlers[verb]:
        _handlers[verb].append(handler)


def subscribe_in_transaction(verb: str, handler: Callable[[Event], None]) -> None:
    """For reactions that must commit or roll back with the change itself (e.g. moving a merged
    customer's tickets). Keep these few and fast; everything else uses `subscribe`."""
    if handler not in _sync_handlers[verb]:
        _sync_handlers[verb].append(handler)


def publish(event: Event) -> None:
    """Run in-transaction handlers now, and dispatch to handlers once the transaction commits."""
    if event.verb not in _types:
        raise KeyError(f"unregistered event type {event.verb!r}")
    for sync_handler in (*_sync_handlers.get(event.verb, ()), *_sync_handlers.get("*", ())):
        sync_handler(event)
    handlers = list(_handlers.get(event.verb, ())) + list(_handlers.get("*", ()))
    if not handlers:
        return

    def run() -> None:
        for handler in handlers:
            handler(event)

    transaction.on_commit(run)


def render(verb: str, data: dict[str, Any]) -> str:
    et = _types.get(verb)
    if et is None:
        return verb
    try:
        if et.prepare is not None:
            data = et.prepare(dict(data))
        return str(et.label).format(**data)
    except (KeyError, IndexError, ValueError):
        return str(et.label)
