"""The customers REST API under /api/v1/customers."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.services import create_api_token
from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer
from kefu.customers.services import find_or_create_customer, merge_customers
from kefu.customers.tests.factories import CustomerFactory, IdentityFactory
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role="agent")


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor")


@pytest.fixture
def zhang(agent):
    customer, _ = find_or_create_customer(
        actor=agent, name="张三丰", identities={"phone": "13800138000", "email": "zhang@example.com"}
    )
    return customer


@pytest.fixture
def li(agent):
    customer, _ = find_or_create_customer(
        actor=agent, name="李四", identities={"phone": "13900139000", "email": "li@example.com"}
    )
    return customer


def ids(response):
    return [c["id"] for c in response.json()["items"]]


# --- search ---------------------------------------------------------------------------------------


def test_search_by_part_of_the_name(api, agent, zhang, li):
    response = api(agent).get("customers", q="三丰")
    assert response.status_code == 200
    assert ids(response) == [zhang.pk]
    [item] = response.json()["items"]
    assert item["name"] == "张三丰"
    assert {(i["kind"], i["value"]) for i in item["identities"]} == {
        ("phone", "+8613800138000"),
        ("email", "zhang@example.com"),
    }


@pytest.mark.parametrize(
    "q", ["138 0013 8000", "+86-13800138000", "0086 138-0013-8000", "１３８００１３８０００"]
)
def test_search_by_phone_in_another_format(api, agent, zhang, li, q):
    response = api(agent).get("customers", q=q)
    assert response.status_code == 200
    assert ids(response) == [zhang.pk]


@pytest.mark.parametrize("q", ["li@example.com", "  LI@Example.COM "])
def test_search_by_email_in_any_case(api, agent, zhang, li, q):
    response = api(agent).get("customers", q=q)
    assert response.status_code == 200
    assert ids(response) == [li.pk]


def test_search_without_q_lists_newest_first_and_leaves_out_merged_customers(
    api, agent, supervisor, zhang, li
):
    merged_away = CustomerFactory()
    merge_customers(actor=supervisor, source=merged_away, target=zhang)

    response = api(agent).get("customers")

    assert response.status_code == 200
    assert ids(response) == [li.pk, zhang.pk]


def test_search_pages_with_a_cursor(api, agent):
    customers = CustomerFactory.create_batch(3, name="王五")
    newest_first = sorted((c.pk for c in customers), reverse=True)
    client = api(agent)

    first = client.get("customers", q="王五", limit=2).json()
    second = client.get("customers", q="王五", limit=2, cursor=first["next_cursor"]).json()

    assert [c["id"] for c in first["items"]] == newest_first[:2]
    assert first["next_cursor"] == newest_first[1]
    assert [c["id"] for c in second["items"]] == newest_first[2:]
    assert second["next_cursor"] is None


def test_search_finds_nothing_for_an_unknown_phone(api, agent, zhang):
    response = api(agent).get("customers", q="139 0000 0000")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


# --- find or create -------------------------------------------------------------------------------


def test_post_creates_then_finds_the_same_person(api, agent):
    client = api(agent)

    # when a customer is posted
    created = client.post("customers", {"name": "赵六", "phone": "138 0013 8000"})

    # then 201 with normalized identities and an audit event from the API
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "赵六"
    assert body["identities"] == [{"kind": "phone", "value": "+8613800138000"}]
    assert body["merged_into_id"] is None
    event = AuditEvent.objects.get(verb="customer.created", customer_id=body["id"])
    assert event.actor_id == agent.pk
    assert event.source == "api"

    # when the same person is posted again with the phone in another form and a new email
    again = client.post("customers", {"phone": "+86-13800138000", "email": "Zhao@Example.com"})

    # then 200, the same customer, now with the email too
    assert again.status_code == 200, again.content
    assert again.json()["id"] == body["id"]
    assert {(i["kind"], i["value"]) for i in again.json()["identities"]} == {
        ("phone", "+8613800138000"),
        ("email", "zhao@example.com"),
    }
    assert Customer.objects.count() == 1


def test_post_with_a_bad_phone_is_422_naming_the_field(api, agent):
    response = api(agent).post("customers", {"name": "赵六", "phone": "12345"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["field"] == "phone"
    assert "12345" in body["message"]
    assert Customer.objects.count() == 0


def test_post_with_a_bad_email_is_422_naming_the_field(api, agent):
    response = api(agent).post("customers", {"email": "not-an-email"})
    assert response.status_code == 422
    assert response.json()["field"] == "email"


def test_post_without_any_identity_is_422(api, agent):
    response = api(agent).post("customers", {"name": "赵六"})
    assert response.status_code == 422
    assert response.json()["field"] == "customer"
    assert Customer.objects.count() == 0


def test_post_with_an_unknown_field_is_422_naming_it(api, agent):
    response = api(agent).post("customers", {"phone": "13800138000", "fax": "010 8888 6666"})
    assert response.status_code == 422
    assert response.json()["field"] == "fax"
    assert Customer.objects.count() == 0


def test_post_with_an_overlong_phone_is_422_not_500(api, agent):
    response = api(agent).post("customers", {"phone": "1" * 41})
    assert response.status_code == 422
    assert response.json()["field"] == "phone"


def test_post_by_a_role_that_may_not_create_customers_is_403(api):
    qa = UserFactory(role="qa")
    response = api(qa).post("customers", {"phone": "13800138000"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ('{"wechat_openid": "o\\u0000x"}', "wechat_openid"),
        ('{"phone": "13800138000", "name": "\\u5f20\\u0000"}', "name"),
    ],
)
def test_post_with_a_nul_character_is_422_naming_the_field(agent, payload, field):
    _, raw = create_api_token(actor=None, user=agent)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)

    response = client.post("/api/v1/customers", payload, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert Customer.objects.count() == 0


def test_search_with_a_nul_character_is_not_a_500(agent, zhang):
    _, raw = create_api_token(actor=None, user=agent)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)

    response = client.get("/api/v1/customers", {"q": "张\x00"})

    assert response.status_code in (200, 422)


# --- detail ---------------------------------------------------------------------------------------


def test_get_includes_identities_and_ticket_history_newest_first(api, zhang, li):
    # given two tickets of the customer and one of somebody else
    admin = UserFactory(role="admin")
    older = TicketFactory(customer=zhang, subject="空调不制冷")
    newer = TicketFactory(customer=zhang, subject="安装预约")
    TicketFactory(customer=li)

    response = api(admin).get(f"customers/{zhang.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == zhang.pk
    assert body["name"] == "张三丰"
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("phone", "+8613800138000"),
        ("email", "zhang@example.com"),
    }
    assert [(t["id"], t["subject"]) for t in body["tickets"]] == [
        (newer.pk, "安装预约"),
        (older.pk, "空调不制冷"),
    ]
    assert body["tickets"][0]["customer"] == {"id": zhang.pk, "name": "张三丰"}


def test_ticket_history_only_shows_tickets_the_agent_may_see(api, zhang):
    # given an agent in one team, and the customer's tickets in that team and in another
    team = TeamFactory()
    agent = UserFactory(role="agent", teams=[team])
    mine = TicketFactory(customer=zhang, team=team)
    TicketFactory(customer=zhang, team=TeamFactory())

    response = api(agent).get(f"customers/{zhang.pk}")

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["tickets"]] == [mine.pk]


def test_get_unknown_customer_is_404(api, agent):
    response = api(agent).get("customers/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- merge ----------------------------------------------------------------------------------------


def test_merge_returns_the_target_with_merged_identities_and_tickets(api, supervisor, zhang, li):
    ticket = TicketFactory(customer=li)

    response = api(supervisor).post(f"customers/{li.pk}/merge", {"target_id": zhang.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == zhang.pk
    assert body["merged_into_id"] is None
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("phone", "+8613800138000"),
        ("email", "zhang@example.com"),
        ("phone", "+8613900139000"),
        ("email", "li@example.com"),
    }
    li.refresh_from_db()
    ticket.refresh_from_db()
    assert li.merged_into_id == zhang.pk
    assert ticket.customer_id == zhang.pk
    event = AuditEvent.objects.get(verb="customer.merged")
    assert (event.actor_id, event.customer_id, event.source) == (supervisor.pk, zhang.pk, "api")

    # and the merged customer's old phone now finds the target
    found = api(supervisor).get("customers", q="139 0013 9000")
    assert ids(found) == [zhang.pk]


def test_merge_by_an_agent_is_403_and_changes_nothing(api, agent, zhang, li):
    response = api(agent).post(f"customers/{li.pk}/merge", {"target_id": zhang.pk})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    li.refresh_from_db()
    assert li.merged_into_id is None
    assert not AuditEvent.objects.filter(verb="customer.merged").exists()


def test_merge_of_an_unknown_customer_is_404(api, supervisor, zhang):
    response = api(supervisor).post("customers/999999/merge", {"target_id": zhang.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_merge_into_an_unknown_target_is_404(api, supervisor, zhang):
    response = api(supervisor).post(f"customers/{zhang.pk}/merge", {"target_id": 999999})
    assert response.status_code == 404
    zhang.refresh_from_db()
    assert zhang.merged_into_id is None


def test_merge_into_itself_is_422(api, supervisor, zhang):
    response = api(supervisor).post(f"customers/{zhang.pk}/merge", {"target_id": zhang.pk})
    assert response.status_code == 422
    assert response.json()["field"] == "target_id"


def test_merge_of_an_already_merged_customer_is_409(api, supervisor, zhang, li):
    other = CustomerFactory()
    IdentityFactory(customer=other)
    client = api(supervisor)
    assert client.post(f"customers/{li.pk}/merge", {"target_id": zhang.pk}).status_code == 200

    again = client.post(f"customers/{li.pk}/merge", {"target_id": other.pk})
    into_merged = client.post(f"customers/{other.pk}/merge", {"target_id": li.pk})

    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert into_merged.status_code == 409
    assert into_merged.json()["field"] == "target_id"


def test_merge_without_target_id_is_422(api, supervisor, zhang):
    response = api(supervisor).post(f"customers/{zhang.pk}/merge", {})
    assert response.status_code == 422
    assert response.json()["field"] == "target_id"


# --- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "customers"),
        ("get", "customers/1"),
        ("post", "customers"),
        ("post", "customers/1/merge"),
    ],
)
def test_without_a_token_every_endpoint_is_401_in_the_test_client(api, method, path):
    # the conftest client, like every Django test client, skips CSRF checks
    response = getattr(api(), method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "customers"),
        ("get", "customers/1"),
        pytest.param("post", "customers"),
        pytest.param("post", "customers/1/merge"),
    ],
)
def test_without_a_token_every_endpoint_is_401_for_a_real_client(method, path):
    # given a client that, like curl or a CRM, has no CSRF cookie and is not exempted from checks
    client = Client(enforce_csrf_checks=True)
    kwargs = {"data": "{}", "content_type": "application/json"} if method == "post" else {}

    response = getattr(client, method)(f"/api/v1/{path}", **kwargs)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Customer.objects.count() == 0


def test_with_a_wrong_token_it_is_401(api, zhang):
    client = Client(HTTP_AUTHORIZATION="Bearer kefu_not-a-real-token")
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get(f"/api/v1/customers/{zhang.pk}").status_code == 401


# --- query counts ---------------------------------------------------------------------------------


def _queries_for(client, path, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_search_query_count_does_not_grow_with_the_results(api, agent):
    client = api(agent)
    client.get("customers")  # the token's first use is stamped once; measure later requests
    IdentityFactory(customer=CustomerFactory(name="王五"))
    one = _queries_for(client, "customers", q="王五")
    for _ in range(10):
        IdentityFactory.create_batch(2, customer=CustomerFactory(name="王五"))
    many = _queries_for(client, "customers", q="王五")
    assert many == one


def test_detail_query_count_does_not_grow_with_the_ticket_history(api, zhang):
    admin = UserFactory(role="admin")
    client = api(admin)
    client.get("customers")  # the token's first use is stamped once; measure later requests
    TicketFactory(customer=zhang)
    one = _queries_for(client, f"customers/{zhang.pk}")
    TicketFactory.create_batch(10, customer=zhang)
    eleven = _queries_for(client, f"customers/{zhang.pk}")
    assert eleven == one
