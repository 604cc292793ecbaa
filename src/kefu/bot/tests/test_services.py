"""The answer bot: answers from public articles when sure enough, hands the rest to a person with a
ticket (created once per session, then continued), audited; feedback; settings."""

from __future__ import annotations

import pytest

from kefu.accounts.services import get_system_user
from kefu.audit.models import AuditEvent
from kefu.bot import services
from kefu.bot.models import BotSession, BotSettings, BotTurn, Outcome
from kefu.core.errors import NotFound, PermissionDenied, RateLimited, ValidationFailed
from kefu.customers.models import Identity
from kefu.knowledge.models import ArticleVote
from kefu.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

UNKNOWN = "你们的会员积分可以兑换什么礼品"
UNKNOWN_2 = "积分什么时候过期呀"


def set_threshold(value, margin=0.1, team=None):
    s = BotSettings.load()
    s.threshold, s.low_confidence_margin, s.handoff_team = value, margin, team
    s.save()


def test_a_differently_worded_question_is_answered_from_the_closest_variant(handbook):
    # given an article whose variants say "制氧机晚上太吵睡不着"
    # when a customer asks it in other words
    reply = services.ask(question="晚上制氧机太吵了，睡不着怎么办？")

    # then the bot answers with that article's text, and says how sure it is
    assert reply.type == "answer"
    assert reply.article_id == handbook["noise"].pk
    assert reply.title == "制氧机运行噪音大怎么办"
    assert "45 分贝" in reply.text
    assert reply.confidence >= BotSettings.load().threshold
    turn = BotTurn.objects.get(pk=reply.turn_id)
    assert turn.outcome in (Outcome.ANSWERED, Outcome.LOW_CONFIDENCE)
    assert turn.article_id == handbook["noise"].pk and turn.session.key == reply.session
    event = AuditEvent.objects.get(verb="bot.answered")
    assert event.subject_id == turn.pk and event.data["article_id"] == handbook["noise"].pk


def test_an_unknown_question_is_handed_to_a_person_with_a_ticket_holding_the_conversation(handbook, team):
    # given a hand-off team and a conversation where the bot already answered once
    set_threshold(0.5, team=team)
    first = services.ask(question="什么时候发货")
    assert first.type == "answer"

    # when the customer asks something no article covers
    reply = services.ask(question=UNKNOWN, session_key=first.session)

    # then a ticket is created for a person: an inquiry from the chat, in the hand-off team's queue,
    # with the whole conversation in its description
    assert reply.type == "handoff" and reply.session == first.session
    ticket = Ticket.objects.get(number=reply.ticket_number)
    assert ticket.type == "inquiry" and ticket.channel == "chat" and ticket.team_id == team.pk
    assert ticket.created_by == get_system_user()
    assert UNKNOWN in ticket.subject
    assert "什么时候发货" in ticket.description and "发货时间与物流查询" in ticket.description
    assert UNKNOWN in ticket.description
    assert reply.ticket_number in reply.message
    # the customer is known by the session (no phone or email given)
    assert Identity.objects.filter(
        customer=ticket.customer, kind="member_id", value=f"bot:{reply.session}"
    ).exists()
    session = BotSession.objects.get(key=reply.session)
    assert session.ticket_id == ticket.pk
    turn = BotTurn.objects.get(pk=reply.turn_id)
    assert turn.outcome == Outcome.HANDED_OFF and turn.resolved_at is None
    event = AuditEvent.objects.get(verb="bot.handed_off")
    assert event.ticket_id == ticket.pk and event.data["number"] == ticket.number


def test_a_second_unknown_question_in_the_session_continues_the_same_ticket(handbook):
    # given a session already handed off
    first = services.ask(question=UNKNOWN)
    ticket = Ticket.objects.get(number=first.ticket_number)

    # when the customer asks something the bot answers, then another unknown question
    services.ask(question="怎么退款", session_key=first.session)
    second = services.ask(question=UNKNOWN_2, session_key=first.session)

    # then no second ticket: the question is a customer message on the first one, after a note
    # telling the agent what the bot answered in between
    assert second.type == "handoff" and second.ticket_number == first.ticket_number
    assert Ticket.objects.count() == 1
    messages = list(Message.objects.filter(ticket=ticket).order_by("id").values_list("kind", "body"))
    assert messages[-1] == ("customer", UNKNOWN_2)
    assert messages[-2][0] == "note" and "怎么退款" in messages[-2][1] and "如何申请退款" in messages[-2][1]


