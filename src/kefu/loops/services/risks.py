"""The risk register (风险): create and change risks, record drills, review them, remind owners of due
reviews — and the register's reads (list with filters, one risk, the 5×5 heat map).

Every write: authorize (loops.risk) → lock → check (ValidationFailed naming the field) → write → audit
event, in one transaction. Reads need loops.view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, User
from kefu.audit.models import AuditEvent
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.loops import events
from kefu.loops.choices import RiskStatus, RiskType
from kefu.loops.models import ImprovementAction, Risk, RiskDrill
from kefu.voc.models import Insight

# a reminder to the owner that a risk's periodic review is due (sent once per due date)
RISK_REVIEW_DUE = events.RISK_REVIEW_DUE

HIGH_SCORE = 15  # likelihood × impact at or above this is a high risk
SCALE = range(1, 6)
MAX_REVIEW_DAYS = 3650
_TEXT_FIELDS = {"title": 200, "description": 20000, "contingency_plan": 20000}
EDITABLE = (
    "title",
    "description",
    "type",
    "likelihood",
    "impact",
    "owner_id",
    "department_id",
    "contingency_plan",
    "status",
    "review_every_days",
    "insight_ids",
    "action_ids",
)


# --- validation ------------------------------------------------------------------------------------


def _text(name: str, value: Any, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Enter text."), field=name)
    value = value.strip()
    if required and not value:
        raise ValidationFailed(_("This field is required."), field=name)
    if len(value) > _TEXT_FIELDS.get(name, 20000):
        raise ValidationFailed(
            _("At most %(n)d characters.") % {"n": _TEXT_FIELDS.get(name, 20000)}, field=name
        )
    return value


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(_("Enter a whole number."), field=name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValidationFailed(_("Enter a whole number."), field=name)
    if not low <= value <= high:
        raise ValidationFailed(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=name
        )
    return value


def _choice(name: str, value: Any, choices: Iterable[str]) -> str:
    if value not in list(choices):
        raise ValidationFailed(_("Choose one of the listed values."), field=name)
    return str(value)


def _optional_id(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    return _int(name, value, 1, 2**62)


def _ids(name: str, value: Any, model: Any) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list | tuple | set):
        raise ValidationFailed(_("Enter a list of ids."), field=name)
    ids = sorted({_int(name, v, 1, 2**62) for v in value})
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if len(found) != len(ids):
        missing = ", ".join(str(i) for i in ids if i not in found)
        raise ValidationFailed(_("Unknown ids: %(ids)s.") % {"ids": missing}, field=name)
    return ids


def clean_risk_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Checked values of the given editable fields; ValidationFailed names the first bad field."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in _TEXT_FIELDS:
            out[name] = _text(name, value, required=name == "title")
        elif name == "type":
            out[name] = _choice(name, value, RiskType.values)
        elif name == "status":
            out[name] = _choice(name, value, RiskStatus.values)
        elif name in ("likelihood", "impact"):
            out[name] = _int(name, value, 1, 5)
        elif name == "review_every_days":
            out[name] = _int(name, value, 1, MAX_REVIEW_DAYS)
        elif name == "owner_id":
            out[name] = _optional_id(name, value)
            if out[name] and not User.objects.filter(pk=out[name], is_active=True).exists():
                raise ValidationFailed(_("No active user with this id."), field=name)
        elif name == "department_id":
            out[name] = _optional_id(name, value)
            if out[name] and not Department.objects.filter(pk=out[name]).exists():
                raise ValidationFailed(_("No department with this id."), field=name)
        elif name == "insight_ids":
            out[name] = _ids(name, value, Insight)
        elif name == "action_ids":
            out[name] = _ids(name, value, ImprovementAction)
    return out


def _lock(risk_id: int) -> Risk:
    risk = Risk.objects.select_for_update().filter(pk=risk_id).first()
    if risk is None:
        raise NotFound(_("No such risk."), code="risk_not_found")
    return risk


def _data(risk: Risk, **extra: Any) -> dict[str, Any]:
    return {"risk_id": risk.pk, "title": risk.title, "score": risk.score, **extra}


# --- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def create_risk(*, actor: User, title: Any, type: Any, **fields: Any) -> Risk:
    """A new risk; its first review is due `review_every_days` from now."""
    authorize(actor, "loops.risk")
    values = clean_risk_fields({"title": title, "type": type, **fields})
    insight_ids = values.pop("insight_ids", [])
    action_ids = values.pop("action_ids", [])
    now = clock.now()
    risk = Risk(created_by=actor, created_at=now, updated_at=now, **values)
    risk.next_review_at = now + timedelta(days=risk.review_every_days)
    risk.save()
    risk.insights.set(insight_ids)
    risk.actions.set(action_ids)
    record_event(actor=actor, verb=events.RISK_CREATED.verb, subject=risk, data=_data(risk, type=risk.type))
    return risk


def _value(risk: Risk, name: str) -> Any:
    if name == "insight_ids":
        return sorted(risk.insights.values_list("pk", flat=True))
    if name == "action_ids":
        return sorted(risk.actions.values_list("pk", flat=True))
    return getattr(risk, name)


@transaction.atomic
def update_risk(*, actor: User, risk_id: int, **fields: Any) -> Risk:
    """Change the given fields; one audit event lists what changed (from → to). No change: no event."""
    authorize(actor, "loops.risk")
    risk = _lock(risk_id)
    values = clean_risk_fields(fields)
    changes: dict[str, dict[str, Any]] = {}
    for name, new in values.items():
        old = _value(risk, name)
        if old == new:
            continue
        changes[name] = {"from": old, "to": new}
        if name == "insight_ids":
            risk.insights.set(new)
        elif name == "action_ids":
            risk.actions.set(new)
        else:
            setattr(risk, name, new)
    if not changes:
        return risk
    if "review_every_days" in changes:
        base = risk.last_reviewed_at or risk.created_at
        risk.next_review_at = base + timedelta(days=risk.review_every_days)
    risk.updated_at = clock.now()
    risk.save()
    record_event(
        actor=actor,
        verb=events.RISK_CHANGED.verb,
        subject=risk,
        data=_data(risk, fields=", ".join(changes), changes=changes),
    )
    return risk


@transaction.atomic
def record_drill(*, actor: User, risk_id: int, held_on: Any, result: Any, lessons: Any = "") -> RiskDrill:
    """A drill of the contingency plan: when, what happened, what was learnt."""
    authorize(actor, "loops.risk")
    risk = _lock(risk_id)
    if isinstance(held_on, str):
        try:
            held_on = date.fromisoformat(held_on.strip())
        except ValueError:
            raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field="held_on") from None
    if isinstance(held_on, datetime) or not isinstance(held_on, date):
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field="held_on")
    if held_on > clock.local_today():
        raise ValidationFailed(_("A drill cannot be in the future."), field="held_on")
    drill = RiskDrill.objects.create(
        risk=risk,
        held_on=held_on,
        result=_text("result", result, required=True),
        lessons=_text("lessons", lessons),
        recorded_by=actor,
        created_at=clock.now(),
    )
    record_event(
        actor=actor,
        verb=events.RISK_DRILL_RECORDED.verb,
        subject=risk,
        data=_data(risk, drill_id=drill.pk, held_on=held_on.isoformat()),
    )
    return drill


@transaction.atomic
def review_risk(*, actor: User, risk_id: int, note: Any = "") -> Risk:
    """Stamp a periodic review: last_reviewed_at = now, next_review_at = now + review_every_days."""
    authorize(actor, "loops.risk")
    risk = _lock(risk_id)
    note = _text("note", note)
    now = clock.now()
    risk.last_reviewed_at = now
    risk.next_review_at = now + timedelta(days=risk.review_every_days)
    risk.updated_at = now
    risk.save(update_fields=["last_reviewed_at", "next_review_at", "updated_at"])
    record_event(
        actor=actor,
        verb=events.RISK_REVIEWED.verb,
        subject=risk,
        data=_data(risk, note=note, next_review_at=risk.next_review_at.isoformat()),
    )
    return risk


def notify_due_risk_reviews(*, actor: User | None = None) -> int:
    """Remind each owner of a risk (not closed) whose review is due: one `loops.risk_review_due` event
    with "notify": [owner] per due date, so running this daily reminds once. Returns how many."""
    now = clock.now()
    due = Risk.objects.filter(next_review_at__lte=now, owner__isnull=False, owner__is_active=True).exclude(
        status=RiskStatus.CLOSED
    )
    sent = 0
    for risk_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            risk = Risk.objects.select_for_update().get(pk=risk_id)
            if risk.next_review_at is None or risk.next_review_at > now or risk.owner_id is None:
                continue
            due_at = risk.next_review_at.isoformat()
            if AuditEvent.objects.filter(
                verb=RISK_REVIEW_DUE.verb, subject_type="risk", subject_id=risk.pk, data__due_at=due_at
            ).exists():
                continue
            record_event(
                actor=actor,
                verb=RISK_REVIEW_DUE.verb,
                subject=risk,
                data=_data(risk, due_at=due_at, notify=[risk.owner_id]),
            )
            sent += 1
    return sent


# --- reads -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskFilter:
    type: str = ""
    status: str = ""
    min_score: int | None = None
    likelihood: int | None = None
    impact: int | None = None


def clean_filter(params: dict[str, Any]) -> RiskFilter:
    """Filters from query parameters (type, status, min_score, likelihood, impact); 422 naming the field."""
    kw: dict[str, Any] = {}
    if params.get("type"):
        kw["type"] = _choice("type", params["type"], RiskType.values)
    if params.get("status"):
        kw["status"] = _choice("status", params["status"], RiskStatus.values)
    if params.get("min_score") not in (None, ""):
        kw["min_score"] = _int("min_score", params["min_score"], 1, 25)
    for name in ("likelihood", "impact"):
        if params.get(name) not in (None, ""):
            kw[name] = _int(name, params[name], 1, 5)
    return RiskFilter(**kw)


def list_risks(*, actor: User, f: RiskFilter | None = None) -> QuerySet[Risk]:
    """Risks, highest score first, with their owner and department."""
    authorize(actor, "loops.view")
    f = f or RiskFilter()
    qs = Risk.objects.select_related("owner", "department").annotate(
        score_value=F("likelihood") * F("impact")
    )
    if f.type:
        qs = qs.filter(type=f.type)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.min_score:
        qs = qs.filter(score_value__gte=f.min_score)
    if f.likelihood:
        qs = qs.filter(likelihood=f.likelihood)
    if f.impact:
        qs = qs.filter(impact=f.impact)
    return qs.order_by("-score_value", "next_review_at", "-id")


def get_risk(*, actor: User, risk_id: int) -> Risk:
    authorize(actor, "loops.view")
    risk = (
        Risk.objects.select_related("owner", "department", "created_by")
        .prefetch_related("drills__recorded_by", "insights", "actions__department")
        .filter(pk=risk_id)
        .first()
    )
    if risk is None:
        raise NotFound(_("No such risk."), code="risk_not_found")
    return risk


def risk_reviews(risk: Risk) -> QuerySet[AuditEvent]:
    """The review history of a risk (newest first)."""
    return (
        AuditEvent.objects.filter(verb=events.RISK_REVIEWED.verb, subject_type="risk", subject_id=risk.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def heat_map(*, actor: User, f: RiskFilter | None = None) -> list[list[int]]:
    """Counts per cell: rows are impact 5 → 1 (top to bottom), columns likelihood 1 → 5; only the
    type and status filters apply (the map shows every score)."""
    f = f or RiskFilter()
    qs = list_risks(actor=actor, f=RiskFilter(type=f.type, status=f.status))
    grid = [[0] * 5 for _i in SCALE]
    for likelihood, impact in qs.values_list("likelihood", "impact").order_by():
        if likelihood in SCALE and impact in SCALE:
            grid[5 - impact][likelihood - 1] += 1
    return grid


def risk_level(score: int) -> str:
    """high (≥ 15), medium (≥ 8), low — the heat map's colours."""
    return "high" if score >= HIGH_SCORE else "medium" if score >= 8 else "low"
