"""The weekly voice-of-customer report (每周客户声音): the figures of one ISO week (Monday–Sunday in
Asia/Shanghai), frozen in WeeklyReport.data when generated, and its email to the management list.

data (JSON, ids and display names, so the page, the PDF and the mail render without queries):

    week_start, week_end, weeks (the nine Mondays of the trend: eight trailing weeks and this one)
    insights_by_volume, insights_by_growth   [{id, title, product, cause, count, baseline, growth, spike}]
    bad_rate_by_product, bad_rate_by_shop    [{id, name, total, bad, rate, trend: [rate|None × 9]}]
    departments  [{id, name, new, overdue}]
    new_actions, overdue_actions, verified_actions, not_effective_actions, claims   [action rows]
    high_risks   [{id, title, type, likelihood, impact, score, owner, department, next_review_at}]

Generating is idempotent per week: regenerating replaces the data (and audits it again)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.services import get_system_user
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.loops import events
from kefu.loops.choices import ActionStatus, RiskStatus
from kefu.loops.models import (
    OPEN_STATUSES,
    OWED_STATUSES,
    ImprovementAction,
    LoopSettings,
    Risk,
    WeeklyReport,
)
from kefu.loops.services.report_pdf import compose_report_email
from kefu.loops.services.risks import HIGH_SCORE
from kefu.voc.choices import RatingLevel
from kefu.voc.models import Insight, InsightItem, Review
from kefu.voc.selectors import dashboards

TOP = 10  # rows per top list
TREND_WEEKS = 9  # the reported week and the trailing eight


def previous_week() -> date:
    """The Monday of the last complete ISO week (local time)."""
    today = clock.local_today()
    return today - timedelta(days=today.weekday() + 7)


def clean_week(value: Any) -> date:
    """A week's Monday from a date or "YYYY-MM-DD"; 422 naming `week_start` when it is not a Monday
    of a week that has begun."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field="week_start") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field="week_start")
    if value.weekday() != 0:
        raise ValidationFailed(_("A week starts on a Monday."), field="week_start")
    if value > clock.local_today():
        raise ValidationFailed(_("This week has not begun yet."), field="week_start")
    return value


def _bounds(monday: date) -> tuple[datetime, datetime]:
    tz = clock.local_tz()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    return start, datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)


# --- insights --------------------------------------------------------------------------------------


