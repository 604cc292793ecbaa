"""The ticket state machine: pure, no ORM. Every pair is tested in tests/test_workflow.py."""

from __future__ import annotations

from kefu.tickets.choices import Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),  # solved -> open is a reopen
    Status.CLOSED: frozenset(),
}

OPEN_STATES = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


def allowed_transitions(current: str) -> list[str]:
    """Targets reachable from `current`, in the canonical status order."""
    targets = TRANSITIONS.get(current, frozenset())
    return [s for s in Status.values if s in targets]


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def is_reopen(current: str, target: str) -> bool:
    return current == Status.SOLVED and target == Status.OPEN
