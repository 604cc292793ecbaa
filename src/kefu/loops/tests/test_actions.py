"""Improvement-action services: numbering, evidence from an insight, deadlines in business days,
audit events with notifications, who may do what, commit, claim, comments, evidence, milestones."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.accounts.models import Membership
from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from kefu.customers.models import Product
from kefu.loops.models import ActionAttachment, ActionEvidence, ImprovementAction, LoopSettings
from kefu.loops.services.actions import (
    add_comment,
    add_evidence,
    add_milestone,
    claim_action,
    commit_date,
    complete_milestone,
    create_action,
    transition_action,
    update_action,
)
from kefu.sla.tests.factories import hotline_calendar
from kefu.tickets.tests.factories import TicketFactory
from kefu.voc.models import FeedbackItem, Insight, InsightItem, TaxonomyNode

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # a Tuesday
_seq = itertools.count(1)


class World:
    """A quality department (head + a team member), logistics, a supervisor, an admin, an executive."""

    def __init__(self):
        self.qc = DepartmentFactory(name="品控", code="qc")
        self.logistics = DepartmentFactory(name="物流", code="logistics")
        self.head = UserFactory(username="owner_qc", role="department_owner", department=self.qc)
        self.qc.head = self.head
        self.qc.save()
        self.log_head = UserFactory(
            username="owner_logistics", role="department_owner", department=self.logistics
        )
        self.logistics.head = self.log_head
        self.logistics.save()
        team = TeamFactory(department=self.qc)
        self.member = UserFactory(username="qc_lead", role="supervisor")
        Membership.objects.create(user=self.member, team=team)
        self.supervisor = UserFactory(username="sup", role="supervisor")
        self.admin = UserFactory(username="adm", role="admin")
        self.exec = UserFactory(username="ceo", role="executive")
        self.exec2 = UserFactory(username="vp", role="executive")
        self.agent = UserFactory(username="agent", role="agent")


@pytest.fixture
def world():
    return World()


def feedback(text="制氧机噪音很大", product=None, cause=None):
    n = next(_seq)
    return FeedbackItem.objects.create(
        source="ticket_created",
        source_key=f"t:{n}",
        text=text,
        occurred_at=NOW,
        product=product,
        cause=cause,
        polarity="negative",
        sentiment=-0.6,
        created_at=NOW,
        updated_at=NOW,
    )


def noise_insight(n_items=3):
    product = Product.objects.create(model_number="KY-5W", name="制氧机")
    cause = TaxonomyNode.objects.create(
        kind="cause", name="产品质量", level=1, created_at=NOW, updated_at=NOW
    )
    insight = Insight.objects.create(
        key="KY-5W|noise",
        title="制氧机 噪音",
        product=product,
        cause=cause,
        first_seen=NOW,
        last_seen=NOW,
        computed_at=NOW,
        is_spike=True,
    )
    for _ in range(n_items):
        InsightItem.objects.create(insight=insight, item=feedback(product=product, cause=cause))
    return insight


def make_action(world, **kw):
    fields = {
        "actor": world.supervisor,
        "title": "制氧机噪音",
        "problem": "差评集中在噪音",
        "department_id": world.qc.pk,
    }
    fields.update(kw)
    return create_action(**fields)


def events_of(action, verb):
    return list(AuditEvent.objects.filter(subject_type="improvementaction", subject_id=action.pk, verb=verb))


@time_machine.travel(NOW, tick=False)
def test_create_from_insight_links_evidence_and_notifies_the_head(world):
    # given a noise insight with three items and a ticket
    insight = noise_insight(3)
    ticket = TicketFactory()
    # when a supervisor creates an action from it
    action = make_action(
        world, insight_id=insight.pk, ticket_ids=[ticket.pk], milestones=["换风扇", {"title": "验证"}]
    )
    # then it is numbered IA + local date + id, proposed, with evidence and metric defaults
    assert action.number == f"IA20261124{action.pk:05d}"
    assert action.status == "proposed"
    assert action.source == "insight"
    assert action.metric_product_id == insight.product_id
    assert action.metric_cause_id == insight.cause_id
    assert ActionEvidence.objects.filter(action=action, feedback_item__isnull=False).count() == 3
    assert ActionEvidence.objects.filter(action=action, ticket=ticket).exists()
    assert list(action.milestones.values_list("title", flat=True)) == ["换风扇", "验证"]
    # and the deadline is three plain days later (no calendar), the next check the deadline
    assert action.commit_deadline == datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    assert action.next_check_at == action.commit_deadline
    # and the department head (no owner yet) is notified of creation and assignment
    created = events_of(action, "loops.action_created")[0]
    assigned = events_of(action, "loops.action_assigned")[0]
    assert created.data["notify"] == [world.head.pk]
    assert assigned.data["notify"] == [world.head.pk]
    assert assigned.data["department"] == "品控"
    assert created.actor == world.supervisor


@time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=SH), tick=False)
def test_deadline_counts_business_days_on_the_calendar(world):
    # given the loop settings use a Mon–Sat calendar
    settings = LoopSettings.load()
    settings.calendar = hotline_calendar()
    settings.save()
    # when an action is created on a Friday with an owner
    action = make_action(world, owner_id=world.member.pk)
    # then three business days are Sat, Mon, Tue (Sunday closed)
    assert action.commit_deadline == datetime(2026, 12, 1, 10, 0, tzinfo=SH)
    assert events_of(action, "loops.action_assigned")[0].data["notify"] == [world.member.pk]


def test_create_checks_role_and_input(world):
    # an agent may not create; bad input names the field and writes nothing
    with pytest.raises(PermissionDenied):
        make_action(world, actor=world.agent)
    for kw, field in (
        ({"title": " "}, "title"),
        ({"department_id": None}, "department_id"),
        ({"department_id": 999}, "department_id"),
        ({"metric": "nps"}, "metric"),
        ({"goal_value": "abc"}, "goal_value"),
        ({"ticket_ids": [424242]}, "ticket_ids"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            make_action(world, **kw)
        assert exc.value.field == field
    assert ImprovementAction.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_transitions_by_the_department_stamp_times_and_audit(world):
    action = make_action(world)
    # when the department's team member accepts, progresses and implements
    transition_action(actor=world.member, action_id=action.pk, to="accepted")
    transition_action(actor=world.member, action_id=action.pk, to="in_progress")
    action = transition_action(actor=world.head, action_id=action.pk, to="implemented")
    # then the times are stamped, the ladder stops, and every change is audited
    assert action.status == "implemented"
    assert action.accepted_at == NOW and action.implemented_at == NOW
    assert action.next_check_at is None
    moves = [(e.data["from"], e.data["to"]) for e in events_of(action, "loops.action_status_changed")]
    assert moves == [("proposed", "accepted"), ("accepted", "in_progress"), ("in_progress", "implemented")]
    # and a move the workflow does not allow is a conflict with the allowed targets
    with pytest.raises(InvalidTransition) as exc:
        transition_action(actor=world.head, action_id=action.pk, to="proposed")
    assert exc.value.extra["allowed"] == ["verifying", "closed"]


@time_machine.travel(NOW, tick=False)
def test_an_implemented_fix_closes_without_verification_only_when_it_has_no_metric(world):
    # given two implemented actions, one with a target metric
    plain = make_action(world)
    measured = make_action(world, metric="complaint_volume", goal_value=2)
    for action in (plain, measured):
        for to in ("accepted", "in_progress", "implemented"):
            transition_action(actor=world.head, action_id=action.pk, to=to)
    # when the department closes them: the one without a metric closes
    assert transition_action(actor=world.head, action_id=plain.pk, to="closed").status == "closed"
    # and the measured one must wait for its verification
    with pytest.raises(ValidationFailed) as exc:
        transition_action(actor=world.head, action_id=measured.pk, to="closed")
    assert exc.value.field == "to"


def test_other_departments_and_roles_may_not_transition(world):
    action = make_action(world)
    # the logistics head is not of the owning department; an agent lacks loops.own
    with pytest.raises(PermissionDenied):
        transition_action(actor=world.log_head, action_id=action.pk, to="accepted")
    with pytest.raises(PermissionDenied):
        transition_action(actor=world.agent, action_id=action.pk, to="accepted")
    # another supervisor, not the creator, may not reject
    other = UserFactory(role="supervisor")
    with pytest.raises(PermissionDenied):
        transition_action(actor=other, action_id=action.pk, to="rejected", reason="重复")
    # the creating supervisor may reject (with a reason) but not accept
    with pytest.raises(PermissionDenied):
        transition_action(actor=world.supervisor, action_id=action.pk, to="accepted")
    with pytest.raises(ValidationFailed):
        transition_action(actor=world.supervisor, action_id=action.pk, to="rejected")
    action = transition_action(actor=world.supervisor, action_id=action.pk, to="rejected", reason="重复")
    assert action.reject_reason == "重复"
    # executives and admins may act on any action: reopen
    action = transition_action(actor=world.exec, action_id=action.pk, to="proposed")
    assert action.status == "proposed" and action.next_check_at is not None
    with pytest.raises(NotFound):
        transition_action(actor=world.admin, action_id=99999, to="accepted")


@time_machine.travel(NOW, tick=False)
def test_commit_date_accepts_resets_and_notifies_the_creator(world):
    action = make_action(world)
    ImprovementAction.objects.filter(pk=action.pk).update(escalation_level=2)
    # when the head commits a fix date
    action = commit_date(actor=world.head, action_id=action.pk, date="2026-12-15")
    # then the action is accepted, the ladder restarts at the end of that date
    assert action.status == "accepted"
    assert action.committed_date == date(2026, 12, 15)
    assert action.escalation_level == 0
    assert action.next_check_at == datetime(2026, 12, 16, 0, 0, tzinfo=SH)
    ev = events_of(action, "loops.action_date_committed")[0]
    assert ev.data["date"] == "2026-12-15" and ev.data["notify"] == [world.supervisor.pk]
    # and a date in the past, a bad date or another department are refused
    with pytest.raises(ValidationFailed) as exc:
        commit_date(actor=world.head, action_id=action.pk, date="2026-11-23")
    assert exc.value.field == "date"
    with pytest.raises(ValidationFailed):
        commit_date(actor=world.head, action_id=action.pk, date="soon")
    with pytest.raises(PermissionDenied):
        commit_date(actor=world.log_head, action_id=action.pk, date="2026-12-20")


def test_reassigning_resets_deadline_and_escalation(world):
    with time_machine.travel(NOW, tick=False):
        action = make_action(world)
        commit_date(actor=world.head, action_id=action.pk, date="2026-12-01")
        ImprovementAction.objects.filter(pk=action.pk).update(escalation_level=1)
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=SH), tick=False):
        # when the creator moves it to logistics
        action = update_action(
            actor=world.supervisor,
            action_id=action.pk,
            changes={"department_id": world.logistics.pk, "goal_value": 0.02},
        )
    # then the new department gets a fresh deadline, no committed date, no escalation, and is notified
    assert action.department_id == world.logistics.pk
    assert action.committed_date is None and action.escalation_level == 0
    assert action.commit_deadline == datetime(2026, 12, 6, 9, 0, tzinfo=SH)
    assert action.goal_value == 0.02
    assigned = events_of(action, "loops.action_assigned")[-1]
    assert assigned.data["notify"] == [world.log_head.pk]
    changed = events_of(action, "loops.action_changed")[-1]
    assert changed.data["fields"] == "department_id, goal_value"
    # and someone else may not edit it, nor change unknown fields
    with pytest.raises(PermissionDenied):
        update_action(actor=world.agent, action_id=action.pk, changes={"title": "x"})
    with pytest.raises(ValidationFailed) as exc:
        update_action(actor=world.admin, action_id=action.pk, changes={"status": "closed"})
    assert exc.value.field == "status"


def test_claim_by_executive_only(world):
    action = make_action(world)
    with pytest.raises(PermissionDenied):
        claim_action(actor=world.admin, action_id=action.pk)
    action = claim_action(actor=world.exec, action_id=action.pk)
    assert action.claimed_by == world.exec and action.claimed_at is not None
    ev = events_of(action, "loops.action_claimed")[0]
    assert ev.data["notify"] == [world.head.pk]
    claim_action(actor=world.exec, action_id=action.pk)  # again: nothing new
    assert len(events_of(action, "loops.action_claimed")) == 1


def test_comment_with_attachment_and_bad_file(world):
    action = make_action(world, owner_id=world.member.pk)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    # when the head comments with a photo
    comment = add_comment(
        actor=world.head,
        action_id=action.pk,
        body="已联系供应商",
        files=[SimpleUploadedFile("噪音.png", png, content_type="image/png")],
    )
    # then the comment and its sniffed attachment are stored, owner and creator notified
    att = ActionAttachment.objects.get(comment=comment)
    assert att.content_type == "image/png" and att.file_name == "噪音.png" and att.size == len(png)
    ev = events_of(action, "loops.action_commented")[0]
    assert sorted(ev.data["notify"]) == sorted([world.member.pk, world.supervisor.pk])
    # and an executable is refused without writing a comment
    from kefu.core.errors import UnsupportedMediaType

    with pytest.raises(UnsupportedMediaType):
        add_comment(
            actor=world.head,
            action_id=action.pk,
            body="x",
            files=[SimpleUploadedFile("a.exe", b"MZ\x90\x00" + b"\x00\xff" * 40)],
        )
    assert action.comments.count() == 1
    with pytest.raises(ValidationFailed):
        add_comment(actor=world.head, action_id=action.pk, body="  ")


def test_evidence_and_milestones(world):
    action = make_action(world)
    item = feedback()
    add_evidence(actor=world.supervisor, action_id=action.pk, feedback_item_id=item.pk)
    from kefu.core.errors import Conflict

    with pytest.raises(Conflict):
        add_evidence(actor=world.supervisor, action_id=action.pk, feedback_item_id=item.pk)
    with pytest.raises(ValidationFailed):
        add_evidence(actor=world.supervisor, action_id=action.pk)
    assert len(events_of(action, "loops.action_evidence_added")) == 1
    ms = add_milestone(actor=world.head, action_id=action.pk, title="更换风扇供应商", due_date="2026-12-10")
    with pytest.raises(PermissionDenied):
        add_milestone(actor=world.log_head, action_id=action.pk, title="x")
    ms = complete_milestone(actor=world.member, milestone_id=ms.pk)
    assert ms.done_at is not None
    changes = [e.data["change"] for e in events_of(action, "loops.action_milestone_changed")]
    assert changes == ["added", "done"]


def test_demo_seed_is_idempotent_and_runs_after_the_voc_demo(world):
    from kefu.core.signals import demo_seeded
    from kefu.loops.demo import seed_loops_demo

    # given the voc demo's insights: the noise spike and a slow-delivery one
    noise = noise_insight(2)
    noise.impact = 9
    noise.save()
    slow_cause = TaxonomyNode.objects.create(
        kind="cause", name="配送慢", level=2, created_at=NOW, updated_at=NOW
    )
    Insight.objects.create(
        key="slow",
        title="物流 配送慢",
        cause=slow_cause,
        first_seen=NOW,
        last_seen=NOW,
        computed_at=NOW,
        impact=3,
    )
    UserFactory(username="supervisor2", role="supervisor")
    # when the demo is seeded (twice)
    with time_machine.travel(NOW, tick=False):
        assert seed_loops_demo(NOW) == {"actions": 3}
        assert seed_loops_demo(NOW) == {"actions": 0}
    # then the noise spike is QC's, the slow delivery is logistics' (committed by its owner)
    noise_action = ImprovementAction.objects.get(insight=noise)
    assert noise_action.department == world.qc and noise_action.status == "proposed"
    slow = ImprovementAction.objects.get(insight__key="slow")
    assert slow.department == world.logistics and slow.status == "accepted" and slow.committed_date
    # and an older QC action is overdue, escalated to the department head
    old = ImprovementAction.objects.get(insight=None)
    assert old.department == world.qc and old.escalation_level == 2
    assert old.created_at < NOW and old.committed_date < NOW.date()
    assert [e.data["level"] for e in events_of(old, "loops.action_escalated")] == [1, 2]
    # and the loops receiver comes after the voc one
    uids = [r[0][0] for r in demo_seeded.receivers]
    assert uids.index("voc-demo") < uids.index("loops-demo")
