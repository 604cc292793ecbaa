"""Log a call: find the caller by phone as the agent types, then create a phone ticket in one form."""

import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer, Identity
from kefu.customers.tests.factories import CustomerFactory, IdentityFactory, ProductFactory, ShopFactory
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
HX = {"HTTP_HX_REQUEST": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def team():
    return TeamFactory(name="热线组")


@pytest.fixture
def agent(team):
    return UserFactory(role="agent", teams=[team])


@pytest.fixture
def client(agent):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(agent)
    return c


@pytest.fixture
def caller(team):
    """A known customer with two tickets in the agent's team and one the agent may not see."""
    customer = CustomerFactory(name="张三", vip_tier="gold", tags=["老年用户"])
    IdentityFactory(customer=customer, kind="phone", value=PHONE)
    TicketFactory(customer=customer, team=team, subject="制氧机噪音大", status="solved")
    TicketFactory(customer=customer, team=team, subject="滤芯什么时候发货")
    TicketFactory(customer=customer, team=TeamFactory(), subject="别组的秘密工单")
    return customer


def lookup(client, phone, **params):
    return client.get("/calls/lookup/", {"phone": phone, **params}, **HX)


def state_of(response):
    return re.search(r'data-state="(\w+)"', response.content.decode()).group(1)


def form_data(**overrides):
    data = {
        "phone": "138 0013 8000",
        "subject": "制氧机不出氧",
        "description": "来电：开机后流量为零，已指导重启无效。",
        "type": "repair",
        "priority": "high",
        "product": "",
        "shop": "",
        "team": "",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


# --- the lookup as the agent types ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "138 0013 8000",
        "+86-13800138000",
        "0086 138-0013-8000",
        "＋８６ １３８００１３８０００",
        "13800138000",
    ],
)
def test_lookup_finds_a_known_customer_from_any_common_format(client, caller, typed):
    # given a customer known by +8613800138000; when the agent types the number in another format
    r = lookup(client, typed)
    # then the caller's card shows them, with their VIP tier and tags
    assert r.status_code == 200
    body = r.content.decode()
    assert state_of(r) == "known"
    assert "张三" in body and "VIP Gold" in body and "老年用户" in body
    assert f'href="/customers/{caller.pk}/"' in body


def test_lookup_lists_only_the_previous_tickets_the_agent_may_see_with_links(client, caller):
    # given the caller's tickets, one in a team the agent is not in
    visible = list(Ticket.objects.filter(customer=caller, team__name="热线组").order_by("id"))
    # when the agent looks the number up
    body = lookup(client, "138 0013 8000").content.decode()
    # then number, subject, status and date of the visible tickets show, each linking to its page
    for t in visible:
        assert t.number in body and t.subject in body
        assert re.search(rf'href="/tickets/{t.pk}/"', body)
    assert "Solved" in body and "New" in body
    assert all(localtime(t.created_at, SHANGHAI).strftime("%Y-%m-%d") in body for t in visible)
    # and the other team's ticket does not
    assert "别组的秘密工单" not in body


def test_lookup_of_an_unknown_number_offers_a_new_customer_with_a_name_field(client, caller):
    r = lookup(client, "139 1234 5678", customer_name="李四")
    body = r.content.decode()
    assert state_of(r) == "new"
    assert "New customer" in body
    # the name field is labelled and keeps what the agent typed before the number changed
    assert '<label class="form-label" for="id_customer_name">' in body
    assert 'name="customer_name"' in body and 'value="李四"' in body
    assert Customer.objects.count() == 1  # looking up writes nothing


@pytest.mark.parametrize("typed", ["138 0013", "12345", "abc", "+1 555"])
def test_lookup_of_an_invalid_number_says_so(client, typed):
    r = lookup(client, typed)
    assert r.status_code == 200
    assert state_of(r) == "invalid"
    assert "is not a valid phone number" in r.content.decode()