def _insights(monday: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Top insights by the week's item count and by growth over the trailing eight weeks' mean."""
    start, end = _bounds(monday)
    base_start = start - timedelta(weeks=TREND_WEEKS - 1)
    qs = (
        InsightItem.objects.filter(item__occurred_at__gte=base_start, item__occurred_at__lt=end)
        .values("insight_id")
        .annotate(
            count=Count("id", filter=Q(item__occurred_at__gte=start)),
            before=Count("id", filter=Q(item__occurred_at__lt=start)),
        )
        .filter(count__gt=0)
        .order_by()
    )
    counts = {r["insight_id"]: (r["count"], r["before"]) for r in qs}
    insights = Insight.objects.filter(pk__in=list(counts)).select_related("product", "cause")
    rows = []
    for i in insights:
        count, before = counts[i.pk]
        baseline = round(before / (TREND_WEEKS - 1), 2)
        rows.append(
            {
                "id": i.pk,
                "title": i.title,
                "product": str(i.product) if i.product else "",
                "cause": i.cause.name if i.cause else "",
                "count": count,
                "baseline": baseline,
                "growth": round(count - baseline, 2),
                "spike": bool(i.is_spike),
            }
        )
    by_volume = sorted(rows, key=lambda r: (-r["count"], r["title"]))[:TOP]
    by_growth = sorted((r for r in rows if r["growth"] > 0), key=lambda r: (-r["growth"], r["title"]))[:TOP]
    return by_volume, by_growth


# --- 差评率 ----------------------------------------------------------------------------------------


def _rate(bad: int, total: int) -> float | None:
    return round(bad / total, 4) if total else None


def _period(monday: date) -> dashboards.Period:
    _start, end = _bounds(monday)
    return dashboards.period(TREND_WEEKS, now=end - timedelta(microseconds=1))


def _bad_rates(actor: User, monday: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """差评率 of the week per product and per shop (most reviews first), with the nine-week trend."""
    p = _period(monday)
    shops = []
    for row in dashboards.bad_review_rate_by_shop(actor=actor, p=p):
        bad, total = row.weeks.get(monday, (0, 0))
        if not total:
            continue
        trend = [_rate(*row.weeks.get(m, (0, 0))) for m in p.mondays]
        shops.append({"id": row.id, "name": row.name, "total": total, "bad": bad, "rate": _rate(bad, total),
                      "trend": trend})  # fmt: skip
    week_start, week_end = _bounds(monday)
    week_p = dashboards.Period([monday], monday, monday + timedelta(days=6), week_start, week_end)
    products: list[dict[str, Any]] = [
        {"id": r.id, "name": r.name or _("(no product)"), "total": r.total, "bad": r.bad, "rate": r.rate}
        for r in dashboards.bad_review_rate_by_product(actor=actor, p=week_p)
    ]
    # the products' trend: one query, the same weeks as the dashboard's (local time zone)
    weekly: dict[int | None, dict[date, tuple[int, int]]] = defaultdict(dict)
    qs = (
        Review.objects.filter(reviewed_at__gte=p.start, reviewed_at__lt=week_end)
        .annotate(week=TruncWeek("reviewed_at", tzinfo=clock.local_tz()))
        .values("product_id", "week")
        .annotate(total=Count("id"), bad=Count("id", filter=Q(level=RatingLevel.BAD)))
        .order_by()
    )
    for w_row in qs:
        w = w_row["week"]
        w = w.astimezone(clock.local_tz()).date() if isinstance(w, datetime) else w
        bad, total = weekly[w_row["product_id"]].get(w, (0, 0))
        weekly[w_row["product_id"]][w] = (bad + w_row["bad"], total + w_row["total"])
    for prow in products:
        prow["trend"] = [_rate(*weekly[prow["id"]].get(m, (0, 0))) for m in p.mondays]
    return products[: TOP * 2], shops[: TOP * 2]


# --- actions and risks -----------------------------------------------------------------------------


def action_row(a: ImprovementAction) -> dict[str, Any]:
    return {
        "id": a.pk,
        "number": a.number,
        "title": a.title,
        "status": a.status,
        "status_label": str(ActionStatus(a.status).label) if a.status in ActionStatus.values else a.status,
        "department_id": a.department_id,
        "department": a.department.name,
        "owner": str(a.owner) if a.owner else "",
        "committed_date": a.committed_date.isoformat() if a.committed_date else None,
        "escalation_level": a.escalation_level,
        "verified_value": a.verified_value,
        "baseline_value": a.baseline_value,
        "goal_value": a.goal_value,
        "claimed_by_id": a.claimed_by_id,
        "claimed_by": str(a.claimed_by) if a.claimed_by else "",
        "claimed_at": a.claimed_at.isoformat() if a.claimed_at else None,
    }


def _actions(monday: date) -> dict[str, Any]:
    start, end = _bounds(monday)
    base = ImprovementAction.objects.select_related("department", "owner", "claimed_by").order_by("id")
    new = list(base.filter(created_at__gte=start, created_at__lt=end))
    # overdue as of the end of the week, or of now for the week in progress (not in the future)
    as_of = min(end, clock.now())
    as_of_day = min(monday + timedelta(days=7), clock.local_today())
    overdue = list(
        base.filter(created_at__lt=end, status__in=OWED_STATUSES).filter(
            Q(committed_date__lt=as_of_day) | Q(committed_date__isnull=True, commit_deadline__lt=as_of)
        )
    )
    checked = base.filter(verified_at__gte=start, verified_at__lt=end)
    verified = list(checked.filter(status=ActionStatus.VERIFIED))
    not_effective = list(checked.filter(status=ActionStatus.NOT_EFFECTIVE))
    # claimed during the week, or claimed (whenever) and still open: a claim stays on the report
    claims = list(
        base.filter(claimed_by__isnull=False).filter(
            Q(claimed_at__gte=start, claimed_at__lt=end) | Q(status__in=OPEN_STATUSES)
        )
    )
    departments: dict[int, dict[str, Any]] = {}
    for key, actions in (("new", new), ("overdue", overdue)):
        for a in actions:
            d = departments.setdefault(
                a.department_id, {"id": a.department_id, "name": a.department.name, "new": 0, "overdue": 0}
            )
            d[key] += 1
    return {
        "departments": sorted(departments.values(), key=lambda d: (-d["overdue"], -d["new"], d["name"])),
        "new_actions": [action_row(a) for a in new],
        "overdue_actions": [action_row(a) for a in overdue],
        "verified_actions": [action_row(a) for a in verified],
        "not_effective_actions": [action_row(a) for a in not_effective],
        "claims": [action_row(a) for a in claims],
    }


def _high_risks() -> list[dict[str, Any]]:
    qs = (
        Risk.objects.filter(status=RiskStatus.OPEN)
        .annotate(score_value=F("likelihood") * F("impact"))
        .filter(score_value__gte=HIGH_SCORE)
        .select_related("owner", "department")
        .order_by("-score_value", "id")
    )
    return [
        {
            "id": r.pk,
            "title": r.title,
            "type": r.type,
            "likelihood": r.likelihood,
            "impact": r.impact,
            "score": r.score,
            "owner": str(r.owner) if r.owner else "",
            "department": r.department.name if r.department else "",
            "next_review_at": r.next_review_at.isoformat() if r.next_review_at else None,
        }
        for r in qs
    ]


def report_data(*, actor: User, week_start: date) -> dict[str, Any]:
    by_volume, by_growth = _insights(week_start)
    by_product, by_shop = _bad_rates(actor, week_start)
    return {
        "week_start": week_start.isoformat(),
        "week_end": (week_start + timedelta(days=6)).isoformat(),
        "weeks": [m.isoformat() for m in _period(week_start).mondays],
        "insights_by_volume": by_volume,
        "insights_by_growth": by_growth,
        "bad_rate_by_product": by_product,
        "bad_rate_by_shop": by_shop,
        **_actions(week_start),
        "high_risks": _high_risks(),
    }


# --- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def generate_weekly_report(*, week_start: Any = None, actor: User | None = None) -> WeeklyReport:
    """Compute and store the report of the week starting `week_start` (default: the previous week).
    A person needs loops.create; the worker passes no actor (the system user)."""
    if actor is not None:
        authorize(actor, "loops.create")
    monday = previous_week() if week_start is None else clean_week(week_start)
    reader = actor if actor is not None else get_system_user()
    data = report_data(actor=reader, week_start=monday)
    now = clock.now()
    report = WeeklyReport.objects.select_for_update().filter(week_start=monday).first()
    regenerated = report is not None
    if report is None:
        report = WeeklyReport(week_start=monday)
    report.data = data
    report.generated_at = now
    report.generated_by = actor
    report.save()
    record_event(
        actor=actor,
        verb=events.REPORT_GENERATED.verb,
        subject=report,
        data={"week": monday.isoformat(), "report_id": report.pk, "regenerated": regenerated},
    )
    return report


def get_report(*, actor: User, week_start: Any) -> WeeklyReport:
    authorize(actor, "loops.view")
    try:
        monday = clean_week(week_start)
    except ValidationFailed:
        raise NotFound(_("No report for this week."), code="report_not_found") from None
    report = WeeklyReport.objects.select_related("generated_by").filter(week_start=monday).first()
    if report is None:
        raise NotFound(_("No report for this week."), code="report_not_found")
    return report


def list_reports(*, actor: User) -> list[WeeklyReport]:
    authorize(actor, "loops.view")
    return list(WeeklyReport.objects.select_related("generated_by").order_by("-week_start"))


# --- email -----------------------------------------------------------------------------------------


def recipients() -> list[str]:
    """LoopSettings.report_recipients: one address per line; lines that are not addresses are skipped."""
    out = []
    for line in LoopSettings.load().report_recipients.splitlines():
        address = line.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            continue
        out.append(address)
    return list(dict.fromkeys(out))


def send_weekly_report(*, report_id: int) -> bool:
    """Email the report to the recipients in the loop settings, once (emailed_at is the claim).
    False when already sent or nobody is listed; a sending error releases the claim and raises."""
    to = recipients()
    if not to:
        return False
    now = clock.now()
    if not WeeklyReport.objects.filter(pk=report_id, emailed_at__isnull=True).update(emailed_at=now):
        return False
    report = WeeklyReport.objects.get(pk=report_id)
    try:
        compose_report_email(report, to).send()
    except Exception:
        WeeklyReport.objects.filter(pk=report_id, emailed_at=now).update(emailed_at=None)
        raise
    return True
