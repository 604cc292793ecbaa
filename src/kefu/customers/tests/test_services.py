"""Customer services: find-or-create by any identity, identities, merging."""

import threading

import pytest
from django.db import IntegrityError, connections, transaction

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.customers.models import Customer, Identity
from kefu.customers.services import add_identity, find_or_create_customer, merge_customers
from kefu.customers.tests.factories import CustomerFactory, IdentityFactory
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role="agent")


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor")


def identities_of(customer):
    return {(i.kind, i.value) for i in Identity.objects.filter(customer=customer)}


def events_of(customer_id, verb=None):
    qs = AuditEvent.objects.filter(customer_id=customer_id).order_by("id")
    return list(qs.filter(verb=verb) if verb else qs)


# --- find_or_create_customer ----------------------------------------------------------------------


def test_creates_a_customer_with_normalized_identities_and_a_created_event(agent):
    # given nobody known by this phone or email
    # when an agent finds-or-creates them
    customer, created = find_or_create_customer(
        actor=agent,
        name="  张三 ",
        identities={"phone": "138 0013 8000", "email": " ZhangSan@Example.com ", "wechat_openid": None},
    )

    # then a new customer exists, owning the normalized identities
    assert created is True
    customer.refresh_from_db()
    assert customer.name == "张三"
    assert identities_of(customer) == {("phone", "+8613800138000"), ("email", "zhangsan@example.com")}
    # and a customer.created event names the actor and the identities
    [event] = events_of(customer.pk)
    assert event.verb == "customer.created"
    assert event.actor_id == agent.pk
    assert event.subject_type == "customer"
    assert event.subject_id == customer.pk
    assert event.data == {
        "name": "张三",
        "identities": {"phone": "+8613800138000", "email": "zhangsan@example.com"},
    }


def test_finds_the_same_customer_by_another_format_of_the_phone(agent):
    # given a customer created from "138 0013 8000"
    first, _ = find_or_create_customer(actor=agent, name="张三", identities={"phone": "138 0013 8000"})

    # when the same person calls in as "+86-13800138000" and "１３８００１３８０００"
    again, created = find_or_create_customer(actor=agent, identities={"phone": "+86-13800138000"})
    third, created_third = find_or_create_customer(
        actor=agent, identities={"phone": "１３８００１３８０００"}
    )

    # then it is the same customer, nothing new is created or recorded
    assert (again.pk, created) == (first.pk, False)
    assert (third.pk, created_third) == (first.pk, False)
    assert Customer.objects.count() == 1
    assert [e.verb for e in events_of(first.pk)] == ["customer.created"]


def test_finds_by_one_identity_and_adds_the_missing_email(agent):
    # given a customer known only by phone
    customer, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})

    # when they write in giving phone and a new email
    found, created = find_or_create_customer(
        actor=agent, identities={"phone": "138-0013-8000", "email": "Zhang@Example.com"}
    )

    # then the email is added to the same customer
    assert (found.pk, created) == (customer.pk, False)
    assert identities_of(customer) == {("phone", "+8613800138000"), ("email", "zhang@example.com")}
    # and the addition is audited
    [added] = events_of(customer.pk, "customer.identity_added")
    assert added.actor_id == agent.pk
    assert added.data == {"kind": "email", "value": "zhang@example.com"}


def test_a_found_customer_without_a_name_gets_the_given_name_but_a_name_is_never_overwritten(agent):
    customer, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})

    find_or_create_customer(actor=agent, name="张三", identities={"phone": "13800138000"})
    customer.refresh_from_db()
    assert customer.name == "张三"

    find_or_create_customer(actor=agent, name="李四", identities={"phone": "13800138000"})
    customer.refresh_from_db()
    assert customer.name == "张三"


def test_naming_a_found_customer_is_audited(agent):
    # given a customer created without a name
    customer, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})
    before = {e.pk for e in events_of(customer.pk)}

    # when a later contact gives their name
    find_or_create_customer(actor=agent, name="张三", identities={"phone": "13800138000"})

    # then the name is stored and the change is recorded
    customer.refresh_from_db()
    assert customer.name == "张三"
    new_events = [e for e in events_of(customer.pk) if e.pk not in before]
    assert any("张三" in str(e.data) for e in new_events), [(e.verb, e.data) for e in new_events]


def test_find_or_create_needs_at_least_one_identity(agent):
    with pytest.raises(ValidationFailed) as exc:
        find_or_create_customer(actor=agent, name="张三", identities={"phone": "  ", "email": None})
    assert exc.value.field == "customer"
    assert Customer.objects.count() == 0


def test_find_or_create_rejects_a_bad_phone_without_writing_anything(agent):
    with pytest.raises(ValidationFailed) as exc:
        find_or_create_customer(actor=agent, identities={"phone": "12345", "email": "a@example.com"})
    assert exc.value.field == "phone"
    assert Customer.objects.count() == 0
    assert AuditEvent.objects.filter(verb__startswith="customer.").count() == 0


