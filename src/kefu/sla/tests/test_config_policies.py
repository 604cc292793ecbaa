"""Configuring SLA policies and escalation ladders through the services: conditions checked against
the real choices, targets, order, and ladders replaced as a whole with stable step ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.customers.tests.factories import ShopFactory
from kefu.sla.models import EscalationStep, SlaPolicy, SlaTimer, TimerStatus
from kefu.sla.services import config
from kefu.sla.services.config import StepSpec
from kefu.sla.tests.factories import complaint_policy, hotline_calendar
from kefu.tickets.models import Tag
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English (the source language); zh-hans is the default."""
    with translation.override("en"):
        yield


@pytest.fixture
def admin():
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def calendar():
    return hotline_calendar()


def policy_values(calendar, **overrides):
    values = {
        "name": "VIP 投诉",
        "calendar": calendar,
        "match_types": ["complaint"],
        "match_priorities": ["high", "urgent"],
        "first_reply_minutes": 60,
        "resolution_minutes": 960,
    }
    values.update(overrides)
    return values


def failure(call, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        call(**kwargs)
    return info.value


def step(target="resolution", trigger="elapsed_percent", threshold=75, unit="percent", **actions):
    actions.setdefault("notify", ("assignee",))
    return StepSpec(target, trigger, threshold, unit, **actions)


# --- policies -------------------------------------------------------------------------------------


def test_an_admin_creates_a_policy_matching_real_choices(admin, calendar):
    # given
    shop = ShopFactory()
    Tag.objects.create(name="媒体曝光")

    # when
    policy = config.save_policy(
        actor=admin,
        **policy_values(
            calendar, match_shop_ids=[shop.pk], match_vip_tiers=["gold", ""], match_tags=["媒体曝光"]
        ),
    )

    # then
    policy.refresh_from_db()
    assert policy.match_types == ["complaint"] and policy.match_vip_tiers == ["gold", ""]
    assert policy.match_shop_ids == [shop.pk] and policy.match_tags == ["媒体曝光"]
    assert policy.position == 10
    [event] = AuditEvent.objects.filter(verb="sla.policy_saved")
    assert event.data == {"name": "VIP 投诉", "created": True, "changes": {}}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"match_types": ["complain"]}, "match_types"),
        ({"match_priorities": ["critical"]}, "match_priorities"),
        ({"match_channels": ["fax"]}, "match_channels"),
        ({"match_vip_tiers": ["diamond"]}, "match_vip_tiers"),
        ({"match_shop_ids": [999]}, "match_shop_ids"),
        ({"match_tags": ["没有这个标签"]}, "match_tags"),
        ({"first_reply_minutes": None, "resolution_minutes": None}, "first_reply_minutes"),
        ({"first_reply_minutes": 0}, "first_reply_minutes"),
        ({"resolution_minutes": -5}, "resolution_minutes"),
        ({"resolve_same_day": True, "same_day_cutoff_minute": 1440}, "same_day_cutoff_minute"),
        ({"name": "  "}, "name"),
    ],
    ids=[
        "unknown-type",
        "unknown-priority",
        "unknown-channel",
        "unknown-tier",
        "unknown-shop",
        "unknown-tag",
        "no-target",
        "zero-minutes",
        "negative-minutes",
        "cutoff-24h",
        "blank-name",
    ],
)
def test_bad_policies_are_refused_naming_the_field(admin, calendar, overrides, field):
    exc = failure(config.save_policy, actor=admin, **policy_values(calendar, **overrides))
    assert exc.field == field
    assert not SlaPolicy.objects.exists() and not AuditEvent.objects.exists()


def test_the_message_names_the_field_and_the_value(admin, calendar):
    exc = failure(config.save_policy, actor=admin, **policy_values(calendar, match_types=["complain"]))
    assert "Ticket types" in exc.message and "complain" in exc.message
    exc = failure(
        config.save_policy,
        actor=admin,
        **policy_values(calendar, first_reply_minutes=None, resolution_minutes=None),
    )
    assert "at least one target" in exc.message


def test_same_day_resolution_is_a_target_of_its_own(admin, calendar):
    policy = config.save_policy(
        actor=admin,
        **policy_values(
            calendar,
            first_reply_minutes=None,
            resolution_minutes=None,
            resolve_same_day=True,
            same_day_cutoff_minute=16 * 60,
        ),
    )
    assert policy.same_day_cutoff_minute == 960
    assert config.policy_targets(policy) == {"resolution"}


def test_a_policy_needs_an_active_calendar(admin, calendar):
    calendar.is_active = False
    calendar.save()
    exc = failure(config.save_policy, actor=admin, **policy_values(calendar))
    assert exc.field == "calendar"


def test_agents_may_not_configure_policies(calendar):
    with pytest.raises(PermissionDenied):
        config.save_policy(actor=UserFactory(role="supervisor"), **policy_values(calendar))


def test_new_policies_go_last_and_can_be_reordered(admin, calendar):
    # given
    a = config.save_policy(actor=admin, **policy_values(calendar, name="A"))
    b = config.save_policy(actor=admin, **policy_values(calendar, name="B"))
    c = config.save_policy(actor=admin, **policy_values(calendar, name="C"))

    # when
    config.reorder_policies(actor=admin, ids=[c.pk, a.pk, b.pk])
    config.move_policy(actor=admin, policy=b, offset=-1)

    # then
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "B", "A"]
    moves = AuditEvent.objects.filter(verb="sla.policies_reordered").order_by("id")
    assert [e.data["to"] for e in moves] == [[c.pk, a.pk, b.pk], [c.pk, b.pk, a.pk]]
    exc = failure(config.reorder_policies, actor=admin, ids=[c.pk, a.pk])
    assert exc.field == "ids"


