"""Configuration writes for SLA policies: conditions, targets and matching order (re-exported by
kefu.sla.services.config). Changes apply to tickets whose SLA starts or is re-matched afterwards:
running clocks keep the targets they started with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.choices import VipTier
from kefu.customers.models import Shop
from kefu.sla import events
from kefu.sla.models import Calendar, SlaPolicy, SlaTimer, Target, TimerStatus
from kefu.tickets.choices import Channel, Priority, TicketType
from kefu.tickets.models import Tag

MAX_TARGET_MINUTES = 366 * 24 * 60
TARGET_FIELDS = {
    Target.FIRST_REPLY: "first_reply_minutes",
    Target.NEXT_REPLY: "next_reply_minutes",
    Target.RESOLUTION: "resolution_minutes",
}
POLICY_FIELDS = (
    "name",
    "calendar_id",
    "is_active",
    "match_types",
    "match_priorities",
    "match_channels",
    "match_shop_ids",
    "match_vip_tiers",
    "match_tags",
    "first_reply_minutes",
    "next_reply_minutes",
    "resolution_minutes",
    "resolve_same_day",
    "same_day_cutoff_minute",
    "pause_on_pending",
    "pause_on_hold",
)


def _fail(message: str, field: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(message, field=field, **extra)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _labels() -> dict[str, str]:
    return {
        "match_types": _("Ticket types"),
        "match_priorities": _("Priorities"),
        "match_channels": _("Channels"),
        "match_shop_ids": _("Shops"),
        "match_vip_tiers": _("Customer VIP tiers"),
        "match_tags": _("Tags"),
        "first_reply_minutes": _("First reply within"),
        "next_reply_minutes": _("Next reply within"),
        "resolution_minutes": _("Resolve within"),
    }


def _choices(field: str, values: Iterable[Any] | None, allowed: set[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values or ():
        if value not in allowed:
            raise _fail(
                _("%(field)s: “%(value)s” is not one of the choices.")
                % {"field": _labels()[field], "value": value},
                field,
            )
        if value not in out:
            out.append(value)
    return out


def policy_targets(policy: Any) -> set[str]:
    """The targets a policy (or a dict of its values) times."""
    get = policy.get if isinstance(policy, dict) else lambda k: getattr(policy, k)
    targets: set[str] = {str(t) for t, f in TARGET_FIELDS.items() if get(f) is not None}
    if get("resolve_same_day"):
        targets.add(Target.RESOLUTION)
    return targets


def _clean_policy(policy: SlaPolicy | None, values: dict[str, Any]) -> dict[str, Any]:
    name = (values.get("name") or "").strip()
    if not name or len(name) > 100:
        raise _fail(_("Name: give the policy a name of at most 100 characters."), "name")
    others = SlaPolicy.objects.filter(name=name)
    if policy is not None:
        others = others.exclude(pk=policy.pk)
    if others.exists():
        raise _fail(_("Name: another policy is already called “%(name)s”.") % {"name": name}, "name")
    calendar = values.get("calendar")
    pk = calendar.pk if isinstance(calendar, Calendar) else None
    if pk is None or not Calendar.objects.filter(pk=pk, is_active=True).exists():
        raise _fail(_("Calendar: choose an active business calendar."), "calendar")
    shop_ids = [v for v in values.get("match_shop_ids") or () if _is_int(v)]
    tags = [v for v in values.get("match_tags") or () if isinstance(v, str)]
    out: dict[str, Any] = {
        "name": name,
        "calendar_id": pk,
        "is_active": bool(values.get("is_active", True)),
        "match_types": _choices("match_types", values.get("match_types"), set(TicketType.values)),
        "match_priorities": _choices(
            "match_priorities", values.get("match_priorities"), set(Priority.values)
        ),
        "match_channels": _choices("match_channels", values.get("match_channels"), set(Channel.values)),
        "match_shop_ids": _choices(
            "match_shop_ids",
            values.get("match_shop_ids"),
            set(Shop.objects.filter(pk__in=shop_ids).values_list("pk", flat=True)),
        ),
        "match_vip_tiers": _choices("match_vip_tiers", values.get("match_vip_tiers"), set(VipTier.values)),
        "match_tags": _choices(
            "match_tags",
            values.get("match_tags"),
            set(Tag.objects.filter(name__in=tags).values_list("name", flat=True)),
        ),
        "resolve_same_day": bool(values.get("resolve_same_day", False)),
        "pause_on_pending": bool(values.get("pause_on_pending", True)),
        "pause_on_hold": bool(values.get("pause_on_hold", False)),
    }
    for field in TARGET_FIELDS.values():
        minutes = values.get(field)
        if minutes is not None and not (_is_int(minutes) and 0 < minutes <= MAX_TARGET_MINUTES):
            raise _fail(
                _("%(field)s: give a whole number of business minutes from 1 to %(max)s.")
                % {"field": _labels()[field], "max": MAX_TARGET_MINUTES},
                field,
            )
        out[field] = minutes
    if not policy_targets(out):
        raise _fail(
            _(
                "Targets: give at least one target — first reply, next reply or resolution minutes, "
                "or resolve the same day."
            ),
            "first_reply_minutes",
        )
    cutoff = values.get("same_day_cutoff_minute") if out["resolve_same_day"] else None
    if cutoff is not None and not (_is_int(cutoff) and 0 <= cutoff <= 1439):
        raise _fail(_("Same-day cut-off: give a time from 00:00 to 23:59."), "same_day_cutoff_minute")
    out["same_day_cutoff_minute"] = cutoff
    if policy is not None:
        stranded = set(policy.steps.values_list("target", flat=True)) - policy_targets(out)
        if stranded:
            target = Target(sorted(stranded)[0])
            raise _fail(
                _("%(field)s: the ladder has steps for %(target)s; remove them before removing the target.")
                % {"field": _labels()[TARGET_FIELDS[target]], "target": target.label},
                TARGET_FIELDS[target],
            )
    return out


@transaction.atomic
def save_policy(*, actor: Any, policy: SlaPolicy | None = None, **values: Any) -> SlaPolicy:
    """Create or update a policy. ``values``: name, calendar, is_active, match_* lists (empty matches
    everything), first_reply/next_reply/resolution_minutes (None: no such target), resolve_same_day,
    same_day_cutoff_minute, pause_on_pending, pause_on_hold. New policies go last."""
    authorize(actor, "sla.manage")
    unknown = set(values) - ({*POLICY_FIELDS, "calendar"} - {"calendar_id"})
    if unknown:
        raise TypeError(f"save_policy() got unexpected fields {sorted(unknown)}")
    row = None if policy is None else SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    cleaned = _clean_policy(row, values)
    created = row is None
    if row is None:
        top = SlaPolicy.objects.aggregate(m=Max("position"))["m"]
        row = SlaPolicy(position=(top or 0) + 10)
    changes = {k: [getattr(row, k), v] for k, v in cleaned.items() if getattr(row, k) != v}
    for key, value in cleaned.items():
        setattr(row, key, value)
    row.save()
    if changes or created:
        record_event(
            actor=actor,
            verb=events.POLICY_SAVED.verb,
            subject=row,
            data={"name": row.name, "created": created, "changes": {} if created else changes},
        )
    return row


@transaction.atomic
def set_policy_active(*, actor: Any, policy: SlaPolicy, is_active: bool) -> SlaPolicy:
    authorize(actor, "sla.manage")
    row = SlaPolicy.objects.select_for_update().select_related("calendar").get(pk=policy.pk)
    if is_active and not row.calendar.is_active:
        raise _fail(_("Calendar: the policy's calendar is inactive; choose an active one first."), "calendar")
    if row.is_active != is_active:
        record_event(
            actor=actor,
            verb=events.POLICY_SAVED.verb,
            subject=row,
            data={"name": row.name, "created": False, "changes": {"is_active": [row.is_active, is_active]}},
        )
        row.is_active = is_active
        row.save(update_fields=["is_active", "updated_at"])
    return row


@transaction.atomic
def delete_policy(*, actor: Any, policy: SlaPolicy) -> None:
    """Delete a policy and its ladder; refused while it times open tickets (deactivate it instead)."""
    authorize(actor, "sla.manage")
    row = SlaPolicy.objects.select_for_update().filter(pk=policy.pk).first()
    if row is None:
        return
    running = SlaTimer.objects.filter(
        policy=row, status__in=(TimerStatus.RUNNING, TimerStatus.PAUSED)
    ).count()
    if running:
        raise Conflict(
            _("SLA policy %(name)s still times %(n)s open targets; deactivate it instead.")
            % {"name": row.name, "n": running},
            code="policy_in_use",
        )
    record_event(actor=actor, verb=events.POLICY_DELETED.verb, subject=row, data={"name": row.name})
    row.delete()


@transaction.atomic
def reorder_policies(*, actor: Any, ids: Sequence[int]) -> list[SlaPolicy]:
    """Set the matching order: ``ids`` lists every policy once, first match first."""
    authorize(actor, "sla.manage")
    rows = {p.pk: p for p in SlaPolicy.objects.select_for_update().order_by("position", "id")}
    if sorted(ids) != sorted(rows) or len(set(ids)) != len(ids):
        raise _fail(_("Order: list every policy exactly once."), "ids")
    before = list(rows)
    ordered = [rows[pk] for pk in ids]
    changed = []
    for number, row in enumerate(ordered, start=1):
        if row.position != number * 10:
            row.position = number * 10
            changed.append(row)
    SlaPolicy.objects.bulk_update(changed, ["position"])
    if list(ids) != before and ordered:
        record_event(
            actor=actor,
            verb=events.POLICIES_REORDERED.verb,
            subject=ordered[0],
            data={"from": before, "to": list(ids)},
        )
    return ordered


def move_policy(*, actor: Any, policy: SlaPolicy, offset: int) -> list[SlaPolicy]:
    """Move a policy ``offset`` places earlier (negative) or later in the matching order."""
    ids = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
    if policy.pk not in ids:
        return reorder_policies(actor=actor, ids=ids)
    old = ids.index(policy.pk)
    ids.insert(max(0, min(len(ids) - 1, old + offset)), ids.pop(old))
    return reorder_policies(actor=actor, ids=ids)
