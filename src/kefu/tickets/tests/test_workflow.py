import itertools

import pytest

from kefu.tickets import workflow
from kefu.tickets.choices import Status

EXPECTED = {
    ("new", "open"), ("new", "pending"), ("new", "on_hold"), ("new", "solved"),
    ("open", "pending"), ("open", "on_hold"), ("open", "solved"),
    ("pending", "open"), ("pending", "on_hold"), ("pending", "solved"),
    ("on_hold", "open"), ("on_hold", "pending"), ("on_hold", "solved"),
    ("solved", "open"), ("solved", "closed"),
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status.values, Status.values)))
def test_every_pair_of_statuses(current, target):
    # given a ticket in `current`, when asked to move to `target`, then only the designed pairs are allowed
    assert workflow.can_transition(current, target) is ((current, target) in EXPECTED)
    assert (target in workflow.allowed_transitions(current)) is ((current, target) in EXPECTED)


def test_closed_is_final_and_only_solved_to_open_is_a_reopen():
    assert workflow.allowed_transitions("closed") == []
    reopen_pairs = [p for p in itertools.product(Status.values, Status.values) if workflow.is_reopen(*p)]
    assert reopen_pairs == [("solved", "open")]


def test_allowed_transitions_come_in_canonical_order():
    assert workflow.allowed_transitions("new") == ["open", "pending", "on_hold", "solved"]