def test_find_or_create_rejects_an_unknown_identity_kind(agent):
    with pytest.raises(ValidationFailed) as exc:
        find_or_create_customer(actor=agent, identities={"fax": "010 8888 6666"})
    assert exc.value.field == "fax"


def test_roles_without_customer_create_may_not_find_or_create():
    qa = UserFactory(role="qa")
    with pytest.raises(PermissionDenied):
        find_or_create_customer(actor=qa, identities={"phone": "13800138000"})
    assert Customer.objects.count() == 0


def test_finding_a_merged_customer_by_an_old_identity_gives_the_survivor(agent, supervisor):
    # given A (phone) merged into B
    a, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})
    b, _ = find_or_create_customer(actor=agent, identities={"email": "b@example.com"})
    merge_customers(actor=supervisor, source=a, target=b)

    # when someone calls from A's phone
    found, created = find_or_create_customer(actor=agent, identities={"phone": "138 0013 8000"})

    # then B is found
    assert (found.pk, created) == (b.pk, False)


# --- identities are unique per kind ---------------------------------------------------------------


def test_an_identity_value_is_unique_per_kind_in_the_database():
    IdentityFactory(kind="phone", value="+8613800138000")
    with pytest.raises(IntegrityError), transaction.atomic():
        IdentityFactory(kind="phone", value="+8613800138000")
    # the same value under another kind is a different identity
    IdentityFactory(kind="member_id", value="+8613800138000")
    assert Identity.objects.filter(value="+8613800138000").count() == 2


def test_add_identity_refuses_another_customers_identity_with_conflict(agent):
    # given two customers, one owning the phone
    owner, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})
    other, _ = find_or_create_customer(actor=agent, identities={"email": "other@example.com"})

    # when the phone (in another format) is added to the other customer
    with pytest.raises(Conflict) as exc:
        add_identity(actor=agent, customer=other, kind="phone", value="+86 138 0013 8000")

    # then 409, naming the field, and the phone stays with its owner
    assert exc.value.status == 409
    assert exc.value.field == "phone"
    assert identities_of(owner) == {("phone", "+8613800138000")}
    assert identities_of(other) == {("email", "other@example.com")}


def test_add_identity_is_idempotent_for_the_owner_and_audited_once(agent):
    customer, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})

    first = add_identity(actor=agent, customer=customer, kind="email", value="Z@Example.com")
    again = add_identity(actor=agent, customer=customer, kind="email", value="z@example.com ")

    assert first.pk == again.pk
    assert [e.data for e in events_of(customer.pk, "customer.identity_added")] == [
        {"kind": "email", "value": "z@example.com"}
    ]


def test_find_or_create_never_takes_an_identity_owned_by_someone_else(agent):
    # given A owns the phone, B owns the email
    a, _ = find_or_create_customer(actor=agent, identities={"phone": "13800138000"})
    b, _ = find_or_create_customer(actor=agent, identities={"email": "b@example.com"})

    # when a contact gives both
    found, created = find_or_create_customer(
        actor=agent, identities={"phone": "13800138000", "email": "b@example.com"}
    )

    # then one of them is found and no identity changes hands (merging is an explicit act)
    assert created is False
    assert found.pk in (a.pk, b.pk)
    assert identities_of(a) == {("phone", "+8613800138000")}
    assert identities_of(b) == {("email", "b@example.com")}
    assert events_of(a.pk, "customer.identity_added") == []
    assert events_of(b.pk, "customer.identity_added") == []


# --- merge_customers ------------------------------------------------------------------------------


def test_merge_moves_identities_and_tickets_keeps_a_pointer_and_earlier_events(agent, supervisor):
    # given a duplicate customer with a phone, two tickets and history
    source, _ = find_or_create_customer(
        actor=agent, name="张三", identities={"phone": "13800138000", "wechat_openid": "oWx123"}
    )
    source.tags = ["vip-candidate"]
    source.save()
    target, _ = find_or_create_customer(actor=agent, identities={"email": "zhang@example.com"})
    target.tags = ["tmall"]
    target.save()
    source_tickets = TicketFactory.create_batch(2, customer=source)
    target_ticket = TicketFactory(customer=target)
    bystander_ticket = TicketFactory()
    earlier = {e.pk: (e.verb, e.data) for e in AuditEvent.objects.all()}

    # when a supervisor merges the source into the target
    result = merge_customers(actor=supervisor, source=source, target=target)

    # then the target owns every identity and every ticket
    assert result.pk == target.pk
    assert identities_of(target) == {
        ("phone", "+8613800138000"),
        ("wechat_openid", "oWx123"),
        ("email", "zhang@example.com"),
    }
    assert identities_of(source) == set()
    assert set(Ticket.objects.filter(customer=target).values_list("pk", flat=True)) == {
        *(t.pk for t in source_tickets),
        target_ticket.pk,
    }
    assert not Ticket.objects.filter(customer=source).exists()
    bystander_ticket.refresh_from_db()
    assert bystander_ticket.customer_id not in (source.pk, target.pk)
    # and the source is kept as a pointer to the target
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert source.is_merged
    assert not target.is_merged
    # and the target takes the missing name and the union of tags
    assert target.name == "张三"
    assert target.tags == ["tmall", "vip-candidate"]
    # and earlier events are kept untouched
    kept = {e.pk: (e.verb, e.data) for e in AuditEvent.objects.filter(pk__in=earlier)}
    assert kept == earlier
    assert [e.verb for e in events_of(source.pk)] == ["customer.created"]
    # and the merge is recorded on the target
    [merged] = events_of(target.pk, "customer.merged")
    assert merged.actor_id == supervisor.pk
    assert merged.subject_id == target.pk
    assert merged.data["source_id"] == source.pk
    assert merged.data["target_id"] == target.pk
    assert sorted(merged.data["identities"]) == ["phone:+8613800138000", "wechat_openid:oWx123"]


