"""Reads of feedback items, scoped in SQL. The one filter (`FeedbackFilter`) is shared by the API, the
list page, its export and the dashboards' drill-down links (/voc/feedback/?cause=12&week=2026-11-16)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import SEE_ALL_TICKETS, Role
from kefu.voc.choices import FeedbackSource, LabelSource, Polarity
from kefu.voc.models import FeedbackItem
from kefu.voc.selectors.taxonomy import descendant_ids

SEE_ALL_FEEDBACK = SEE_ALL_TICKETS | {Role.SUPERVISOR, Role.KNOWLEDGE_EDITOR, Role.DEPARTMENT_OWNER}
LABELLED = ("person", "machine", "none")
PAGE_SIZE = 50
MAX_PAGE = 200


@dataclass
class FeedbackFilter:
    source: str | None = None
    shop: int | None = None
    product: int | None = None
    cause: int | None = None  # includes the node's descendants
    touchpoint: int | None = None  # includes the node's descendants
    polarity: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    week: date | None = None  # the Monday of an ISO week, in the user's zone
    q: str | None = None
    labelled: str | None = None  # person (a person set a cause or touchpoint), machine, none

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FeedbackFilter:
        """Parse query parameters (strings); a bad one raises ValidationFailed naming it."""

        def text(name: str) -> str | None:
            value = params.get(name)
            value = value.strip() if isinstance(value, str) else value
            return str(value) if value not in (None, "") else None

        def integer(name: str) -> int | None:
            value = text(name)
            if value is None:
                return None
            try:
                n = int(value)
            except ValueError:
                n = 0
            if n <= 0:
                raise ValidationFailed(_("%(field)s must be an id.") % {"field": name}, field=name)
            return n

        def day(name: str) -> date | None:
            value = text(name)
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValidationFailed(
                    _("%(field)s must be a date (YYYY-MM-DD).") % {"field": name}, field=name
                ) from None

        def choice(name: str, allowed: Any) -> str | None:
            value = text(name)
            if value is not None and value not in allowed:
                raise ValidationFailed(
                    _("%(field)s must be one of: %(choices)s.")
                    % {"field": name, "choices": ", ".join(allowed)},
                    field=name,
                )
            return value

        week = day("week")
        if week is not None and week.weekday() != 0:
            raise ValidationFailed(_("week must be the Monday of a week (YYYY-MM-DD)."), field="week")
        q = text("q")
        if q is not None and len(q) > 200:
            raise ValidationFailed(_("q is longer than 200 characters."), field="q")
        return cls(
            source=choice("source", FeedbackSource.values),
            shop=integer("shop"),
            product=integer("product"),
            cause=integer("cause"),
            touchpoint=integer("touchpoint"),
            polarity=choice("polarity", Polarity.values),
            channel=text("channel"),
            since=day("since"),
            until=day("until"),
            week=week,
            q=q,
            labelled=choice("labelled", LABELLED),
        )

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query parameters (for links and the export)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, ""):
                out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return out


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def visible_feedback(actor: Any) -> QuerySet[FeedbackItem]:
    """Items the actor may see: all for supervisors, editors, department owners and the roles that see
    every ticket; for agents the items without a ticket and those of tickets they may see."""
    from kefu.tickets.models import Ticket

    qs = FeedbackItem.objects.all()
    if actor is None or not getattr(actor, "is_active", False):
        return qs.none()
    if getattr(actor, "is_superuser", False) or getattr(actor, "role", None) in SEE_ALL_FEEDBACK:
        return qs
    return qs.filter(Q(ticket__isnull=True) | Q(ticket_id__in=Ticket.objects.visible_to(actor).values("id")))


def apply_filter(qs: QuerySet[FeedbackItem], f: FeedbackFilter) -> QuerySet[FeedbackItem]:
    if f.source:
        qs = qs.filter(source=f.source)
    if f.shop:
        qs = qs.filter(shop_id=f.shop)
    if f.product:
        qs = qs.filter(product_id=f.product)
    if f.cause:
        qs = qs.filter(cause_id__in=descendant_ids(f.cause) or [f.cause])
    if f.touchpoint:
        qs = qs.filter(touchpoint_id__in=descendant_ids(f.touchpoint) or [f.touchpoint])
    if f.polarity:
        qs = qs.filter(polarity=f.polarity)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.since:
        qs = qs.filter(occurred_at__gte=_start_of(f.since))
    if f.until:
        qs = qs.filter(occurred_at__lt=_start_of(f.until + timedelta(days=1)))
    if f.week:
        qs = qs.filter(
            occurred_at__gte=_start_of(f.week), occurred_at__lt=_start_of(f.week + timedelta(days=7))
        )
    if f.q:
        qs = qs.filter(text__icontains=f.q)
    if f.labelled == "person":
        qs = qs.filter(Q(cause_source=LabelSource.PERSON) | Q(touchpoint_source=LabelSource.PERSON))
    elif f.labelled == "machine":
        qs = qs.exclude(cause_source=LabelSource.PERSON).exclude(touchpoint_source=LabelSource.PERSON)
        qs = qs.filter(~Q(cause_source="") | ~Q(touchpoint_source=""))
    elif f.labelled == "none":
        qs = qs.filter(cause_source="", touchpoint_source="")
    return qs


def feedback_queryset(actor: Any, f: FeedbackFilter) -> QuerySet[FeedbackItem]:
    """Visible, filtered, newest first, with what the list shows (for paging and export)."""
    return (
        apply_filter(visible_feedback(actor), f)
        .select_related("product", "shop", "customer", "ticket")
        .order_by("-occurred_at", "-id")
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _cursor(item: FeedbackItem) -> str:
    return f"{(item.occurred_at - _EPOCH) // _MICRO}.{item.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, pk = cursor.split(".", 1)
        return _EPOCH + int(micros) * _MICRO, int(pk)
    except (ValueError, OverflowError, OSError):
        raise ValidationFailed(_("cursor is not valid."), field="cursor") from None


def list_feedback(
    actor: Any, f: FeedbackFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[FeedbackItem], str | None]:
    """One page, newest first (keyset on time and id); the cursor of the next page or None."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(_("limit must be from 1 to %(max)d.") % {"max": MAX_PAGE}, field="limit")
    qs = feedback_queryset(actor, f)
    if cursor:
        at, pk = _parse_cursor(cursor)
        qs = qs.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk))
    items = list(qs[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return items, _cursor(items[-1]) if more and items else None


def get_feedback(actor: Any, item_id: Any) -> FeedbackItem:
    try:
        pk = int(item_id)
    except (TypeError, ValueError):
        pk = 0
    item = (
        visible_feedback(actor)
        .select_related(
            "product", "shop", "customer", "ticket", "review", "cause_by", "touchpoint_by", "sentiment_by"
        )
        .filter(pk=pk)
        .first()
        if pk > 0
        else None
    )
    if item is None:
        raise NotFound(_("No such feedback item."), field="id")
    return item
