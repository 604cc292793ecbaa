"""The improvement-action state machine: pure, no ORM. Every pair is tested in tests/test_workflow.py."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.core.errors import InvalidTransition, ValidationFailed
from kefu.loops.choices import ActionStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.REJECTED}),
    S.IN_PROGRESS: frozenset({S.IMPLEMENTED, S.REJECTED}),
    S.IMPLEMENTED: frozenset({S.VERIFYING, S.CLOSED}),  # closed: only an action without a target metric
    S.VERIFYING: frozenset({S.VERIFIED, S.NOT_EFFECTIVE}),
    S.VERIFIED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.NOT_EFFECTIVE: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset({S.PROPOSED}),
}

REOPENS = frozenset(
    {
        (S.VERIFIED, S.IN_PROGRESS),
        (S.NOT_EFFECTIVE, S.IN_PROGRESS),
        (S.CLOSED, S.IN_PROGRESS),
        (S.REJECTED, S.PROPOSED),
    }
)


def allowed(current: str) -> list[str]:
    """Targets reachable from `current`, in the canonical status order."""
    targets = TRANSITIONS.get(current, frozenset())
    return [s for s in S.values if s in targets]


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def is_reopen(current: str, target: str) -> bool:
    return (current, target) in REOPENS


def needs_reason(target: str) -> bool:
    return target == S.REJECTED


def check(current: str, target: str, reason: str = "") -> None:
    """Raise InvalidTransition (409, with the allowed targets) unless current → target is allowed;
    ValidationFailed when rejecting without a reason."""
    if target not in S.values:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.") % {"field": "to", "choices": ", ".join(S.values)},
            field="to",
        )
    if not can_transition(current, target):
        targets = allowed(current)
        raise InvalidTransition(
            _("Cannot change status from %(current)s to %(to)s; allowed: %(allowed)s.")
            % {"current": current, "to": target, "allowed": ", ".join(targets) or "-"},
            field="to",
            allowed=targets,
            current=current,
        )
    if needs_reason(target) and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason for rejecting."), field="reason")
