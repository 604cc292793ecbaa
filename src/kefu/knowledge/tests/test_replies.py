"""Standard replies: placeholders filled in one safe pass, and who may manage which reply."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.knowledge import selectors, services
from kefu.knowledge.models import StandardReply
from kefu.knowledge.placeholders import PLACEHOLDERS, fill_reply, render_reply, unknown_placeholders
from kefu.knowledge.tests.factories import ReplyFactory

CONTEXT = {
    "customer.name": "王女士",
    "customer.phone": "13800138000",
    "ticket.number": "T2026030200001",
    "ticket.subject": "制氧机噪音",
    "agent.name": "小李",
    "agent.team": "售后一组",
    "today": "2026-03-02",
}


# --- placeholders -------------------------------------------------------------------------------------


def test_placeholders_are_filled():
    body = (
        "{customer.name}您好，您的工单{ticket.number}（{ticket.subject}）"
        "已由{agent.team}的{agent.name}处理。{today}"
    )
    assert render_reply(body, CONTEXT) == (
        "王女士您好，您的工单T2026030200001（制氧机噪音）已由售后一组的小李处理。2026-03-02"
    )
    # spaces inside the braces and full-width braces (a Chinese keyboard) work too
    assert render_reply("{ customer.name }，｛agent.name｝", CONTEXT) == "王女士，小李"


def test_unknown_and_unfilled_placeholders_stay_as_typed_and_are_reported():
    filled = fill_reply(
        "{customer.nmae}您好，{customer.phone}，{order.id}，{customer.name}", {"customer.name": "王"}
    )
    assert filled.text == "{customer.nmae}您好，{customer.phone}，{order.id}，王"
    assert filled.unknown == ["customer.nmae", "order.id"]
    assert filled.missing == ["customer.phone"]
    assert unknown_placeholders("{customer.nmae} {customer.name} {order.id}") == ["customer.nmae", "order.id"]


def test_braces_in_text_and_in_values_are_safe():
    # given text with braces that are not placeholders, and attribute-access or format tricks
    body = (
        "满{100}减{20}，{{双括号}}，{0}，{customer.name.__class__}，{customer.name!r}，{customer.name:>10}，{"
    )
    # when it is filled
    text = render_reply(body, CONTEXT)
    # then nothing is evaluated or lost
    assert text == body
    # and a value that looks like a placeholder is inserted as it is, never filled again
    assert render_reply("{customer.name}，{agent.name}", {**CONTEXT, "customer.name": "{agent.name}"}) == (
        "{agent.name}，小李"
    )


def test_placeholders_have_labels_for_the_editor():
    names = [name for name, _label in PLACEHOLDERS]
    assert names == [
        "customer.name",
        "customer.phone",
        "ticket.number",
        "ticket.subject",
        "agent.name",
        "agent.team",
        "today",
    ]
    assert all(str(label) for _name, label in PLACEHOLDERS)


# --- who manages which reply -------------------------------------------------------------------------------


@pytest.fixture
def teams():
    dept = DepartmentFactory()
    return TeamFactory(name="售后一组", department=dept), TeamFactory(name="售后二组", department=dept)


@pytest.fixture
def supervisor(teams):
    return UserFactory(username="lead", role="supervisor", teams=[teams[0]])


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.mark.django_db
def test_editors_manage_shared_and_any_team_replies(editor, teams):
    shared = services.save_reply(actor=editor, title="问候", body="{customer.name}您好", team_id=None)
    team_reply = services.save_reply(actor=editor, title="结束语", body="谢谢", team_id=teams[1].pk)
    assert shared.team is None and team_reply.team == teams[1]
    services.save_reply(
        actor=editor,
        reply_id=shared.pk,
        title="问候语",
        body="{customer.name}您好",
        team_id=None,
        is_active=False,
    )
    services.delete_reply(actor=editor, reply_id=team_reply.pk)
    assert list(StandardReply.objects.values_list("title", "is_active")) == [("问候语", False)]
    events = list(AuditEvent.objects.order_by("id").values_list("verb", "data__reply_id"))
    assert events == [
        ("reply.created", shared.pk),
        ("reply.created", team_reply.pk),
        ("reply.updated", shared.pk),
        ("reply.deleted", team_reply.pk),
    ]
    assert AuditEvent.objects.get(verb="reply.updated").data["fields"] == ["title", "is_active"]


@pytest.mark.django_db
def test_a_supervisor_may_edit_their_own_teams_reply_but_not_another(supervisor, editor, teams):
    own_team, other_team = teams
    # given a reply of the supervisor's team, one of another team and a shared one
    own = services.save_reply(actor=supervisor, title="我组话术", body="您好", team_id=own_team.pk)
    other = services.save_reply(actor=editor, title="他组话术", body="您好", team_id=other_team.pk)
    shared = services.save_reply(actor=editor, title="共享话术", body="您好", team_id=None)
    # the supervisor may change their own team's reply
    changed = services.save_reply(
        actor=supervisor, reply_id=own.pk, title="我组话术2", body="您好！", team_id=own_team.pk
    )
    assert changed.title == "我组话术2"
    # but not another team's, nor a shared one, nor move theirs to another team or make it shared
    for reply in (other, shared):
        with pytest.raises(PermissionDenied):
            services.save_reply(
                actor=supervisor, reply_id=reply.pk, title="改", body="改", team_id=own_team.pk
            )
        with pytest.raises(PermissionDenied):
            services.delete_reply(actor=supervisor, reply_id=reply.pk)
    for team_id in (other_team.pk, None):
        with pytest.raises(PermissionDenied):
            services.save_reply(actor=supervisor, reply_id=own.pk, title="改", body="改", team_id=team_id)
        with pytest.raises(PermissionDenied):
            services.save_reply(actor=supervisor, title="新", body="新", team_id=team_id)
    assert StandardReply.objects.get(pk=other.pk).title == "他组话术"
    services.delete_reply(actor=supervisor, reply_id=own.pk)
    assert not StandardReply.objects.filter(pk=own.pk).exists()


@pytest.mark.django_db
def test_agents_may_not_manage_replies(teams):
    agent = UserFactory(role="agent", teams=[teams[0]])
    with pytest.raises(PermissionDenied):
        services.save_reply(actor=agent, title="t", body="b", team_id=teams[0].pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": " "}, "body"),
        ({"body": "字" * 5001}, "body"),
        ({"team_id": 999999}, "team_id"),
        ({"category_id": 999999}, "category_id"),
        ({"is_active": "yes"}, "is_active"),
    ],
)
def test_bad_reply_input_names_the_field(editor, overrides, field):
    fields = {
        "title": "问候",
        "body": "您好",
        "team_id": None,
        "category_id": None,
        "is_active": True,
        **overrides,
    }
    with pytest.raises(ValidationFailed) as exc:
        services.save_reply(actor=editor, **fields)
    assert exc.value.field == field
    assert not StandardReply.objects.exists()


@pytest.mark.django_db
def test_agents_use_shared_replies_and_their_teams_ones(teams, editor):
    own_team, other_team = teams
    agent = UserFactory(role="agent", teams=[own_team])
    shared = ReplyFactory(title="共享")
    own = ReplyFactory(title="本组", team=own_team)
    ReplyFactory(title="他组", team=other_team)
    ReplyFactory(title="停用", is_active=False)
    assert set(selectors.list_replies_for(actor=agent)) == {own, shared}
    assert list(selectors.list_replies(actor=agent, q="组")) == [own]
    with pytest.raises(NotFound):
        selectors.get_reply(actor=agent, reply_id=StandardReply.objects.get(title="他组").pk)
    # editors see every reply in the management list
    assert selectors.list_replies(actor=editor).count() == 4
