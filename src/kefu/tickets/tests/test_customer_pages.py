"""Customer pages: search with keyset pagination, the profile with ticket history, merging duplicates."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer, Identity, Order
from kefu.customers.services import find_or_create_customer
from kefu.customers.tests.factories import CustomerFactory, IdentityFactory, ProductFactory, ShopFactory
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def department():
    return DepartmentFactory()


@pytest.fixture
def team(department):
    return TeamFactory(department=department)


@pytest.fixture
def agent(team):
    return UserFactory(role="agent", teams=[team])


@pytest.fixture
def supervisor(department):
    return UserFactory(role="supervisor", department=department)


def signed_in(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.fixture
def client(agent):
    return signed_in(agent)


def queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def make_customer(name, phone=None, email=None, **fields):
    customer = CustomerFactory(name=name, **fields)
    if phone:
        IdentityFactory(customer=customer, kind="phone", value=phone)
    if email:
        IdentityFactory(customer=customer, kind="email", value=email)
    return customer


def row_names(response):
    return re.findall(r"data-kf-open>([^<]+)</a>", response.content.decode())


# --- search -----------------------------------------------------------------------------------------


@pytest.fixture
def people():
    return {
        "zhang": make_customer("张三", phone="+8613800138000", email="zhangsan@example.com", vip_tier="gold"),
        "li": make_customer("李四", phone="+8613912345678", email="lisi@example.com"),
        "zhangwei": make_customer("张伟"),
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张", {"张三", "张伟"}),
        ("李四", {"李四"}),
        ("138 0013 8000", {"张三"}),
        ("+86-139-1234-5678", {"李四"}),
        ("0086 13912345678", {"李四"}),
        ("ZhangSan@Example.com", {"张三"}),
        ("nobody", set()),
    ],
)
def test_customer_search_by_name_phone_in_any_format_or_email(client, people, q, expected):
    r = client.get("/customers/", {"q": q})
    assert r.status_code == 200
    assert set(row_names(r)) == expected


def test_customer_list_without_a_query_shows_the_newest_first_and_live_search_is_wired(client, people):
    r = client.get("/customers/")
    body = r.content.decode()
    assert row_names(r) == ["张伟", "李四", "张三"]
    assert 'hx-get="/customers/"' in body and 'hx-push-url="true"' in body
    assert '<label class="form-label" for="customer-q">' in body
    assert "+8613800138000" in body and "zhangsan@example.com" in body and "Gold" in body


def test_an_htmx_search_returns_only_the_results(client, people):
    r = client.get("/customers/", {"q": "张"}, **HX)
    body = r.content.decode()
    assert "<html" not in body and set(row_names(r)) == {"张三", "张伟"}
    assert "HX-Request" in r["Vary"]
    # a history restore needs the whole page
    full = client.get("/customers/", {"q": "张"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)
    assert "<html" in full.content.decode()


def test_customer_list_is_keyset_paginated_and_merged_customers_are_hidden(client):
    # given 55 customers and one merged away
    Customer.objects.bulk_create([Customer(name=f"客户{n:02d}") for n in range(55)])
    Customer.objects.filter(name="客户00").update(merged_into=Customer.objects.get(name="客户01"))
    # when the first page is shown
    first = client.get("/customers/")
    names = row_names(first)
    assert len(names) == 50 and names[0] == "客户54" and names[-1] == "客户05"
    cursor = re.search(r"cursor=(\d+)", first.content.decode()).group(1)
    # then the next page continues after the last row, and the merged customer is not listed
    second = client.get("/customers/", {"cursor": cursor})
    assert row_names(second) == ["客户04", "客户03", "客户02", "客户01"]
    assert 'data-testid="next-page"' not in second.content.decode()
    # and a junk cursor is ignored rather than an error
    assert client.get("/customers/", {"cursor": "abc"}).status_code == 200


def test_customer_list_query_count_does_not_grow_with_the_page(client):
    make_customer("一", phone="+8613800000001", email="a@example.com")
    few = queries(lambda: client.get("/customers/"))
    for n in range(2, 30):
        make_customer(f"客户{n}", phone=f"+86138000000{n:02d}", email=f"c{n}@example.com")
    assert queries(lambda: client.get("/customers/")) == few
    assert queries(lambda: client.get("/customers/", {"q": "138 0000 0005"})) == few
    assert few <= 5  # session, user, customers, their identities


def test_customer_names_are_escaped(client):
    make_customer("<b>bold</b>", phone="+8613800000009")
    body = client.get("/customers/").content.decode()
    assert "<b>bold</b>" not in body and "&lt;b&gt;bold&lt;/b&gt;" in body


# --- the profile ------------------------------------------------------------------------------------


@pytest.fixture
def profile(team):
    customer = make_customer(
        "王芳", phone="+8613800138000", email="wf@example.com", vip_tier="platinum", tags=["老年用户"]
    )
    TicketFactory(customer=customer, team=team, subject="按摩椅异响", type="complaint", channel="phone")
    TicketFactory(customer=customer, team=TeamFactory(), subject="别组的工单")
    shop, product = ShopFactory(name="康悦京东自营店"), ProductFactory(model_number="AM-9", name="按摩椅")
    Order.objects.create(
        customer=customer,
        shop=shop,
        product=product,
        order_number="JD20260101",
        amount=Decimal("3999.00"),
        ordered_at=datetime(2026, 1, 1, 2, tzinfo=UTC),
    )
    return customer


def test_profile_shows_identities_vip_tags_orders_and_only_the_tickets_the_user_may_see(client, profile):
    r = client.get(f"/customers/{profile.pk}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "王芳" in body and "VIP Platinum" in body and "老年用户" in body
    assert "+8613800138000" in body and "wf@example.com" in body
    assert "JD20260101" in body and "AM-9 · 按摩椅" in body and "康悦京东自营店" in body and "3999.00" in body
    mine = Ticket.objects.get(subject="按摩椅异响")
    assert f'href="/tickets/{mine.pk}/"' in body and mine.number in body and "Complaint" in body
    assert "别组的工单" not in body
    # and a link logs a call with the phone prefilled
    assert 'href="/calls/new/?phone=%2B8613800138000"' in body


def test_profile_without_orders_or_tickets_says_so(client):
    customer = make_customer("新客户")
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="no-orders"' in body and 'data-testid="no-tickets"' in body
    assert 'href="/calls/new/"' in body


def test_profile_of_a_missing_customer_is_404(client):
    assert client.get("/customers/999999/").status_code == 404


def test_profile_query_count_does_not_grow_with_tickets_and_orders(client, profile, team):
    few = queries(lambda: client.get(f"/customers/{profile.pk}/"))
    TicketFactory.create_batch(10, customer=profile, team=team)
    for n in range(5):
        Order.objects.create(
            customer=profile,
            shop=ShopFactory(),
            product=ProductFactory(),
            order_number=f"O{n}",
            ordered_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
    assert queries(lambda: client.get(f"/customers/{profile.pk}/")) == few
    assert few <= 8  # session, user, customer, identities, orders, tickets, ticket tags


def test_the_merge_button_shows_for_supervisors_only(client, supervisor, profile):
    url = f"/customers/{profile.pk}/"
    assert 'data-testid="merge"' not in client.get(url).content.decode()
    assert f'href="/customers/{profile.pk}/merge/"' in signed_in(supervisor).get(url).content.decode()


# --- merging ----------------------------------------------------------------------------------------


@pytest.fixture
def duplicates(agent, team):
    """The same person twice: once by phone with a ticket, once by email with a ticket."""
    a, _ = find_or_create_customer(actor=agent, name="赵敏", identities={"phone": "13800138000"})
    b, _ = find_or_create_customer(actor=agent, name="赵敏", identities={"email": "zm@example.com"})
    TicketFactory(customer=a, team=team, subject="A的工单")
    TicketFactory(customer=b, team=team, subject="B的工单")
    return a, b


def test_a_supervisor_finds_the_target_by_phone_name_or_id_and_sees_both_before_merging(
    supervisor, duplicates
):
    a, b = duplicates
    c = signed_in(supervisor)
    url = f"/customers/{a.pk}/merge/"
    # the customer being merged is never offered as its own target
    for q in ("zm@example.com", "赵敏", f"#{b.pk}"):
        body = c.get(url, {"q": q}).content.decode()
        assert f'href="?target={b.pk}"' in body, q
        assert f'href="?target={a.pk}"' not in body, q
    confirm = c.get(url, {"target": b.pk}).content.decode()
    assert 'data-testid="merge-source"' in confirm and 'data-testid="merge-target"' in confirm
    assert "+8613800138000" in confirm and "zm@example.com" in confirm
    assert f'name="target_id" value="{b.pk}"' in confirm and "csrfmiddlewaretoken" in confirm


def test_a_supervisors_merge_moves_identities_and_tickets_and_is_audited(supervisor, duplicates):
    a, b = duplicates
    # when the supervisor confirms merging A into B
    r = signed_in(supervisor).post(f"/customers/{a.pk}/merge/", {"target_id": b.pk}, follow=True)
    # then they land on B, which now owns A's phone and tickets
    assert r.redirect_chain[-1] == (f"/customers/{b.pk}/", 302)
    assert f"Customer #{a.pk} was merged into #{b.pk}" in r.content.decode()
    assert set(Identity.objects.filter(customer=b).values_list("kind", "value")) == {
        ("phone", "+8613800138000"),
        ("email", "zm@example.com"),
    }
    assert set(Ticket.objects.filter(customer=b).values_list("subject", flat=True)) == {"A的工单", "B的工单"}
    a.refresh_from_db()
    assert a.merged_into_id == b.pk
    event = AuditEvent.objects.get(verb="customer.merged")
    assert (event.actor_id, event.customer_id, event.data["source_id"]) == (supervisor.pk, b.pk, a.pk)
    # and A's page points to B without offering another merge
    body = signed_in(supervisor).get(f"/customers/{a.pk}/").content.decode()
    assert 'data-testid="merged-notice"' in body and 'data-testid="merge"' not in body


def test_an_agent_may_not_merge_and_is_told_why(client, duplicates):
    a, b = duplicates
    r = client.get(f"/customers/{a.pk}/merge/")
    assert (
        r.status_code == 403
        and "Only supervisors and administrators may merge customers" in r.content.decode()
    )
    assert client.post(f"/customers/{a.pk}/merge/", {"target_id": b.pk}).status_code == 403
    assert Identity.objects.filter(customer=a).exists() and not AuditEvent.objects.filter(
        verb="customer.merged"
    )


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("self", 422, "cannot be merged into itself"),
        ("merged", 409, "was merged into another customer"),
        ("missing", 404, "not found"),
        ("junk", 422, "Choose the customer to merge into"),
    ],
)
def test_a_merge_that_cannot_be_done_says_why_and_changes_nothing(
    supervisor, duplicates, target, status, message
):
    a, b = duplicates
    gone = make_customer("已合并")
    gone.merged_into = b
    gone.save()
    target_id = {"self": a.pk, "merged": gone.pk, "missing": 999999, "junk": "x"}[target]
    r = signed_in(supervisor).post(f"/customers/{a.pk}/merge/", {"target_id": target_id})
    assert r.status_code == status
    assert message in r.content.decode()
    a.refresh_from_db()
    assert a.merged_into_id is None and not AuditEvent.objects.filter(verb="customer.merged")


def test_merging_is_refused_without_a_csrf_token(supervisor, duplicates):
    a, b = duplicates
    c = Client(enforce_csrf_checks=True)
    c.force_login(supervisor)
    assert c.post(f"/customers/{a.pk}/merge/", {"target_id": b.pk}).status_code == 403
    a.refresh_from_db()
    assert a.merged_into_id is None


def test_customer_pages_need_a_signed_in_user():
    customer = make_customer("某人")
    for url in ("/customers/", f"/customers/{customer.pk}/", f"/customers/{customer.pk}/merge/"):
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/")