def test_merge_repoints_customers_that_were_merged_into_the_source(agent, supervisor):
    # given A merged into B
    a = CustomerFactory()
    b = CustomerFactory()
    c = CustomerFactory()
    merge_customers(actor=supervisor, source=a, target=b)

    # when B is merged into C
    merge_customers(actor=supervisor, source=b, target=c)

    # then A points straight at C (no chains)
    a.refresh_from_db()
    assert a.merged_into_id == c.pk


def test_merging_a_customer_into_itself_is_a_422(supervisor):
    customer = CustomerFactory()
    with pytest.raises(ValidationFailed) as exc:
        merge_customers(actor=supervisor, source=customer, target=customer)
    assert exc.value.status == 422
    assert exc.value.field == "target_id"
    assert not AuditEvent.objects.filter(verb="customer.merged").exists()


def test_merging_an_already_merged_customer_is_a_409(supervisor):
    # given A already merged into B
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    merge_customers(actor=supervisor, source=a, target=b)

    # when A is merged again (with a stale in-memory copy that does not know it was merged)
    stale_a = Customer.objects.get(pk=a.pk)
    stale_a.merged_into = None
    with pytest.raises(Conflict) as exc:
        merge_customers(actor=supervisor, source=stale_a, target=c)

    # then 409 and nothing changes
    assert exc.value.status == 409
    assert exc.value.field == "source_id"
    a.refresh_from_db()
    assert a.merged_into_id == b.pk
    assert AuditEvent.objects.filter(verb="customer.merged").count() == 1


def test_merging_into_an_already_merged_customer_is_a_409(supervisor):
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    IdentityFactory(customer=c, kind="phone", value="+8613900139000")
    merge_customers(actor=supervisor, source=a, target=b)

    with pytest.raises(Conflict) as exc:
        merge_customers(actor=supervisor, source=c, target=a)

    assert exc.value.status == 409
    assert exc.value.field == "target_id"
    c.refresh_from_db()
    assert c.merged_into_id is None
    assert identities_of(c) == {("phone", "+8613900139000")}


def test_agents_may_not_merge_customers(agent):
    source = CustomerFactory()
    IdentityFactory(customer=source)
    target = CustomerFactory()
    ticket = TicketFactory(customer=source)

    with pytest.raises(PermissionDenied) as exc:
        merge_customers(actor=agent, source=source, target=target)

    assert exc.value.status == 403
    source.refresh_from_db()
    ticket.refresh_from_db()
    assert source.merged_into_id is None
    assert ticket.customer_id == source.pk
    assert Identity.objects.filter(customer=source).count() == 1
    assert not AuditEvent.objects.filter(verb="customer.merged").exists()


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_may_merge(role):
    actor = UserFactory(role=role)
    source, target = CustomerFactory(), CustomerFactory()

    merge_customers(actor=actor, source=source, target=target)

    source.refresh_from_db()
    assert source.merged_into_id == target.pk


def test_an_inactive_supervisor_may_not_merge():
    actor = UserFactory(role="supervisor", is_active=False)
    with pytest.raises(PermissionDenied):
        merge_customers(actor=actor, source=CustomerFactory(), target=CustomerFactory())


# --- concurrency ----------------------------------------------------------------------------------


def _run_in_threads(n, fn):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results.append(fn(i))
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_find_or_creates_of_a_new_phone_make_one_customer():
    # given an agent and a phone nobody knows yet
    agent = UserFactory(role="agent")
    formats = ["138 0013 8000", "+86-13800138000"]

    # when two requests find-or-create it at the same moment
    results, errors = _run_in_threads(
        2, lambda i: find_or_create_customer(actor=agent, identities={"phone": formats[i]})
    )

    # then both succeed with the same, single customer, created once
    assert errors == []
    assert len({c.pk for c, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    assert Customer.objects.count() == 1
    assert Identity.objects.filter(kind="phone", value="+8613800138000").count() == 1
    assert AuditEvent.objects.filter(verb="customer.created").count() == 1