def test_a_typed_name_survives_while_the_number_is_incomplete(client):
    # given the agent typed a name for a new caller, then edits the number (briefly invalid)
    invalid = lookup(client, "139 1234", customer_name="李四").content.decode()
    # then the name rides along hidden, and comes back in the name field once the number is whole again
    assert '<input type="hidden" name="customer_name" value="李四">' in invalid
    assert 'value="李四"' in lookup(client, "139 1234 5678", customer_name="李四").content.decode()


def test_lookup_of_nothing_shows_the_hint(client):
    assert state_of(lookup(client, "  ")) == "empty"


def test_lookup_escapes_what_was_typed_and_customer_content(client, team):
    evil = CustomerFactory(name="<script>alert(1)</script>")
    IdentityFactory(customer=evil, kind="phone", value="+8613900000001")
    known = lookup(client, "139 0000 0001").content.decode()
    invalid = lookup(client, "<img src=x onerror=alert(1)>").content.decode()
    assert "<script>alert(1)</script>" not in known and "&lt;script&gt;" in known
    assert "<img src=x" not in invalid and "&lt;img" in invalid


def test_lookup_query_count_does_not_grow_with_the_ticket_history(client, caller, team):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert lookup(client, "138 0013 8000").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    TicketFactory.create_batch(8, customer=caller, team=team)
    assert count() == few
    assert few <= 6


def test_lookup_needs_a_signed_in_user_who_may_log_calls(caller):
    # a signed-out page (session expired) is sent to the sign-in page instead of swapping it in
    r = Client().get("/calls/lookup/", {"phone": PHONE}, **HX)
    assert r["HX-Redirect"].startswith("/login/")
    assert Client().get("/calls/lookup/", {"phone": PHONE}).status_code == 302
    # a role that may not log calls is refused with a toast
    qa = Client()
    qa.force_login(UserFactory(role="qa"))
    r = qa.get("/calls/lookup/", {"phone": PHONE}, **HX)
    assert r.status_code == 403 and "kf-toast" in r["HX-Trigger"]
    assert "张三" not in r.content.decode()


# --- the page ---------------------------------------------------------------------------------------