def test_a_new_session_gets_its_own_ticket_and_a_known_phone_finds_the_customer(handbook):
    # given an unknown session key (expired, or made up): the bot starts a session of its own
    reply = services.ask(question=UNKNOWN, session_key="made-up", phone="138 0013 8000")
    assert reply.session != "made-up"
    # then the ticket is the phone's customer's
    ticket = Ticket.objects.get(number=reply.ticket_number)
    assert Identity.objects.get(kind="phone", value="+8613800138000").customer_id == ticket.customer_id
    other = services.ask(question=UNKNOWN)
    assert other.ticket_number != reply.ticket_number


def test_the_threshold_decides_between_answering_and_handing_off(handbook):
    # given a question the bot can answer
    set_threshold(0.0)
    answered = services.ask(question="退款多久到账")
    assert answered.type == "answer"
    c = answered.confidence

    # when the threshold is raised above its confidence, the same question goes to a person
    set_threshold(min(1.0, c + 0.01))
    assert services.ask(question="退款多久到账").type == "handoff"

    # and just at its confidence, answered again — within the low-confidence band it is logged for tuning
    set_threshold(c, margin=0.05)
    again = services.ask(question="退款多久到账")
    assert again.type == "answer"
    assert BotTurn.objects.get(pk=again.turn_id).outcome == Outcome.LOW_CONFIDENCE
    set_threshold(max(0.0, c - 0.06), margin=0.05)
    sure = services.ask(question="退款多久到账")
    assert BotTurn.objects.get(pk=sure.turn_id).outcome == Outcome.ANSWERED


def test_internal_articles_are_never_answered(handbook):
    # "退款审批" is a variant of an internal article only
    set_threshold(0.0)
    reply = services.ask(question="退款审批")
    assert reply.type == "handoff" or reply.article_id != handbook["internal"].pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "问" * 501}, "question"),
        ({"question": "a\x00b"}, "question"),
        ({"question": "发货", "channel": "fax"}, "channel"),
        ({"question": "发货", "session_key": "x" * 65}, "session"),
        ({"question": "发货", "phone": "12345"}, "phone"),
        ({"question": "发货", "email": "not-an-address"}, "email"),
    ],
)
def test_bad_input_names_the_field(handbook, kwargs, field):
    with pytest.raises(ValidationFailed) as exc:
        services.ask(**kwargs)
    assert exc.value.field == field
    assert not BotTurn.objects.exists()


def test_questions_are_rate_limited_per_ip(handbook, settings):
    settings.KEFU_BOT_LIMIT_PER_IP_MINUTE = 2
    services.ask(question="什么时候发货", ip="10.0.0.1")
    services.ask(question="什么时候发货", ip="10.0.0.1")
    with pytest.raises(RateLimited):
        services.ask(question="什么时候发货", ip="10.0.0.1")
    services.ask(question="什么时候发货", ip="10.0.0.2")  # another caller is not affected


def test_feedback_is_a_bot_vote_once_per_session_and_only_for_answers_given(handbook):
    reply = services.ask(question="什么时候发货")
    vote, created = services.record_feedback(
        session_key=reply.session, article_id=reply.article_id, helpful=True
    )
    assert created and vote.source == "bot" and vote.helpful
    _vote, created = services.record_feedback(
        session_key=reply.session, article_id=reply.article_id, helpful=False
    )
    assert not created and ArticleVote.objects.count() == 1
    with pytest.raises(NotFound):
        services.record_feedback(session_key=reply.session, article_id=handbook["refund"].pk, helpful=True)


def test_settings_are_changed_by_tuners_only_and_audited(editor, agent, team):
    with pytest.raises(PermissionDenied):
        services.update_bot_settings(
            actor=agent, threshold=0.7, low_confidence_margin=0.1, handoff_team_id=None
        )
    with pytest.raises(ValidationFailed) as exc:
        services.update_bot_settings(
            actor=editor, threshold=1.5, low_confidence_margin=0.1, handoff_team_id=None
        )
    assert exc.value.field == "threshold"
    with pytest.raises(ValidationFailed) as exc:
        services.update_bot_settings(
            actor=editor, threshold=0.6, low_confidence_margin=0.1, handoff_team_id=99999
        )
    assert exc.value.field == "handoff_team_id"
    s = services.update_bot_settings(
        actor=editor, threshold=0.7, low_confidence_margin=0.1, handoff_team_id=team.pk
    )
    assert (s.threshold, s.low_confidence_margin, s.handoff_team_id) == (0.7, 0.1, team.pk)
    event = AuditEvent.objects.get(verb="bot.settings_changed")
    assert event.data["changes"]["threshold"] == {"from": 0.5, "to": 0.7}
