"""The accountability ladder under a controllable clock: an action nobody commits to climbs owner →
department head → executives, each step once; a passed committed date escalates; committing resets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.loops.models import ImprovementAction
from kefu.loops.services.actions import commit_date, transition_action
from kefu.loops.services.escalation import scan_actions
from kefu.loops.tests.test_actions import events_of, make_action, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # deadline: +3 days (no calendar) = Fri 27th 10:00


def at(day, hour=10, minute=0):
    return datetime(2026, 11 if day > 20 else 12, day, hour, minute, tzinfo=SH)


def scan(when):
    with time_machine.travel(when, tick=False):
        return scan_actions()


def levels(action):
    return [(e.data["level"], e.data["notify"]) for e in events_of(action, "loops.action_escalated")]


def test_uncommitted_action_climbs_the_ladder_once_per_step(world):  # noqa: F811
    with time_machine.travel(CREATED, tick=False):
        action = make_action(world, owner_id=world.member.pk)
    # before the deadline nothing happens
    assert scan(at(27, 9, 59)) == 0
    # at the deadline the owner is reminded (level 1), once even if scanned again
    assert scan(at(27, 10)) == 1
    assert scan(at(27, 10, 5)) == 0
    action.refresh_from_db()
    assert action.escalation_level == 1
    assert action.next_check_at == at(29)  # + escalate_head_after (2 days)
    # two days later the department head (level 2)
    assert scan(at(29, 10, 1)) == 1
    # five days after the deadline the executives (level 3), then nothing more to check
    assert scan(at(2, 10, 1)) == 1
    assert scan(at(9)) == 0
    action.refresh_from_db()
    assert action.escalation_level == 3 and action.next_check_at is None
    assert levels(action) == [
        (1, [world.member.pk]),
        (2, [world.head.pk]),
        (3, sorted([world.exec.pk, world.exec2.pk])),
    ]
    assert events_of(action, "loops.action_escalated")[0].actor.username != world.member.username


def test_a_late_scan_fires_every_missed_step_once(world):  # noqa: F811
    with time_machine.travel(CREATED, tick=False):
        action = make_action(world)
    # a worker down for a week: one scan fires the three steps, in order
    assert scan(at(5)) == 3
    assert [lvl for lvl, _ in levels(action)] == [1, 2, 3]
    assert scan(at(6)) == 0


def test_committing_resets_and_a_passed_committed_date_escalates(world):  # noqa: F811
    with time_machine.travel(CREATED, tick=False):
        action = make_action(world)
    scan(at(27, 11))
    # when the head commits a date for Monday the 30th, the escalation resets
    with time_machine.travel(at(27, 12), tick=False):
        commit_date(actor=world.head, action_id=action.pk, date="2026-11-30")
    action.refresh_from_db()
    assert action.escalation_level == 0 and action.status == "accepted"
    # nothing while the date has not passed
    assert scan(at(30, 23, 59)) == 0
    # the day after the committed date, not implemented: the owner (head, no owner set) is reminded
    assert scan(at(1, 0, 1)) == 1
    action.refresh_from_db()
    assert action.escalation_level == 1
    assert levels(action)[-1] == (1, [world.head.pk])
    ev = events_of(action, "loops.action_escalated")[-1]
    assert ev.data["cause"] == "overdue" and ev.data["committed_date"] == "2026-11-30"


def test_implemented_actions_do_not_escalate(world):  # noqa: F811
    with time_machine.travel(CREATED, tick=False):
        action = make_action(world)
        commit_date(actor=world.head, action_id=action.pk, date="2026-11-26")
        transition_action(actor=world.head, action_id=action.pk, to="in_progress")
        transition_action(actor=world.head, action_id=action.pk, to="implemented")
    assert scan(at(10)) == 0
    assert ImprovementAction.objects.get(pk=action.pk).escalation_level == 0