def test_call_page_has_the_live_phone_lookup_csrf_and_a_label_for_every_control(client, agent, team):
    ProductFactory(model_number="KY-8F", name="制氧机")
    ShopFactory(name="康悦天猫旗舰店")
    r = client.get("/calls/new/")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'hx-get="/calls/lookup/"' in body and 'hx-trigger="input changed delay:400ms"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert "KY-8F · 制氧机" in body and "康悦天猫旗舰店" in body
    # the agent's team is preselected
    assert re.search(rf'<option value="{team.pk}" selected>', body)
    # every visible control has a label (the language switcher's too)
    ids = set(re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', body))
    labels = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', body))
    assert ids and ids <= labels, ids - labels
    # no inline scripts, styles or hx-on (CSP)
    assert "<script>" not in body and "style=" not in body and "hx-on" not in body


def test_call_page_prefilled_with_a_phone_shows_the_caller_at_once(client, caller):
    r = client.get("/calls/new/", {"phone": PHONE})
    body = r.content.decode()
    assert state_of(r) == "known" and "张三" in body and 'value="+8613800138000"' in body


def test_call_page_is_in_the_navigation_and_refuses_roles_that_may_not_create_tickets(client):
    assert 'href="/calls/new/"' in client.get("/calls/new/").content.decode()
    qa = Client(HTTP_ACCEPT_LANGUAGE="en")
    qa.force_login(UserFactory(role="qa"))
    r = qa.get("/calls/new/")
    assert r.status_code == 403 and "may not log calls" in r.content.decode()
    assert qa.post("/calls/new/", form_data()).status_code == 403
    assert Ticket.objects.count() == 0


# --- creating the ticket ----------------------------------------------------------------------------


def test_posting_the_form_creates_a_phone_ticket_for_the_existing_customer_and_redirects(
    client, agent, team, caller
):
    # given a known caller, a product and a shop
    product = ProductFactory(model_number="KY-8F")
    shop = ShopFactory()
    customers, identities = Customer.objects.count(), Identity.objects.count()
    # when the agent submits the call typed with spaces
    r = client.post("/calls/new/", form_data(product="KY-8F", shop=str(shop.pk)))
    # then a phone ticket exists for that customer, in the agent's team, and the page goes to it
    ticket = Ticket.objects.latest("id")
    assert r.status_code == 302 and r["Location"] == f"/tickets/{ticket.pk}/"
    assert (ticket.channel, ticket.customer_id, ticket.team_id) == ("phone", caller.pk, team.pk)
    assert (ticket.type, ticket.priority, ticket.product_id, ticket.shop_id) == (
        "repair",
        "high",
        product.pk,
        shop.pk,
    )
    assert ticket.subject == "制氧机不出氧" and ticket.created_by_id == agent.pk
    # and no duplicate customer or identity was made
    assert (Customer.objects.count(), Identity.objects.count()) == (customers, identities)
    # and the creation is audited
    event = AuditEvent.objects.get(verb="ticket.created", ticket_id=ticket.pk)
    assert event.data["channel"] == "phone" and event.customer_id == caller.pk


def test_a_new_callers_customer_is_created_with_name_and_normalized_phone(client):
    r = client.post("/calls/new/", form_data(phone="+86-139 1234 5678", customer_name="李四"))
    assert r.status_code == 302
    customer = Ticket.objects.get().customer
    assert customer.name == "李四"
    assert list(customer.identities.values_list("kind", "value")) == [("phone", "+8613912345678")]


def test_submitting_twice_creates_one_ticket(client, caller):
    data = form_data()
    first, second = client.post("/calls/new/", data), client.post("/calls/new/", data)
    assert Ticket.objects.count() == 4  # the caller's three plus one
    assert first["Location"] == second["Location"]


def test_a_ticket_routed_to_another_team_returns_to_a_fresh_call_page(client, caller):
    other = TeamFactory(name="维修组")
    r = client.post("/calls/new/", form_data(team=str(other.pk)), follow=True)
    assert r.redirect_chain[-1][0] == "/calls/new/"
    ticket = Ticket.objects.latest("id")
    assert ticket.team_id == other.pk
    assert f"Ticket {ticket.number} created" in r.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"phone": "138 0013"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"type": "gossip"}, "type"),
        ({"priority": "whenever"}, "priority"),
        ({"product": "NO-SUCH-MODEL"}, "product"),
        ({"team": "999999"}, "team"),
        ({"description": "bell\x07 in the notes"}, "description"),  # refused by the service
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(client, caller, overrides, field):
    before = (
        Ticket.objects.count(),
        Customer.objects.count(),
        Identity.objects.count(),
        AuditEvent.objects.count(),
    )
    r = client.post("/calls/new/", form_data(**overrides))
    assert 400 <= r.status_code < 500
    body = r.content.decode()
    assert f'data-testid="error-{field}"' in body or f'id="id_{field}_error"' in body
    assert 'aria-invalid="true"' in body
    assert body.count("is not a valid phone number") <= 1  # said once, next to the field
    after = (
        Ticket.objects.count(),
        Customer.objects.count(),
        Identity.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_a_bad_new_customer_name_is_refused_next_to_the_name_and_no_customer_is_left_behind(client):
    r = client.post("/calls/new/", form_data(phone="139 1234 5678", customer_name="李\x01四"))
    assert r.status_code == 422
    body = r.content.decode()
    assert 'id="id_customer_name_error"' in body and "control characters" in body
    # nothing half-written: neither the ticket nor the customer
    assert (Ticket.objects.count(), Customer.objects.count(), Identity.objects.count()) == (0, 0, 0)


def test_the_form_is_refused_without_a_csrf_token(agent):
    c = Client(enforce_csrf_checks=True)
    c.force_login(agent)
    assert c.post("/calls/new/", form_data()).status_code == 403
    assert Ticket.objects.count() == 0


def test_the_call_page_query_count_is_bounded(client, caller):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/calls/new/", {"phone": PHONE}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    ProductFactory.create_batch(5)
    ShopFactory.create_batch(3)
    TicketFactory.create_batch(5, customer=caller, team=Ticket.objects.first().team)
    assert count() == few
    assert few <= 9  # session, user, products, shops, teams, my team, identity, tickets, tags
