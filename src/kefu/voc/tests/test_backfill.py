"""`kefu voc_backfill`: feedback items for tickets that existed before (or missed their events)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kefu.accounts.tests.factories import UserFactory
from kefu.tickets.services import create_ticket, transition_ticket
from kefu.voc.models import FeedbackItem

pytestmark = pytest.mark.django_db


def _ticket(agent, subject: str):
    # created inside the test's transaction, so no after-commit handler made an item
    t, _ = create_ticket(
        actor=agent,
        subject=subject,
        description="晚上吵得睡不着，客服也不回复",
        channel="phone",
        customer_identities={"phone": "13900002222"},
        assignee_id=agent.pk,
    )
    return t


def test_backfill_makes_the_missing_items_once():
    # given two tickets without feedback items, one of them solved
    agent = UserFactory(username="bf-agent", role="agent")
    open_one = _ticket(agent, "制氧机噪音太大")
    solved = _ticket(agent, "快递太慢")
    transition_ticket(actor=agent, ticket_id=solved.pk, to="solved")
    assert not FeedbackItem.objects.exists()

    # when the backfill runs
    out = StringIO()
    call_command("voc_backfill", stdout=out)

    # then each ticket has its "opened" item, the solved one its "solved" item too, labelled
    keys = set(FeedbackItem.objects.values_list("source_key", flat=True))
    assert keys == {
        f"ticket:{open_one.pk}:created",
        f"ticket:{solved.pk}:created",
        f"ticket:{solved.pk}:solved",
    }
    assert "3 feedback items" in out.getvalue()
    assert FeedbackItem.objects.get(source_key=f"ticket:{open_one.pk}:created").polarity == "negative"

    # when it runs again, nothing is added
    call_command("voc_backfill", stdout=StringIO())
    assert FeedbackItem.objects.count() == 3
