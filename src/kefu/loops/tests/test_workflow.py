"""The improvement-action state machine: every (from, to) pair, reasons for rejecting, reopen."""

from __future__ import annotations

import itertools

import pytest

from kefu.core.errors import InvalidTransition, ValidationFailed
from kefu.loops import workflow
from kefu.loops.choices import ActionStatus as S

EXPECTED = {
    (S.PROPOSED, S.ACCEPTED),
    (S.PROPOSED, S.REJECTED),
    (S.ACCEPTED, S.IN_PROGRESS),
    (S.ACCEPTED, S.REJECTED),
    (S.IN_PROGRESS, S.IMPLEMENTED),
    (S.IN_PROGRESS, S.REJECTED),
    (S.IMPLEMENTED, S.VERIFYING),
    (S.IMPLEMENTED, S.CLOSED),
    (S.VERIFYING, S.VERIFIED),
    (S.VERIFYING, S.NOT_EFFECTIVE),
    (S.VERIFIED, S.CLOSED),
    (S.VERIFIED, S.IN_PROGRESS),
    (S.NOT_EFFECTIVE, S.IN_PROGRESS),
    (S.NOT_EFFECTIVE, S.CLOSED),
    (S.CLOSED, S.IN_PROGRESS),
    (S.REJECTED, S.PROPOSED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S.values, S.values)))
def test_every_pair(current, target):
    # given a pair of statuses, when it is checked, then only the listed moves pass
    ok = (current, target) in EXPECTED
    assert workflow.can_transition(current, target) is ok
    assert (target in workflow.allowed(current)) is ok
    if ok:
        workflow.check(current, target, reason="because")
    else:
        with pytest.raises(InvalidTransition) as exc:
            workflow.check(current, target, reason="because")
        assert exc.value.extra["allowed"] == workflow.allowed(current)
        assert exc.value.status == 409


def test_allowed_is_in_canonical_order():
    assert workflow.allowed(S.PROPOSED) == ["accepted", "rejected"]
    assert workflow.allowed(S.VERIFYING) == ["verified", "not_effective"]


def test_rejecting_needs_a_reason():
    # when rejecting with a blank reason, then the reason field is named
    with pytest.raises(ValidationFailed) as exc:
        workflow.check(S.PROPOSED, S.REJECTED, reason="  ")
    assert exc.value.field == "reason"
    workflow.check(S.PROPOSED, S.REJECTED, reason="不是我们部门的问题")


def test_unknown_target_is_a_validation_error():
    with pytest.raises(ValidationFailed) as exc:
        workflow.check(S.PROPOSED, "done")
    assert exc.value.field == "to"


def test_reopens():
    assert workflow.is_reopen(S.CLOSED, S.IN_PROGRESS)
    assert workflow.is_reopen(S.REJECTED, S.PROPOSED)
    assert not workflow.is_reopen(S.ACCEPTED, S.IN_PROGRESS)
