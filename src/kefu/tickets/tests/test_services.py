import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import (
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationFailed,
)
from kefu.customers.models import Customer
from kefu.customers.tests.factories import ProductFactory
from kefu.tickets import services
from kefu.tickets.attachments import accept_files
from kefu.tickets.models import CustomFieldDefinition, Message, Ticket

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def agent(team):
    return UserFactory(role="agent", department=team.department, teams=[team])


def new_ticket(actor, **kw):
    kw.setdefault("subject", "制氧机噪音大")
    kw.setdefault("customer_identities", {"phone": "138 0013 8000"})
    ticket, created = services.create_ticket(actor=actor, **kw)
    return ticket


def verbs(ticket):
    return list(AuditEvent.objects.filter(ticket_id=ticket.pk).order_by("id").values_list("verb", flat=True))


class TestCreate:
    def test_creates_ticket_customer_number_and_audit_event(self, agent, team):
        # given an agent; when they log a call for a phone number in a spaced format
        ticket, created = services.create_ticket(
            actor=agent, subject="制氧机噪音大", type="complaint", channel="phone",
            customer_name="张三", customer_identities={"phone": "138 0013 8000"},
        )  # fmt: skip
        # then the ticket exists in the agent's team with a human number and the customer is found by E.164
        ticket.refresh_from_db()
        assert created and ticket.status == "new" and ticket.team == team
        assert (
            ticket.number.startswith("T")
            and ticket.number.endswith(f"{ticket.pk:05d}")
            and len(ticket.number) >= 14
        )
        assert ticket.customer.identities.get().value == "+8613800138000"
        ev = AuditEvent.objects.get(ticket_id=ticket.pk, verb="ticket.created")
        assert (
            ev.actor == agent and ev.data["number"] == ticket.number and ev.customer_id == ticket.customer_id
        )

    def test_same_customer_found_from_another_phone_format(self, agent):
        first = new_ticket(agent, customer_identities={"phone": "13800138000"})
        second = new_ticket(agent, customer_identities={"phone": "+86-138-0013-8000"})
        assert first.customer_id == second.customer_id
        assert Customer.objects.count() == 1

    def test_repeat_with_external_id_or_idempotency_key_returns_first(self, agent):
        a = new_ticket(agent, external_id="ERP-1")
        b, created = services.create_ticket(
            actor=agent, subject="again", customer_identities={"phone": "13800138000"}, external_id="ERP-1"
        )
        assert (b.pk, created) == (a.pk, False)
        c = new_ticket(agent, idempotency_key="k-1")
        d, created = services.create_ticket(
            actor=agent, subject="x", customer_identities={"phone": "13800138000"}, idempotency_key="k-1"
        )
        assert (d.pk, created) == (c.pk, False)
        assert Ticket.objects.count() == 2

    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"subject": "  "}, "subject"),
            ({"type": "nonsense"}, "type"),
            ({"channel": "fax"}, "channel"),
            ({"priority": "asap"}, "priority"),
            ({"customer_identities": {"phone": "12345"}}, "customer.phone"),
            ({"customer_identities": {"email": "not-an-email"}}, "customer.email"),
            ({"customer_identities": {}}, "customer"),
            ({"product_model": "NOPE"}, "product"),
            ({"team_id": 999999}, "team_id"),
            ({"custom_fields": {"unknown": 1}}, "custom_fields.unknown"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(self, agent, kw, field):
        with pytest.raises(ValidationFailed) as err:
            new_ticket(agent, **kw)
        assert err.value.field == field
        assert Ticket.objects.count() == 0 and Customer.objects.count() == 0
        assert not AuditEvent.objects.exists()

    def test_custom_fields_are_validated_against_definitions(self, agent):
        CustomFieldDefinition.objects.create(key="serial", label="序列号", field_type="text", required=True)
        CustomFieldDefinition.objects.create(key="warranty", label="保修期内", field_type="boolean")
        CustomFieldDefinition.objects.create(
            key="buy", label="购买渠道", field_type="choice", choices=["天猫", "京东"]
        )
        with pytest.raises(ValidationFailed) as err:
            new_ticket(agent, custom_fields={"warranty": True})
        assert err.value.field == "custom_fields.serial"
        with pytest.raises(ValidationFailed):
            new_ticket(agent, custom_fields={"serial": "S1", "buy": "拼多多"})
        t = new_ticket(agent, custom_fields={"serial": "S1", "warranty": False, "buy": "京东"})
        assert t.custom_fields == {"serial": "S1", "warranty": False, "buy": "京东"}

    def test_qa_and_department_owner_may_not_create(self):
        for role in ("qa", "department_owner", "knowledge_editor"):
            with pytest.raises(PermissionDenied):
                new_ticket(UserFactory(role=role))

    def test_product_by_model_number_and_tags(self, agent):
        p = ProductFactory(model_number="YU300")
        t = new_ticket(agent, product_model="yu300", tags=["噪音", "夜间", "噪音"])
        assert t.product == p
        assert sorted(t.tags.values_list("name", flat=True)) == ["噪音", "夜间"]


@pytest.mark.django_db(transaction=True)
def test_racing_repeats_with_the_same_key_make_one_ticket(agent):
    # given 6 concurrent requests with one Idempotency-Key; when they race; then one ticket, all get it
    results, errors = [], []
    barrier = threading.Barrier(6)

    def worker():
        try:
            barrier.wait()
            t, _ = services.create_ticket(
                actor=agent,
                subject="race",
                customer_identities={"phone": "13900139000"},
                idempotency_key="race-1",
            )
            results.append(t.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 6
    assert Ticket.objects.count() == 1 and Customer.objects.count() == 1


class TestTransition:
    def test_solve_close_and_reopen_stamp_times(self, agent):
        t = new_ticket(agent)
        services.transition_ticket(actor=agent, ticket_id=t.pk, to="solved")
        t.refresh_from_db()
        assert t.status == "solved" and t.solved_at is not None
        services.transition_ticket(actor=agent, ticket_id=t.pk, to="open", comment="客户说还是很吵")
        t.refresh_from_db()
        assert t.status == "open" and t.reopened_count == 1 and t.solved_at is None
        assert Message.objects.get(ticket=t).kind == "note"
        services.transition_ticket(actor=agent, ticket_id=t.pk, to="solved")
        services.transition_ticket(actor=agent, ticket_id=t.pk, to="closed")
        t.refresh_from_db()
        assert t.closed_at is not None
        changes = AuditEvent.objects.filter(ticket_id=t.pk, verb="ticket.status_changed").order_by("id")
        assert [(e.data["from"], e.data["to"]) for e in changes] == [
            ("new", "solved"), ("solved", "open"), ("open", "solved"), ("solved", "closed"),
        ]  # fmt: skip

    def test_invalid_transition_lists_allowed_and_changes_nothing(self, agent):
        t = new_ticket(agent)
        with pytest.raises(InvalidTransition) as err:
            services.transition_ticket(actor=agent, ticket_id=t.pk, to="closed")
        assert err.value.extra["allowed"] == ["open", "pending", "on_hold", "solved"]
        t.refresh_from_db()
        assert t.status == "new"
        assert "ticket.status_changed" not in verbs(t)

    def test_agent_of_another_team_gets_not_found(self, agent):
        t = new_ticket(agent)
        outsider = UserFactory(role="agent", teams=[TeamFactory()])
        with pytest.raises(NotFound):
            services.transition_ticket(actor=outsider, ticket_id=t.pk, to="solved")


class TestMessages:
    def test_first_reply_stamps_first_response_and_opens(self, agent):
        t = new_ticket(agent)
        services.add_message(actor=agent, ticket_id=t.pk, kind="reply", body="您好")
        t.refresh_from_db()
        assert t.status == "open" and t.first_response_at is not None
        first = t.first_response_at
        services.add_message(actor=agent, ticket_id=t.pk, kind="reply", body="再次回复")
        t.refresh_from_db()
        assert t.first_response_at == first

    def test_internal_note_does_not_count_as_response(self, agent):
        t = new_ticket(agent)
        services.add_message(actor=agent, ticket_id=t.pk, kind="note", body="内部备注")
        t.refresh_from_db()
        assert t.status == "new" and t.first_response_at is None

    def test_customer_message_reopens_solved_ticket(self, agent):
        t = new_ticket(agent)
        services.transition_ticket(actor=agent, ticket_id=t.pk, to="solved")
        services.add_message(actor=agent, ticket_id=t.pk, kind="customer", body="还是不行")
        t.refresh_from_db()
        assert t.status == "open" and t.reopened_count == 1

    def test_attachment_type_is_sniffed_not_taken_from_name(self, agent):
        t = new_ticket(agent)
        files = accept_files([SimpleUploadedFile("photo.txt", PNG, content_type="text/plain")])
        msg = services.add_message(actor=agent, ticket_id=t.pk, kind="reply", body="见图", files=files)
        att = msg.attachments.get()
        assert att.content_type == "image/png" and att.size == len(PNG) and att.filename == "photo.txt"
        assert att.file.read() == PNG

    def test_executables_and_oversize_files_are_refused(self, agent, settings):
        with pytest.raises(UnsupportedMediaType):
            accept_files([SimpleUploadedFile("a.jpg", b"MZ\x90\x00" + b"\x00" * 200)])
        settings.KEFU_MAX_ATTACHMENT_BYTES = 10
        with pytest.raises(LimitExceeded):
            accept_files([SimpleUploadedFile("b.png", PNG)])

    def test_empty_message_is_refused(self, agent):
        t = new_ticket(agent)
        with pytest.raises(ValidationFailed) as err:
            services.add_message(actor=agent, ticket_id=t.pk, kind="reply", body="  ")
        assert err.value.field == "body"

    def test_qa_may_not_write_notes(self, agent):
        t = new_ticket(agent)
        with pytest.raises(PermissionDenied):
            services.add_message(actor=UserFactory(role="qa"), ticket_id=t.pk, kind="note", body="x")


class TestUpdateAndTransfer:
    def test_update_records_before_and_after(self, agent, team):
        t = new_ticket(agent)
        other = UserFactory(role="agent", teams=[team])
        services.update_ticket(
            actor=agent, ticket_id=t.pk, changes={"priority": "urgent", "assignee_id": other.pk}
        )
        ev = AuditEvent.objects.get(ticket_id=t.pk, verb="ticket.updated")
        assert ev.data["changes"] == {
            "priority": {"from": "normal", "to": "urgent"},
            "assignee_id": {"from": None, "to": other.pk},
        }

    def test_no_change_no_event_and_status_is_refused(self, agent):
        t = new_ticket(agent)
        services.update_ticket(actor=agent, ticket_id=t.pk, changes={"priority": "normal"})
        assert "ticket.updated" not in verbs(t)
        with pytest.raises(ValidationFailed) as err:
            services.update_ticket(actor=agent, ticket_id=t.pk, changes={"status": "solved"})
        assert err.value.field == "status"

    def test_transfer_without_team_puts_ticket_on_hold(self, agent):
        t = new_ticket(agent)
        qc = DepartmentFactory(name="品控")
        tr = services.transfer_ticket(actor=agent, ticket_id=t.pk, department_id=qc.pk, note="请品控确认批次")
        t.refresh_from_db()
        assert t.status == "on_hold" and tr.to_department == qc
        assert {"ticket.transferred", "ticket.status_changed"} <= set(verbs(t))
        # and the department owner of 品控 can now see it
        owner = UserFactory(role="department_owner", department=qc)
        assert Ticket.objects.visible_to(owner).filter(pk=t.pk).exists()

    def test_transfer_to_team_moves_and_unassigns(self, agent):
        t = new_ticket(agent, assignee_id=agent.pk)
        other_team = TeamFactory()
        services.transfer_ticket(
            actor=agent, ticket_id=t.pk, department_id=other_team.department_id, team_id=other_team.pk
        )
        t.refresh_from_db()
        assert t.team == other_team and t.assignee is None and t.status == "new"

    def test_transfer_team_must_belong_to_department(self, agent):
        t = new_ticket(agent)
        with pytest.raises(ValidationFailed) as err:
            services.transfer_ticket(actor=agent, ticket_id=t.pk, department_id=DepartmentFactory().pk,
                                     team_id=TeamFactory().pk)  # fmt: skip
        assert err.value.field == "team_id"


class TestMergeTickets:
    def test_merge_moves_messages_closes_source_and_records_both(self, agent):
        # given two tickets from the same customer about the same noise problem
        a = new_ticket(agent, subject="制氧机噪音大")
        b = new_ticket(agent, subject="噪音问题再次来电")
        services.add_message(actor=agent, ticket_id=a.pk, kind="customer", body="晚上很吵")
        # when the agent merges a into b
        services.merge_tickets(actor=agent, source_id=a.pk, target_id=b.pk)
        a.refresh_from_db()
        b.refresh_from_db()
        # then a is closed and points at b, its messages are on b, and both timelines show the merge
        assert a.status == "closed" and a.merged_into == b
        assert b.messages.filter(body="晚上很吵").exists() and b.messages.filter(kind="note").exists()
        assert "ticket.merged" in verbs(a) and "ticket.merged" in verbs(b)

    def test_merge_refuses_self_closed_target_and_invisible_tickets(self, agent):
        a, b = new_ticket(agent), new_ticket(agent)
        with pytest.raises(ValidationFailed):
            services.merge_tickets(actor=agent, source_id=a.pk, target_id=a.pk)
        services.transition_ticket(actor=agent, ticket_id=b.pk, to="solved")
        with pytest.raises(ValidationFailed) as err:
            services.merge_tickets(actor=agent, source_id=a.pk, target_id=b.pk)
        assert err.value.field == "target_id"
        outsider = UserFactory(role="agent", teams=[TeamFactory()])
        with pytest.raises(NotFound):
            services.merge_tickets(actor=outsider, source_id=a.pk, target_id=b.pk)
