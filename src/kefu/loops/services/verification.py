"""Verification of an implemented action by its target metric.

implemented → verifying (window: the implemented date + LoopSettings.verification_days); when the
window has ended, the metric over the window is compared with the baseline and the goal:
VERIFIED when the value reaches the goal (≤ goal: every metric is "lower is better") and the
improvement is significant (p < 0.05) where the volumes allow a test, else NOT_EFFECTIVE.

Tests (one-sided, H1: the window is lower than the baseline):
- rates: Fisher's exact test on the 2×2 table (events, non-events) × (window, baseline);
- volumes: the conditional test of two Poisson rates (window count ~ Binomial(total, share of time)).

The status is written here directly (row lock, state times, loops.action_status_changed) by the
system user for the worker, by the person for `reverify`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.core.permissions import Role, authorize
from kefu.loops import events
from kefu.loops.choices import ActionStatus, MetricKind
from kefu.loops.models import ImprovementAction, LoopSettings
from kefu.loops.services import metrics

logger = logging.getLogger(__name__)

ALPHA = 0.05
MIN_RATE_DENOMINATOR = 20  # observations in each period
MIN_RATE_EVENTS = 5  # events in both periods together
MIN_VOLUME_EVENTS = 10  # items in both periods together
DECIDED = (ActionStatus.VERIFIED, ActionStatus.NOT_EFFECTIVE)


def _local_date(at: datetime) -> date:
    return at.astimezone(clock.local_tz()).date()


def _set_status(action: ImprovementAction, actor: Any, to: str, now: datetime) -> None:
    before = action.status
    action.status = to
    action.updated_at = now
    record_event(
        actor=actor,
        verb=events.ACTION_STATUS_CHANGED.verb,
        subject=action,
        data={"number": action.number, "from": before, "to": to},
    )


def _lock(action_id: int) -> ImprovementAction:
    action = ImprovementAction.objects.select_for_update().filter(pk=action_id).first()
    if action is None:
        raise NotFound(_("Improvement action not found."), field="action_id")
    return action


@transaction.atomic
def start_verification(action_id: int, now: datetime | None = None) -> ImprovementAction:
    """implemented → verifying, with the window implemented date … + verification_days − 1."""
    from kefu.accounts.services import get_system_user

    now = now or clock.now()
    action = _lock(action_id)
    if action.status != ActionStatus.IMPLEMENTED:
        raise Conflict(
            _("Only an implemented action can be verified (this one is %(status)s).")
            % {"status": action.get_status_display()},
            code="invalid_transition",
            field="status",
        )
    if action.metric not in MetricKind.values:
        raise ValidationFailed(_("Set a target metric before verifying the action."), field="metric")
    if action.baseline_value is None:
        metrics.baseline(action)
    start = _local_date(action.implemented_at or now)
    action.verify_from = start
    action.verify_to = start + timedelta(days=LoopSettings.load().verification_days - 1)
    action.verification = {}
    _set_status(action, get_system_user(), ActionStatus.VERIFYING, now)
    action.save()
    return action


def start_due_verifications(now: datetime | None = None) -> list[int]:
    """The worker: every implemented action with a target metric starts its verification."""
    started = []
    ids = ImprovementAction.objects.filter(status=ActionStatus.IMPLEMENTED).exclude(metric="")
    for pk in ids.values_list("pk", flat=True):
        try:
            start_verification(pk, now)
        except (Conflict, ValidationFailed, NotFound):
            continue  # changed meanwhile
        started.append(pk)
    return started


# --- the decision -------------------------------------------------------------------------------


def significance(metric: str, base: metrics.MetricValue, window: metrics.MetricValue) -> dict[str, Any]:
    """{"test": name or None, "p_value": p or None, "note": why not tested}."""
    from scipy import stats

    if metrics.is_rate(metric):
        if min(base.denominator, window.denominator) < MIN_RATE_DENOMINATOR or (
            base.numerator + window.numerator < MIN_RATE_EVENTS
        ):
            return {"test": None, "p_value": None, "note": "not enough data for a test"}
        table = [
            [window.numerator, window.denominator - window.numerator],
            [base.numerator, base.denominator - base.numerator],
        ]
        p = float(stats.fisher_exact(table, alternative="less").pvalue)
        return {"test": "fisher_exact_one_sided", "p_value": p, "note": ""}
    total = base.numerator + window.numerator
    if total < MIN_VOLUME_EVENTS or not base.denominator or not window.denominator:
        return {"test": None, "p_value": None, "note": "not enough data for a test"}
    share = window.denominator / (base.denominator + window.denominator)
    p = float(stats.binomtest(window.numerator, total, share, alternative="less").pvalue)
    return {"test": "poisson_rate_one_sided", "p_value": p, "note": ""}


def evaluate(action: ImprovementAction, now: datetime) -> tuple[str, dict[str, Any]]:
    """(VERIFIED or NOT_EFFECTIVE, the verification JSON) for the action's window as it is."""
    assert action.verify_from is not None and action.verify_to is not None
    b_from, b_to = (
        (action.baseline_from, action.baseline_to)
        if action.baseline_from and action.baseline_to
        else metrics.baseline_range(action)
    )
    base = metrics.value(action, b_from, b_to)
    window = metrics.value(action, action.verify_from, action.verify_to)
    test = significance(action.metric, base, window)
    goal = action.goal_value
    baseline_value = action.baseline_value if action.baseline_value is not None else base.value
    if window.value is None:
        goal_met = False
    elif goal is not None:
        goal_met = window.value <= goal
    else:  # no goal: any improvement on the baseline
        goal_met = baseline_value is not None and window.value < baseline_value
    significant = test["p_value"] is None or test["p_value"] < ALPHA
    result = ActionStatus.VERIFIED if goal_met and significant else ActionStatus.NOT_EFFECTIVE
    data = {
        "metric": action.metric,
        "value": window.value,
        "numerator": window.numerator,
        "denominator": window.denominator,
        "baseline": baseline_value,
        "baseline_numerator": base.numerator,
        "baseline_denominator": base.denominator,
        "goal": goal,
        "goal_met": goal_met,
        "p_value": test["p_value"],
        "test": test["test"],
        "note": test["note"],
        "significant": test["p_value"] is not None and test["p_value"] < ALPHA,
        "result": str(result),
        "baseline_from": b_from.isoformat(),
        "baseline_to": b_to.isoformat(),
        "window_from": action.verify_from.isoformat(),
        "window_to": action.verify_to.isoformat(),
        "weekly": {
            "baseline": [list(w) for w in metrics.weekly(action, b_from, b_to)],
            "window": [list(w) for w in metrics.weekly(action, action.verify_from, action.verify_to)],
        },
        "decided_at": now.astimezone(clock.local_tz()).isoformat(),
    }
    return result, data


