"""In-app notifications: the `notify` contract, new assignees, emails after commit (real SMTP)."""

import pytest
from django.core import mail
from django.db import transaction

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.services import record_event
from kefu.notifications import services
from kefu.notifications.email_url import parse_email_url
from kefu.notifications.models import Notification
from kefu.notifications.tests.conftest import OTHER, PINGED, SMTP_PASSWORD, SMTP_USER, free_port
from kefu.tickets import services as tickets

pytestmark = pytest.mark.django_db


def new_ticket(actor, **kw):
    kw.setdefault("subject", "冰箱不制冷")
    kw.setdefault("customer_identities", {"phone": "138 0013 8000"})
    ticket, _ = tickets.create_ticket(actor=actor, **kw)
    return ticket


def ping(actor, ticket, notify, verb=PINGED.verb):
    return record_event(
        actor=actor,
        verb=verb,
        subject=ticket,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"number": ticket.number, "notify": notify},
    )


class TestNotifyContract:
    def test_event_with_notify_creates_one_notification_per_active_recipient(
        self, agent, admin, django_capture_on_commit_callbacks
    ):
        # given a ticket, an inactive user and a user without email
        ticket = new_ticket(agent)
        gone = UserFactory(is_active=False, email="gone@example.com")
        quiet = UserFactory(email="")
        # when an event asks to notify them all (one of them twice, one id unknown, one garbage)
        with django_capture_on_commit_callbacks(execute=True):
            ev = ping(agent, ticket, [admin.pk, gone.pk, quiet.pk, admin.pk, 987654, "x", None])
        # then each active recipient has one notification, linked to the event and the ticket
        rows = Notification.objects.order_by("recipient_id")
        assert [(n.recipient_id, n.verb, n.event_id, n.ticket_id) for n in rows] == [
            (admin.pk, PINGED.verb, ev.pk, ticket.pk),
            (quiet.pk, PINGED.verb, ev.pk, ticket.pk),
        ]
        # and the text is rendered from the registry (the notify list is not kept)
        n = rows[0]
        assert n.text == f"工单 {ticket.number} 需要你处理" and "notify" not in n.data
        assert n.read_at is None
        # and only the recipient with an address got an email, after commit
        assert [m.to for m in mail.outbox] == [[admin.email]]
        assert Notification.objects.get(recipient=admin).emailed_at is not None
        assert Notification.objects.get(recipient=quiet).emailed_at is None

    def test_events_without_notify_notify_nobody(self, agent):
        new_ticket(agent)
        assert Notification.objects.count() == 0

    def test_rolled_back_change_leaves_no_notification_and_sends_no_email(
        self, agent, admin, django_capture_on_commit_callbacks
    ):
        ticket = new_ticket(agent)
        capture = django_capture_on_commit_callbacks(execute=True)
        with capture, pytest.raises(RuntimeError), transaction.atomic():
            ping(agent, ticket, [admin.pk])
            assert Notification.objects.filter(recipient=admin).count() == 1  # same transaction
            raise RuntimeError("the change fails")
        assert Notification.objects.count() == 0 and mail.outbox == []

    def test_a_bad_ticket_id_never_breaks_the_write(self, agent, admin):
        # given an event naming a ticket that does not exist; then the notification has no ticket link
        record_event(
            actor=agent, verb=OTHER.verb, subject=admin, ticket_id=10**9, data={"notify": [admin.pk]}
        )
        assert Notification.objects.get().ticket_id is None


class TestAssignment:
    def test_new_assignee_is_notified_unless_they_assigned_themselves(
        self, agent, admin, django_capture_on_commit_callbacks
    ):
        ticket = new_ticket(agent)
        # when an admin assigns the ticket to the agent
        with django_capture_on_commit_callbacks(execute=True):
            tickets.update_ticket(actor=admin, ticket_id=ticket.pk, changes={"assignee_id": agent.pk})
        n = Notification.objects.get()
        assert (n.recipient, n.verb, n.ticket_id) == (agent, "notification.ticket_assigned", ticket.pk)
        assert ticket.number in n.text
        assert [m.to for m in mail.outbox] == [[agent.email]]
        # when the admin takes it themselves, nobody else is notified and they are not either
        tickets.update_ticket(actor=admin, ticket_id=ticket.pk, changes={"assignee_id": admin.pk})
        # and other field changes notify nobody
        tickets.update_ticket(actor=admin, ticket_id=ticket.pk, changes={"priority": "high"})
        assert Notification.objects.count() == 1

    def test_bulk_assignment_notifies_once_per_ticket(self, agent, team, admin):
        t1, t2 = new_ticket(agent), new_ticket(agent, subject="洗衣机漏水")
        supervisor = UserFactory(role="supervisor", department=team.department, teams=[team])
        tickets.bulk_assign(actor=supervisor, ticket_ids=[t1.pk, t2.pk], assignee_id=agent.pk)
        notified = Notification.objects.filter(recipient=agent).values_list("ticket_id", flat=True)
        assert sorted(notified) == sorted([t1.pk, t2.pk])


class TestEmail:
    @pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
    def test_notification_email_reaches_a_real_smtp_server(
        self, agent, admin, smtp_server, settings, django_capture_on_commit_callbacks
    ):
        # given a real SMTP server requiring a login, configured from a KEFU_EMAIL_URL
        sink, port = smtp_server
        settings.MAILERS = {"default": parse_email_url(f"smtp://{SMTP_USER}:s3cr%40t@127.0.0.1:{port}")}
        assert settings.MAILERS["default"]["OPTIONS"]["password"] == SMTP_PASSWORD
        settings.KEFU_BASE_URL = "https://kefu.example.com"
        ticket = new_ticket(agent)
        # when an event notifies the admin and commits
        with django_capture_on_commit_callbacks(execute=True):
            ping(agent, ticket, [admin.pk])
        # then one message arrived for the admin, with a Chinese subject naming the ticket
        assert len(sink.envelopes) == 1
        envelope, message = sink.envelopes[0], sink.messages[0]
        assert envelope.rcpt_tos == [admin.email]
        assert message["To"] == admin.email
        assert message["Subject"] == f"[kefu] 工单 {ticket.number} 需要你处理"
        body = message.get_content()
        assert f"https://kefu.example.com/tickets/{ticket.pk}/" in body
        assert ticket.subject in body and "https://kefu.example.com/notifications/" in body
        assert message["Auto-Submitted"] == "auto-generated"
        # and the notification is stamped, so sending again does nothing
        n = Notification.objects.get()
        assert n.emailed_at is not None
        assert services.send_notification_email(notification_id=n.pk) is False
        assert len(sink.envelopes) == 1

    def test_subject_names_the_ticket_when_the_text_does_not(self, agent, admin):
        ticket = new_ticket(agent)
        record_event(
            actor=agent, verb=OTHER.verb, subject=ticket, ticket_id=ticket.pk, data={"notify": [admin.pk]}
        )
        n = Notification.objects.get()
        message = services.compose_notification_email(n)
        assert message.subject == f"[kefu] Something else happened ({ticket.number})"

    def test_a_failed_send_is_released_for_the_retry(self, agent, admin, settings):
        ticket = new_ticket(agent)
        ping(agent, ticket, [admin.pk])
        n = Notification.objects.get()
        settings.MAILERS = {"default": parse_email_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")}
        with pytest.raises(OSError):
            services.send_notification_email(notification_id=n.pk)
        n.refresh_from_db()
        assert n.emailed_at is None  # the task's retry will send it
