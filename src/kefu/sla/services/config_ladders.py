"""Configuration writes for escalation ladders (re-exported by kefu.sla.services.config).

A ladder is replaced as a whole. Steps keep their id — which fired escalations reference — while
their timing (target, trigger, threshold, unit) is unchanged: editing only a step's actions keeps its
id; changing its timing replaces it with a new step, which can fire again on tickets where the old
one fired. Running clocks of the policy recompute their next action at the next scan, so a new step
whose moment has already passed on a running ticket fires then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.sla import events
from kefu.sla.models import (
    EscalationStep,
    ReassignTo,
    Recipient,
    SlaPolicy,
    SlaTimer,
    Target,
    ThresholdUnit,
    TimerStatus,
    Trigger,
)
from kefu.sla.services.config_policies import policy_targets

MAX_STEPS = 50
BREACH_UNITS: dict[str, int] = {
    ThresholdUnit.MINUTES: 366 * 24 * 60,
    ThresholdUnit.HOURS: 366 * 24,
    ThresholdUnit.DAYS: 366,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(message: str, field: str, index: int) -> ValidationFailed:
    return ValidationFailed(message, field=field, step=index)


@dataclass(frozen=True)
class StepSpec:
    """One rung as entered: when it fires (target, trigger, threshold, unit) and what it does."""

    target: str
    trigger: str
    threshold: int
    unit: str
    notify: tuple[str, ...] = ()
    raise_priority: bool = False
    reassign_to: str = ""

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.target, self.trigger, self.threshold, self.unit)


def _clean_step(index: int, spec: StepSpec, targets: set[str]) -> StepSpec:
    n = {"n": index + 1}
    prefix = f"steps.{index}"
    if spec.target not in Target.values:
        raise _fail(_("Step %(n)s: choose a target.") % n, f"{prefix}.target", index)
    if spec.target not in targets:
        raise _fail(
            _("Step %(n)s: the policy has no %(target)s target; add it or choose another target.")
            % {**n, "target": Target(spec.target).label},
            f"{prefix}.target",
            index,
        )
    if spec.trigger not in Trigger.values:
        raise _fail(_("Step %(n)s: choose when it fires.") % n, f"{prefix}.trigger", index)
    if not _is_int(spec.threshold):
        raise _fail(_("Step %(n)s: the threshold must be a whole number.") % n, f"{prefix}.threshold", index)
    if spec.trigger == Trigger.ELAPSED_PERCENT:
        if spec.unit != ThresholdUnit.PERCENT:
            raise _fail(
                _("Step %(n)s: a share of the target elapsed is counted in %%.") % n,
                f"{prefix}.unit",
                index,
            )
        if not 1 <= spec.threshold <= 99:
            raise _fail(
                _("Step %(n)s: the percentage must be from 1 to 99 (100%% is the breach).") % n,
                f"{prefix}.threshold",
                index,
            )
    else:
        limit = BREACH_UNITS.get(spec.unit)
        if limit is None:
            raise _fail(
                _("Step %(n)s: after the breach, count business minutes, hours or days.") % n,
                f"{prefix}.unit",
                index,
            )
        if not 0 <= spec.threshold <= limit:
            raise _fail(
                _("Step %(n)s: the threshold must be from 0 to %(max)s.") % {**n, "max": limit},
                f"{prefix}.threshold",
                index,
            )
    notify = tuple(dict.fromkeys(spec.notify))
    if any(who not in Recipient.values for who in notify):
        raise _fail(_("Step %(n)s: choose whom to notify from the list.") % n, f"{prefix}.notify", index)
    if spec.reassign_to not in ReassignTo.values:
        raise _fail(
            _("Step %(n)s: choose whom to reassign to from the list.") % n,
            f"{prefix}.reassign_to",
            index,
        )
    if not (notify or spec.raise_priority or spec.reassign_to):
        raise _fail(
            _("Step %(n)s has no action: notify someone, raise the priority or reassign the ticket.") % n,
            prefix,
            index,
        )
    return StepSpec(
        spec.target,
        spec.trigger,
        spec.threshold,
        spec.unit,
        notify,
        bool(spec.raise_priority),
        spec.reassign_to,
    )


def _step_data(step: EscalationStep) -> dict[str, Any]:
    return {
        "id": step.pk,
        "target": step.target,
        "trigger": step.trigger,
        "threshold": step.threshold,
        "unit": step.unit,
        "notify": list(step.notify),
        "raise_priority": step.raise_priority,
        "reassign_to": step.reassign_to,
    }


@transaction.atomic
def save_ladder(*, actor: Any, policy: SlaPolicy, steps: Sequence[StepSpec]) -> list[EscalationStep]:
    """Replace the policy's escalation steps as a whole (all or nothing); the steps in the given order."""
    authorize(actor, "sla.manage")
    row = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(_("Ladder: at most %(n)s steps.") % {"n": MAX_STEPS}, field="steps")
    targets = policy_targets(row)
    cleaned: list[StepSpec] = []
    seen: dict[tuple[str, str, int, str], int] = {}
    for index, spec in enumerate(steps):
        clean = _clean_step(index, spec, targets)
        if clean.key in seen:
            raise _fail(
                _("Step %(n)s repeats step %(m)s: same target, trigger and threshold.")
                % {"n": index + 1, "m": seen[clean.key] + 1},
                f"steps.{index}",
                index,
            )
        seen[clean.key] = index
        cleaned.append(clean)
    existing: dict[tuple[str, str, int, str], EscalationStep] = {}
    stale: list[int] = []
    for old in EscalationStep.objects.filter(policy=row).order_by("id"):
        key = (old.target, old.trigger, old.threshold, old.unit)
        if key in existing or key not in seen:
            stale.append(old.pk)
        else:
            existing[key] = old
    added = changed = 0
    kept: list[EscalationStep] = []
    for spec in cleaned:
        actions = {
            "notify": list(spec.notify),
            "raise_priority": spec.raise_priority,
            "reassign_to": spec.reassign_to,
        }
        current = existing.get(spec.key)
        if current is None:
            current = EscalationStep.objects.create(
                policy=row,
                target=spec.target,
                trigger=spec.trigger,
                threshold=spec.threshold,
                unit=spec.unit,
                **actions,
            )
            added += 1
        elif any(getattr(current, k) != v for k, v in actions.items()):
            for field, value in actions.items():
                setattr(current, field, value)
            current.save(update_fields=list(actions))
            changed += 1
        kept.append(current)
    EscalationStep.objects.filter(pk__in=stale).delete()
    if added or changed or stale:
        now = clock.now()
        # running clocks recompute their next action at the next scan
        SlaTimer.objects.filter(policy=row, status=TimerStatus.RUNNING).filter(
            Q(next_action_at__isnull=True) | Q(next_action_at__gt=now)
        ).update(next_action_at=now)
        record_event(
            actor=actor,
            verb=events.LADDER_SAVED.verb,
            subject=row,
            data={
                "name": row.name,
                "count": len(kept),
                "added": added,
                "changed": changed,
                "removed": len(stale),
                "steps": [_step_data(s) for s in kept],
            },
        )
    return kept