def _decide(action: ImprovementAction, actor: Any, now: datetime) -> ImprovementAction:
    result, data = evaluate(action, now)
    action.verification = data
    action.verified_value = data["value"]
    action.verified_at = now  # when the verification was decided (verified or not effective)
    if action.status != result:
        _set_status(action, actor, result, now)
    else:
        action.updated_at = now
    action.save()
    record_event(
        actor=actor,
        verb=events.ACTION_VERIFIED.verb,
        subject=action,
        data={
            "number": action.number,
            "result": str(result),
            "value": data["value"],
            "baseline": data["baseline"],
            "goal": data["goal"],
            "p_value": data["p_value"],
            "test": data["test"],
        },
    )
    return action


def verify_due_actions(now: datetime | None = None) -> list[int]:
    """The worker: decide every verifying action whose window has ended (before the local today)."""
    from kefu.accounts.services import get_system_user

    now = now or clock.now()
    today = _local_date(now)
    due = ImprovementAction.objects.filter(status=ActionStatus.VERIFYING, verify_to__lt=today)
    decided = []
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            action = ImprovementAction.objects.select_for_update().filter(pk=pk).first()
            if action is None or action.status != ActionStatus.VERIFYING:
                continue
            if action.verify_to is None or action.verify_to >= today:
                continue
            try:
                _decide(action, get_system_user(), now)
            except ValidationFailed:
                logger.warning("action %s cannot be verified (no target metric)", pk)
                continue
        decided.append(pk)
    return decided


def _check_owner(actor: Any, action: ImprovementAction) -> None:
    authorize(actor, "loops.own")
    if getattr(actor, "role", None) == Role.DEPARTMENT_OWNER and not actor.is_superuser:
        heads = {action.department.head_id}
        if actor.department_id != action.department_id and actor.pk not in heads:
            raise PermissionDenied(
                _("Only the owning department may re-verify this action."), action="loops.own"
            )


@transaction.atomic
def reverify(*, actor: Any, action_id: int) -> ImprovementAction:
    """Compute the verification again (late data, corrected labels) and set the result; for an
    action that is verifying, verified or not effective whose window has ended."""
    now = clock.now()
    action = _lock(action_id)
    _check_owner(actor, action)
    if action.status not in (ActionStatus.VERIFYING, *DECIDED) or action.verify_to is None:
        raise Conflict(
            _("Only an action under verification or already verified can be re-verified."),
            code="invalid_transition",
            field="status",
        )
    if action.verify_to >= _local_date(now):
        raise Conflict(
            _("The verification window ends on %(date)s; re-verify after that.")
            % {"date": action.verify_to.isoformat()},
            code="window_not_ended",
            field="verify_to",
        )
    return _decide(action, actor, now)