def test_a_policy_timing_open_tickets_is_deactivated_not_deleted(admin, calendar):
    # given a policy with a running clock
    policy = complaint_policy(calendar)
    now = datetime(2026, 11, 24, 2, tzinfo=UTC)
    SlaTimer.objects.create(
        ticket=TicketFactory(),
        target="resolution",
        policy=policy,
        status=TimerStatus.RUNNING,
        target_seconds=3600,
        started_at=now,
        running_since=now,
        remaining_at_start=3600,
        updated_at=now,
    )

    # when / then
    with pytest.raises(Conflict):
        config.delete_policy(actor=admin, policy=policy)
    config.set_policy_active(actor=admin, policy=policy, is_active=False)
    policy.refresh_from_db()
    assert policy.is_active is False
    SlaTimer.objects.update(status=TimerStatus.MET)
    config.delete_policy(actor=admin, policy=policy)
    assert not SlaPolicy.objects.exists() and not EscalationStep.objects.exists()
    assert AuditEvent.objects.filter(verb="sla.policy_deleted", data__name="投诉").exists()


def test_removing_a_target_that_has_ladder_steps_is_refused(admin, calendar):
    policy = complaint_policy(calendar)  # its ladder escalates the resolution target
    values = policy_values(calendar, name="投诉", resolution_minutes=None)
    exc = failure(config.save_policy, actor=admin, policy=policy, **values)
    assert exc.field == "resolution_minutes" and "ladder" in exc.message


# --- ladders --------------------------------------------------------------------------------------


def test_a_ladder_is_saved_as_a_whole_and_audited(admin, calendar):
    policy = config.save_policy(actor=admin, **policy_values(calendar))
    steps = config.save_ladder(
        actor=admin,
        policy=policy,
        steps=[
            step(threshold=75),
            step(
                trigger="after_breach",
                threshold=0,
                unit="minutes",
                notify=("supervisors",),
                raise_priority=True,
            ),
            step(
                target="first_reply",
                trigger="after_breach",
                threshold=2,
                unit="hours",
                notify=(),
                reassign_to="team_lead",
            ),
        ],
    )
    assert len(steps) == 3 == policy.steps.count()
    event = AuditEvent.objects.get(verb="sla.ladder_saved")
    assert event.data["count"] == 3 and event.data["added"] == 3


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (step(notify=()), "steps.1", ["Step 2", "no action"]),
        (step(threshold=100), "steps.1.threshold", ["Step 2", "1 to 99"]),
        (step(threshold=0), "steps.1.threshold", ["Step 2"]),
        (step(unit="minutes"), "steps.1.unit", ["Step 2"]),
        (step(trigger="after_breach", unit="percent", threshold=10), "steps.1.unit", ["Step 2"]),
        (step(target="next_reply"), "steps.1.target", ["Step 2", "Next reply"]),
        (step(threshold=50, notify=("assignee",)), "steps.1", ["Step 2", "repeats step 1"]),
        (step(notify=("ceo",)), "steps.1.notify", ["Step 2"]),
        (step(reassign_to="boss"), "steps.1.reassign_to", ["Step 2"]),
    ],
    ids=[
        "no-action",
        "100-percent",
        "0-percent",
        "percent-in-minutes",
        "breach-in-percent",
        "target-the-policy-lacks",
        "duplicate",
        "unknown-recipient",
        "unknown-reassign",
    ],
)
def test_bad_ladders_are_refused_naming_the_step_and_nothing_changes(admin, calendar, bad, field, words):
    # given a policy with a first reply and a resolution target, and a saved ladder
    policy = config.save_policy(actor=admin, **policy_values(calendar))
    [kept] = config.save_ladder(actor=admin, policy=policy, steps=[step(threshold=50)])

    # when
    exc = failure(config.save_ladder, actor=admin, policy=policy, steps=[step(threshold=50), bad])

    # then
    assert exc.field == field and exc.extra["step"] == 1
    for word in words:
        assert word in exc.message
    assert list(policy.steps.values_list("pk", "threshold")) == [(kept.pk, 50)]
    assert AuditEvent.objects.filter(verb="sla.ladder_saved").count() == 1


def test_steps_keep_their_id_while_their_timing_is_unchanged(admin, calendar):
    # given
    policy = config.save_policy(actor=admin, **policy_values(calendar))
    first, breach = config.save_ladder(
        actor=admin,
        policy=policy,
        steps=[step(threshold=75), step(trigger="after_breach", threshold=1, unit="days")],
    )

    # when only the actions of one change and the other's threshold moves
    again = config.save_ladder(
        actor=admin,
        policy=policy,
        steps=[
            step(threshold=75, notify=("assignee", "supervisors")),
            step(trigger="after_breach", threshold=2, unit="days"),
        ],
    )

    # then
    by_threshold = {s.threshold: s for s in again}
    assert by_threshold[75].pk == first.pk and by_threshold[75].notify == ["assignee", "supervisors"]
    assert by_threshold[2].pk != breach.pk
    assert not EscalationStep.objects.filter(pk=breach.pk).exists()
    event = AuditEvent.objects.filter(verb="sla.ladder_saved").latest("id")
    assert (event.data["added"], event.data["changed"], event.data["removed"]) == (1, 1, 1)

    # and saving the same ladder again changes nothing
    config.save_ladder(
        actor=admin,
        policy=policy,
        steps=[
            step(threshold=75, notify=("assignee", "supervisors")),
            step(trigger="after_breach", threshold=2, unit="days"),
        ],
    )
    assert AuditEvent.objects.filter(verb="sla.ladder_saved").count() == 2
