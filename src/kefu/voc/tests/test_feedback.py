"""Feedback items: people's labels (service, audit), scoping, filters, export, API and pages."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from openpyxl import load_workbook

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.customers.tests.factories import ShopFactory
from kefu.tickets.tests.factories import TicketFactory
from kefu.voc.models import FeedbackItem
from kefu.voc.selectors.feedback import FeedbackFilter, get_feedback, list_feedback
from kefu.voc.services.feedback import accept_suggestion, label_feedback
from kefu.voc.services.taxonomy import create_node, update_node

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admin():
    return UserFactory(username="fb-admin", role="admin")


@pytest.fixture
def team():
    return TeamFactory(name="电商客服")


@pytest.fixture
def agent(team):
    return UserFactory(username="fb-agent", role="agent", teams=[team])


@pytest.fixture
def nodes(admin):
    product = create_node(actor=admin, kind="cause", name="产品", name_en="Product")
    noise = create_node(actor=admin, kind="cause", parent_id=product.pk, name="性能/噪音", name_en="Noise")
    logistics = create_node(actor=admin, kind="cause", name="物流")
    use = create_node(actor=admin, kind="touchpoint", name="使用维护")
    return {"product": product, "noise": noise, "logistics": logistics, "use": use}


def make_item(key, text="制氧机噪音太大", at=None, **fields):
    at = at or datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
    return FeedbackItem.objects.create(
        source=fields.pop("source", "review"),
        source_key=key,
        text=text,
        occurred_at=at,
        created_at=at,
        updated_at=at,
        **fields,
    )


@pytest.fixture
def items(nodes, team):
    """Four items: one of a ticket of the agent's team, one of another team's ticket, two without a ticket."""
    own_ticket = TicketFactory(team=team)
    other_ticket = TicketFactory(team=TeamFactory(name="售后"))
    return {
        "own": make_item(
            "ticket:1:created",
            source="ticket_created",
            ticket=own_ticket,
            cause=nodes["noise"],
            cause_source="model",
            cause_confidence=0.7,
            polarity="negative",
            sentiment=-0.8,
            sentiment_source="model",
        ),
        "other": make_item(
            "ticket:2:created", text="客服态度差", source="ticket_created", ticket=other_ticket
        ),
        "late": make_item(
            "review:1",
            text="快递三天还没到",
            cause=nodes["logistics"],
            cause_source="rule",
            polarity="negative",
            at=datetime(2026, 11, 23, 0, 30, tzinfo=SHANGHAI),
        ),
        "old": make_item(
            "review:2",
            text="很好用",
            cause=nodes["product"],
            cause_source="person",
            polarity="positive",
            at=datetime(2026, 11, 15, 23, 30, tzinfo=SHANGHAI),
        ),
    }


# --- labelling -----------------------------------------------------------------------------------


def test_person_label_is_training_data_and_audited(agent, nodes, items):
    item = items["own"]
    # when an agent sets the cause and the polarity
    label_feedback(actor=agent, item_id=item.pk, cause_id=nodes["logistics"].pk, polarity="neutral")
    # then the labels are a person's, sure, and by the agent
    item.refresh_from_db()
    assert (item.cause_id, item.cause_source, item.cause_confidence, item.cause_by) == (
        nodes["logistics"].pk,
        "person",
        1.0,
        agent,
    )
    assert (item.polarity, item.sentiment, item.sentiment_source) == ("neutral", 0.0, "person")
    # and one audit event says which kinds changed, from what to what
    event = AuditEvent.objects.get(verb="voc.feedback_labelled", subject_id=item.pk)
    assert event.data["kinds"] == ["cause", "sentiment"]
    assert event.data["from"]["cause"] == {"node_id": nodes["noise"].pk, "source": "model"}
    assert event.data["to"]["cause"] == {"node_id": nodes["logistics"].pk, "source": "person"}
    assert event.ticket_id == item.ticket_id and event.actor_id == agent.pk


def test_sentiment_score_sets_polarity(agent, items):
    label_feedback(actor=agent, item_id=items["other"].pk, sentiment=-0.9)
    items["other"].refresh_from_db()
    assert (items["other"].sentiment, items["other"].polarity) == (-0.9, "negative")
    with pytest.raises(ValidationFailed) as exc:
        label_feedback(actor=agent, item_id=items["other"].pk, sentiment=3)
    assert exc.value.field == "sentiment"
    with pytest.raises(ValidationFailed) as exc:
        label_feedback(actor=agent, item_id=items["other"].pk, polarity="angry")
    assert exc.value.field == "polarity"


def test_wrong_kind_or_inactive_node_is_refused(admin, agent, nodes, items):
    with pytest.raises(ValidationFailed) as exc:
        label_feedback(actor=agent, item_id=items["own"].pk, cause_id=nodes["use"].pk)
    assert exc.value.field == "cause"
    update_node(actor=admin, node_id=nodes["logistics"].pk, is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        label_feedback(
            actor=agent,
            item_id=items["own"].pk,
            touchpoint_id=nodes["use"].pk,
            cause_id=nodes["logistics"].pk,
        )
    assert exc.value.field == "cause"
    items["own"].refresh_from_db()
    assert items["own"].touchpoint_id is None  # nothing half-written


def test_roles_without_voc_label_may_not_label(items):
    executive = UserFactory(role="executive")
    with pytest.raises(PermissionDenied):
        label_feedback(actor=executive, item_id=items["own"].pk, polarity="negative")


def test_confirming_a_suggestion_makes_it_a_persons(agent, nodes, items):
    accept_suggestion(actor=agent, item_id=items["own"].pk, kind="cause")
    items["own"].refresh_from_db()
    assert (items["own"].cause_id, items["own"].cause_source, items["own"].cause_by) == (
        nodes["noise"].pk,
        "person",
        agent,
    )
    event = AuditEvent.objects.get(verb="voc.feedback_labelled", subject_id=items["own"].pk)
    assert event.data["kinds"] == ["cause"] and event.data["suggested_by"] == "model"
    # a person's label (or none) is nothing to confirm
    with pytest.raises(Conflict):
        accept_suggestion(actor=agent, item_id=items["own"].pk, kind="cause")
    with pytest.raises(Conflict):
        accept_suggestion(actor=agent, item_id=items["other"].pk, kind="touchpoint")


# --- scoping and filters -------------------------------------------------------------------------


def _keys(actor, **params):
    found, _cursor = list_feedback(actor, FeedbackFilter.from_params(params), limit=200)
    return {i.source_key for i in found}


def test_agents_see_items_without_a_ticket_and_of_tickets_they_may_see(agent, items):
    assert _keys(agent) == {"ticket:1:created", "review:1", "review:2"}
    assert _keys(UserFactory(role="supervisor")) == {i.source_key for i in items.values()}
    with pytest.raises(Exception) as exc:
        get_feedback(agent, items["other"].pk)
    assert getattr(exc.value, "status", None) == 404


def test_filters(admin, nodes, items):
    # a cause includes the nodes below it
    assert _keys(admin, cause=str(nodes["product"].pk)) == {"ticket:1:created", "review:2"}
    assert _keys(admin, polarity="negative") == {"ticket:1:created", "review:1"}
    # week: Monday 2026-11-16 00:00 to Monday 2026-11-23 00:00, Shanghai time
    assert _keys(admin, week="2026-11-16") == {"ticket:1:created", "ticket:2:created"}
    assert _keys(admin, since="2026-11-16", until="2026-11-22") == {"ticket:1:created", "ticket:2:created"}
    assert _keys(admin, q="快递") == {"review:1"}
    assert _keys(admin, labelled="person") == {"review:2"}
    assert _keys(admin, labelled="machine") == {"ticket:1:created", "review:1"}
    assert _keys(admin, labelled="none") == {"ticket:2:created"}
    assert _keys(admin, source="ticket_created") == {"ticket:1:created", "ticket:2:created"}
    for params, field in (
        ({"week": "2026-11-18"}, "week"),
        ({"cause": "x"}, "cause"),
        ({"since": "soon"}, "since"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            FeedbackFilter.from_params(params)
        assert exc.value.field == field


def test_keyset_paging(admin, items):
    first, cursor = list_feedback(admin, FeedbackFilter(), limit=3)
    rest, end = list_feedback(admin, FeedbackFilter(), cursor=cursor, limit=3)
    assert [i.source_key for i in first + rest] == [
        "review:1",
        "ticket:2:created",
        "ticket:1:created",
        "review:2",
    ]
    assert end is None


# --- API -----------------------------------------------------------------------------------------


def test_api_list_detail_and_labels(api, agent, nodes, items):
    response = api(agent).get("voc/feedback", cause=nodes["product"].pk)
    assert response.status_code == 200
    body = response.json()
    assert [i["source_key"] for i in body["items"]] == ["ticket:1:created", "review:2"]
    assert body["items"][0]["cause"]["path"] == "产品 › 性能/噪音"
    assert body["items"][0]["cause"]["source"] == "model"
    assert api(agent).get("voc/feedback", week="2026-11-17").json()["field"] == "week"
    # detail: 404 for an item of a ticket the agent may not see
    assert api(agent).get(f"voc/feedback/{items['own'].pk}").status_code == 200
    assert api(agent).get(f"voc/feedback/{items['other'].pk}").status_code == 404
    # labels
    url = f"voc/feedback/{items['late'].pk}/labels"
    response = api(agent).post(url, {"cause": nodes["noise"].pk, "polarity": "negative"})
    assert response.status_code == 200
    assert response.json()["cause"]["source"] == "person" and response.json()["cause"]["by"]
    response = api(agent).post(url, {"cause": nodes["use"].pk})
    assert response.status_code == 422 and response.json()["field"] == "cause"
    assert api(UserFactory(role="executive")).post(url, {"polarity": "neutral"}).status_code == 403
    assert (
        api(agent).post(f"voc/feedback/{items['other'].pk}/labels", {"polarity": "neutral"}).status_code
        == 404
    )
    response = api(agent).post(f"voc/feedback/{items['own'].pk}/labels", {"confirm": "cause"})
    assert response.status_code == 200 and response.json()["cause"]["source"] == "person"


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def web():
    def login(user):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


def test_list_page_filters_and_shows_labels(web, agent, nodes, items):
    shop = ShopFactory()
    make_item("review:3", text="噪音" * 80, shop=shop, cause=nodes["noise"], cause_source="person")
    page = web(agent).get(f"/voc/feedback/?cause={nodes['product'].pk}&shop={shop.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="feedback-row"') == 1
    assert "Product › Noise" in html and 'data-source="person"' in html  # English names in English
    assert "噪音" * 80 not in html  # text truncated
    page = web(agent).get("/voc/feedback/?polarity=negative")
    assert 'data-polarity="negative"' in page.content.decode()
    assert web(agent).get("/voc/feedback/?week=2026-11-17").status_code == 422


def test_export_xlsx_and_csv(web, admin, items):
    response = web(admin).get("/voc/feedback/?format=csv&polarity=negative")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Time" and len(rows) == 3
    assert {r[5] for r in rows[1:]} == {"制氧机噪音太大", "快递三天还没到"}
    response = web(admin).get("/voc/feedback/?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 5


def test_detail_page_and_htmx_labelling(web, agent, nodes, items):
    client = web(agent)
    page = client.get(f"/voc/feedback/{items['own'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "制氧机噪音太大" in html and 'data-testid="confirm-cause"' in html
    assert client.get(f"/voc/feedback/{items['other'].pk}/").status_code == 404
    # relabel through htmx: the labels panel comes back, the unchanged touchpoint stays unlabelled
    response = client.post(
        f"/voc/feedback/{items['own'].pk}/labels/",
        {"cause": nodes["logistics"].pk, "touchpoint": "", "polarity": "negative"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'id="kf-feedback-labels"' in response.content.decode()
    items["own"].refresh_from_db()
    assert (items["own"].cause_id, items["own"].cause_source) == (nodes["logistics"].pk, "person")
    assert items["own"].touchpoint_source == "" and items["own"].sentiment_source == "model"
    # a wrong-kind node: a toast and a 422
    response = client.post(
        f"/voc/feedback/{items['own'].pk}/labels/", {"cause": nodes["use"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "kf-toast" in response["HX-Trigger"]
    # roles without voc.label get the 403 page
    executive = web(UserFactory(role="executive"))
    assert executive.post(f"/voc/feedback/{items['own'].pk}/labels/", {"confirm": "cause"}).status_code == 403


def test_list_page_query_count_does_not_grow_with_rows(
    web, admin, nodes, items, django_assert_max_num_queries
):
    # given fifty more items with products, shops and labels
    shop = ShopFactory()
    for n in range(50):
        make_item(f"review:x{n}", shop=shop, cause=nodes["noise"], cause_source="model", polarity="negative")
    client = web(admin)
    # when the first page is shown, then a bounded number of queries is used
    with django_assert_max_num_queries(20):
        page = client.get("/voc/feedback/")
    assert page.content.decode().count('data-testid="feedback-row"') == 50
    assert 'data-testid="next-page"' in page.content.decode()
    # and the "older" link shows the rest
    older = client.get("/voc/feedback/" + page.context["next_url"])
    assert older.status_code == 200
    assert older.content.decode().count('data-testid="feedback-row"') == 4
