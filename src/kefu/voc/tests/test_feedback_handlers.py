"""Tickets and bot conversations become feedback items (after commit, idempotently)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.bot import services as bot_services
from kefu.core import events
from kefu.customers.tests.factories import ProductFactory, ShopFactory
from kefu.tickets.services import add_message, create_ticket, transition_ticket
from kefu.voc import handlers
from kefu.voc.models import FeedbackItem, Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="fb-agent", role="agent")


@pytest.fixture
def ticket(agent, django_capture_on_commit_callbacks):
    """A ticket opened about an oxygen concentrator in a Tmall shop, with the customer's first message."""
    product, shop = ProductFactory(), ShopFactory()
    with django_capture_on_commit_callbacks(execute=True):
        t, _ = create_ticket(
            actor=agent,
            subject="制氧机噪音太大",
            description="晚上吵得睡不着",
            channel="email",
            customer_identities={"phone": "13900001111"},
            product_id=product.pk,
            shop_id=shop.pk,
            assignee_id=agent.pk,
        )
    return t


def test_ticket_created_makes_one_item(ticket):
    # given a ticket created through the service (handlers ran after commit)
    item = FeedbackItem.objects.get(source_key=f"ticket:{ticket.pk}:created")
    # then the item carries the ticket's text, time and context
    assert item.source == "ticket_created"
    assert item.text == "制氧机噪音太大\n晚上吵得睡不着"
    assert item.occurred_at == ticket.created_at
    assert (item.ticket_id, item.customer_id, item.product_id, item.shop_id, item.channel) == (
        ticket.pk,
        ticket.customer_id,
        ticket.product_id,
        ticket.shop_id,
        "email",
    )


def test_the_same_event_twice_makes_one_item(ticket):
    # when ticket.created is delivered again
    event = AuditEvent.objects.get(verb="ticket.created", ticket_id=ticket.pk)
    again = events.Event(verb=event.verb, data=event.data, ticket_id=ticket.pk, event_id=event.pk)
    handlers.on_ticket_created(again)
    handlers.on_ticket_created(again)
    # then there is still one item
    assert FeedbackItem.objects.filter(ticket=ticket, source="ticket_created").count() == 1


def test_solved_ticket_makes_an_item_of_the_customers_messages(
    agent, ticket, django_capture_on_commit_callbacks
):
    # given customer messages, a reply and a note
    with django_capture_on_commit_callbacks(execute=True):
        add_message(actor=agent, ticket_id=ticket.pk, kind="customer", body="机器嗡嗡响")
        add_message(actor=agent, ticket_id=ticket.pk, kind="reply", body="请清洗过滤棉")
        add_message(actor=agent, ticket_id=ticket.pk, kind="note", body="内部：已登记")
        add_message(actor=agent, ticket_id=ticket.pk, kind="customer", body="还是很吵")
    assert not FeedbackItem.objects.filter(source="ticket_solved").exists()
    # when the ticket is solved
    with django_capture_on_commit_callbacks(execute=True):
        transition_ticket(actor=agent, ticket_id=ticket.pk, to="solved")
    # then one item holds only what the customer wrote
    item = FeedbackItem.objects.get(source_key=f"ticket:{ticket.pk}:solved")
    assert item.source == "ticket_solved"
    assert item.text == "机器嗡嗡响\n还是很吵"
    assert item.product_id == ticket.product_id


def test_ticket_opened_for_a_review_makes_no_ticket_item(agent, django_capture_on_commit_callbacks):
    # given a review whose ticket is being opened in the same transaction
    shop = ShopFactory()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        t, _ = create_ticket(
            actor=agent, subject="差评：噪音大", customer_identities={"phone": "13900002222"}, shop_id=shop.pk
        )
        Review.objects.create(
            shop=shop,
            platform="jd",
            dedup_key="r1",
            level="bad",
            content="噪音大",
            reviewed_at=now,
            ticket=t,
            created_at=now,
            updated_at=now,
        )
    # then the review is the feedback; the ticket adds none
    assert not FeedbackItem.objects.filter(ticket=t).exists()


def test_handler_failure_is_logged_not_raised(agent, ticket, monkeypatch, caplog):
    # given recording fails
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("kefu.voc.services.feedback.record_feedback", broken)
    event = events.Event(
        verb="ticket.status_changed", data={"from": "new", "to": "solved"}, ticket_id=ticket.pk
    )
    # when the handler runs, then nothing is raised and the failure is logged
    handlers.on_ticket_status_changed(event)
    assert "voice of customer" in caplog.text


def test_bot_session_is_one_item_updated_on_later_turns(django_capture_on_commit_callbacks):
    # given a bot session (no articles: the bot hands the questions to a person)
    with django_capture_on_commit_callbacks(execute=True):
        first = bot_services.ask(question="制氧机声音很大怎么办", channel="web")
    item = FeedbackItem.objects.get(source="bot")
    assert item.text == "制氧机声音很大怎么办"
    assert item.source_key == f"bot:{item.bot_session_id}"
    # when the customer asks again in the same session
    with django_capture_on_commit_callbacks(execute=True):
        bot_services.ask(question="快递三天还没到", session_key=first.session, channel="web")
    # then the same item holds both questions
    items = FeedbackItem.objects.filter(source="bot")
    assert items.count() == 1
    assert items.get().text == "制氧机声音很大怎么办\n快递三天还没到"
    assert items.get().ticket_id is not None  # the hand-off ticket
