"""Inbound mail → tickets: threading by headers and ticket number, idempotency, auto-replies,
bounces, size limits; and the outbound side of replies (headers that thread in the customer's client)."""

from __future__ import annotations

import email as stdlib_email
import hashlib
import socket
from email.message import EmailMessage as Mail
from email.policy import default as default_policy

import pytest
from django.core import mail
from django.test import override_settings

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.channels.choices import Direction, MailStatus, Security
from kefu.channels.mime import parse_message
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.services import outbound
from kefu.channels.services.inbound import (
    _header_message_id,
    receive_email,
    reject_too_large,
    stored_message_id,
)
from kefu.channels.tests.mailcorpus import NAMES, load
from kefu.core.permissions import Role
from kefu.customers.models import Identity
from kefu.tickets import services as tickets
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import Channel, MessageKind, Status
from kefu.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

SUPPORT = "support@kefu.test"
CUSTOMER = "li.lei@example.cn"


@pytest.fixture
def team():
    return TeamFactory(name="邮件组")


@pytest.fixture
def mailbox(team):
    return Mailbox.objects.create(name="客服中心", address=SUPPORT, team=team)


@pytest.fixture
def agent(team):
    user = UserFactory(role=Role.AGENT, username="mail-agent")
    user.teams.add(team)
    return user


_counter = iter(range(1, 10_000))


def make_mail(
    *,
    subject="冰箱不制冷",
    body="你好，我家的冰箱不制冷了，型号 BCD-520。",
    sender=f"李雷 <{CUSTOMER}>",
    to=SUPPORT,
    message_id=None,
    in_reply_to=None,
    references=None,
    headers=None,
    attachments=(),
) -> bytes:
    m = Mail()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<{message_id or f'm{next(_counter)}@example.cn'}>"
    if in_reply_to:
        m["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        m["References"] = " ".join(f"<{r}>" for r in references)
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def receive(mailbox, raw):
    return receive_email(mailbox=mailbox, raw=raw, source="test")


def sent_mail(email_row: EmailMessage):
    with email_row.raw.open("rb") as fh:
        return stdlib_email.message_from_bytes(fh.read(), policy=default_policy)


class TestNewMail:
    def test_a_new_mail_makes_a_ticket_for_the_sender_and_acknowledges_it(
        self, mailbox, team, django_capture_on_commit_callbacks
    ):
        # given a mail from an unknown address
        raw = make_mail()
        # when it is received
        with django_capture_on_commit_callbacks(execute=True):
            result = receive(mailbox, raw)
        # then a ticket of channel email lands in the mailbox's team, for a customer found by that address
        email = result.email
        assert result.created and email.status == MailStatus.NEW_TICKET
        ticket = email.ticket
        assert (ticket.channel, ticket.team_id, ticket.subject) == (Channel.EMAIL, team.pk, "冰箱不制冷")
        assert "型号 BCD-520" in ticket.description
        assert Identity.objects.get(kind="email", value=CUSTOMER).customer_id == ticket.customer_id
        assert ticket.customer.name == "李雷"
        # and the raw message is kept for audit, and the arrival is an audit event on the ticket
        with email.raw.open("rb") as fh:
            assert fh.read() == raw
        assert AuditEvent.objects.filter(verb="email.received", ticket_id=ticket.pk).exists()
        # and the sender got one acknowledgement with the ticket number, threaded under their mail
        ack = EmailMessage.objects.get(direction=Direction.OUTBOUND)
        assert ack.status == MailStatus.SENT and ack.is_auto
        assert len(mail.outbox) == 1
        out = mail.outbox[0]
        assert out.to == [CUSTOMER] and ticket.number in out.subject
        assert out.extra_headers["In-Reply-To"] == f"<{email.message_id}>"
        assert out.extra_headers["Auto-Submitted"] == "auto-replied"
        assert ticket.number in out.body and "工单号" in out.body

    def test_the_same_message_twice_is_one_record_and_one_ticket(self, mailbox):
        # given a mail already received
        raw = make_mail(message_id="dup-1@example.cn")
        first = receive(mailbox, raw)
        # when the same message arrives again (IMAP re-read, or also piped through smtpd)
        again = receive(mailbox, raw)
        # then nothing new is stored
        assert not again.created and again.email.pk == first.email.pk
        assert EmailMessage.objects.filter(direction=Direction.INBOUND).count() == 1
        assert Ticket.objects.count() == 1

    def test_a_known_customer_writing_with_a_new_subject_gets_a_new_ticket(self, mailbox):
        # given a customer with an open email ticket
        first = receive(mailbox, make_mail(subject="冰箱不制冷")).email.ticket
        # when they write again about something else, without reply headers
        second = receive(mailbox, make_mail(subject="洗衣机漏水")).email
        # then that is a second ticket for the same customer
        assert second.status == MailStatus.NEW_TICKET
        assert second.ticket_id != first.pk and second.ticket.customer_id == first.customer_id

    def test_attachments_are_kept_and_refused_types_stay_in_the_original(self, mailbox):
        # given a mail with a PNG photo and an executable
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        raw = make_mail(
            attachments=[
                ("故障照片.png", png, "image/png"),
                ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream"),
            ]
        )
        # when it is received
        email = receive(mailbox, raw).email
        # then the photo is on the ticket, the executable only in the raw mail, and the record says so
        files = list(email.ticket.attachments.values_list("filename", "content_type"))
        assert files == [("故障照片.png", "image/png")]
        assert "setup.exe" in email.error

    def test_mail_from_one_of_our_own_mailboxes_is_ignored(self, mailbox):
        # given a mail whose sender is our own support address (a loop)
        raw = make_mail(sender=f"客服中心 <{SUPPORT}>")
        # when it is received
        email = receive(mailbox, raw).email
        # then it is recorded, makes no ticket and is not answered
        assert email.status == MailStatus.IGNORED and email.ticket_id is None
        assert not EmailMessage.objects.filter(direction=Direction.OUTBOUND).exists()


class TestThreading:
    def test_agent_reply_threads_and_the_customers_answer_lands_on_the_same_ticket(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given a ticket made from a customer's mail
        original = receive(mailbox, make_mail(message_id="orig-1@example.cn", subject="冰箱不制冷")).email
        ticket = original.ticket
        mail.outbox.clear()
        # when the agent replies from the console
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(
                actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="请提供购买凭证。"
            )
        # then a mail goes to the customer with our Message-ID, In-Reply-To and References, number in subject
        reply = EmailMessage.objects.get(direction=Direction.OUTBOUND, is_auto=False)
        assert reply.status == MailStatus.SENT and reply.ticket_id == ticket.pk
        out = mail.outbox[-1]
        assert out.to == [CUSTOMER]
        assert out.subject == f"Re: 冰箱不制冷 [{ticket.number}]"
        assert out.extra_headers["In-Reply-To"] == "<orig-1@example.cn>"
        assert out.extra_headers["References"] == "<orig-1@example.cn>"
        assert out.extra_headers["Message-ID"] == f"<{reply.message_id}>"
        assert out.body == "请提供购买凭证。"
        # and the sent bytes are kept, and the timeline says it was mailed
        assert sent_mail(reply)["Message-ID"] == f"<{reply.message_id}>"
        assert AuditEvent.objects.filter(verb="email.sent", ticket_id=ticket.pk).exists()
        # when the customer answers that mail (their client quotes our reply below theirs)
        answer = make_mail(
            subject=f"回复：{out.subject}",
            body="发票在附件里。\n\n在 2026年11月24日 10:00，客服中心 写道：\n> 请提供购买凭证。\n",
            in_reply_to=reply.message_id,
            references=["orig-1@example.cn", reply.message_id],
        )
        with django_capture_on_commit_callbacks(execute=True):
            got = receive(mailbox, answer).email
        # then it is a customer message on the same ticket, with the quoted history trimmed
        assert got.status == MailStatus.APPENDED and got.ticket_id == ticket.pk
        msg = Message.objects.get(pk=got.ticket_message_id)
        assert (msg.kind, msg.body) == (MessageKind.CUSTOMER, "发票在附件里。")
        assert Ticket.objects.count() == 1
        # and nothing automatic answered it
        assert EmailMessage.objects.filter(direction=Direction.OUTBOUND).count() == 2  # ack + agent reply

    def test_the_agents_attachments_go_out_with_the_reply(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given an email ticket
        ticket = receive(mailbox, make_mail(message_id="att-root@example.cn")).email.ticket
        mail.outbox.clear()
        pdf = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        manual = IncomingFile("安装说明.pdf", pdf, "application/pdf", hashlib.sha256(pdf).hexdigest())
        # when the agent replies with a file
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(
                actor=agent,
                ticket_id=ticket.pk,
                kind=MessageKind.REPLY,
                body="说明书见附件。",
                files=[manual],
            )
        # then the mail carries it, under its Chinese name
        sent = stdlib_email.message_from_bytes(mail.outbox[-1].message().as_bytes(), policy=default_policy)
        parts = [(p.get_filename(), p.get_content()) for p in sent.iter_attachments()]
        assert parts == [("安装说明.pdf", pdf)]

    def test_mail_from_a_web_form_is_answered_at_its_reply_to(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given a mail relayed by a website's contact form: From the site, Reply-To the customer
        raw = make_mail(
            sender="官网表单 <forms@shop.example>", headers={"Reply-To": "陈晨 <chen@example.cn>"}
        )
        with django_capture_on_commit_callbacks(execute=True):
            ticket = receive(mailbox, raw).email.ticket
        # then the customer is the Reply-To address, and the acknowledgement and replies go there
        assert Identity.objects.get(customer=ticket.customer, kind="email").value == "chen@example.cn"
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="您好")
        assert [m.to for m in mail.outbox] == [["chen@example.cn"], ["chen@example.cn"]]

    def test_reply_found_by_references_when_in_reply_to_is_unknown(self, mailbox):
        # given a ticket from a mail
        ticket = receive(mailbox, make_mail(message_id="root@example.cn")).email.ticket
        # when a reply names an unknown parent but the root in References
        got = receive(
            mailbox,
            make_mail(
                subject="Re: 冰箱", in_reply_to="unknown@x", references=["root@example.cn", "unknown@x"]
            ),
        ).email
        # then it lands on that ticket
        assert got.status == MailStatus.APPENDED and got.ticket_id == ticket.pk

    def test_ticket_number_in_subject_threads_only_for_that_tickets_customer(self, mailbox):
        # given a ticket from a customer
        ticket = receive(mailbox, make_mail()).email.ticket
        # when the customer writes from a new client without headers but with the number in the subject
        same = receive(mailbox, make_mail(subject=f"关于工单 [{ticket.number}] 的补充")).email
        # then it lands on the ticket
        assert same.status == MailStatus.APPENDED and same.ticket_id == ticket.pk
        # when a stranger quotes the same number
        other = receive(mailbox, make_mail(subject=f"[{ticket.number}]", sender="x@evil.example")).email
        # then the stranger gets a ticket of their own
        assert other.status == MailStatus.NEW_TICKET and other.ticket_id != ticket.pk

    def test_a_reply_to_a_closed_ticket_opens_a_follow_up(self, mailbox, agent):
        # given a closed email ticket
        original = receive(mailbox, make_mail(message_id="closed-1@example.cn")).email
        ticket = original.ticket
        for to in (Status.OPEN, Status.SOLVED, Status.CLOSED):
            tickets.transition_ticket(actor=agent, ticket_id=ticket.pk, to=to)
        # when the customer answers the old thread
        got = receive(
            mailbox, make_mail(subject="Re: 冰箱不制冷", in_reply_to="closed-1@example.cn", body="又坏了")
        ).email
        # then a follow-up ticket names the old one
        assert got.status == MailStatus.FOLLOW_UP and got.ticket_id != ticket.pk
        assert ticket.number in got.ticket.description and "又坏了" in got.ticket.description


class TestMachines:
    def test_an_auto_reply_is_recorded_on_its_thread_and_never_answered(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given a ticket the agent answered by mail
        ticket = receive(mailbox, make_mail(message_id="ooo-root@example.cn")).email.ticket
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="您好")
        reply = EmailMessage.objects.get(direction=Direction.OUTBOUND, is_auto=False)
        outgoing = EmailMessage.objects.filter(direction=Direction.OUTBOUND).count()
        # when the customer's out-of-office answers it
        auto = make_mail(
            subject="自动回复: Re: 冰箱不制冷",
            body="我正在休假，11月30日返回。",
            in_reply_to=reply.message_id,
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
        )
        with django_capture_on_commit_callbacks(execute=True):
            got = receive(mailbox, auto).email
        # then it is on the ticket's record but is not a customer message, reopens nothing, answers nothing
        assert got.status == MailStatus.AUTO_REPLY and got.ticket_id == ticket.pk and got.is_auto
        assert got.ticket_message_id is None
        assert not Message.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER).exists()
        assert AuditEvent.objects.filter(verb="email.auto_reply", ticket_id=ticket.pk).exists()
        assert EmailMessage.objects.filter(direction=Direction.OUTBOUND).count() == outgoing

    def test_an_auto_reply_with_a_new_subject_makes_no_ticket(self, mailbox):
        # when a robot writes in
        got = receive(
            mailbox, make_mail(subject="Out of Office", headers={"Auto-Submitted": "auto-replied"})
        ).email
        # then no ticket and no acknowledgement
        assert got.status == MailStatus.AUTO_REPLY and got.ticket_id is None
        assert (
            not Ticket.objects.exists()
            and not EmailMessage.objects.filter(direction=Direction.OUTBOUND).exists()
        )

    def test_a_bounce_marks_our_mail_failed_and_tells_the_assignee(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given an assigned email ticket whose reply went out
        ticket = receive(mailbox, make_mail(message_id="b-root@example.cn")).email.ticket
        tickets.update_ticket(actor=agent, ticket_id=ticket.pk, changes={"assignee_id": agent.pk})
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="您好")
        reply = EmailMessage.objects.get(direction=Direction.OUTBOUND, is_auto=False)
        # when the receiving server sends a delivery-status notification for it
        dsn = (
            "From: Mail Delivery System <MAILER-DAEMON@example.cn>\r\n"
            f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Message-ID: <dsn-1@example.cn>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
            f"Final-Recipient: rfc822; {CUSTOMER}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{reply.message_id}>\r\n"
            "Subject: Re: x\r\n\r\n--B--\r\n"
        ).encode()
        with django_capture_on_commit_callbacks(execute=True):
            got = receive(mailbox, dsn).email
        # then the bounce is linked to the ticket, our mail is failed, and the assignee is notified
        assert got.status == MailStatus.BOUNCE and got.ticket_id == ticket.pk
        reply.refresh_from_db()
        assert reply.status == MailStatus.FAILED and CUSTOMER in reply.error
        event = AuditEvent.objects.get(verb="email.bounced", ticket_id=ticket.pk)
        assert agent.notifications.filter(event=event).exists()


class TestSizeLimit:
    def test_mail_over_the_limit_is_rejected_with_a_clear_notice(
        self, mailbox, django_capture_on_commit_callbacks
    ):
        # given a mailbox that accepts 1 MB
        mailbox.max_message_mb = 1
        mailbox.save()
        raw = make_mail(
            attachments=[("视频.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1_200_000, "video/mp4")]
        )
        # when a 1.2 MB mail arrives
        with django_capture_on_commit_callbacks(execute=True):
            got = receive(mailbox, raw).email
        # then no ticket; the record says why; the sender is told the size and the limit
        assert got.status == MailStatus.TOO_LARGE and got.ticket_id is None and not Ticket.objects.exists()
        assert "1 MB" in got.error
        notice = mail.outbox[-1]
        assert notice.to == [CUSTOMER] and "1 MB" in notice.body and "退信" in notice.subject
        assert notice.extra_headers["Auto-Submitted"] == "auto-replied"

    def test_rejecting_by_headers_alone_is_idempotent(self, mailbox):
        # given only the headers of a too-large mail (IMAP does not download it)
        headers = make_mail(message_id="big@example.cn").split(b"\n\n")[0] + b"\n\n"
        first = reject_too_large(mailbox=mailbox, headers=headers, size=30 * 1024 * 1024, source="imap")
        again = reject_too_large(mailbox=mailbox, headers=headers, size=30 * 1024 * 1024, source="imap")
        assert first.created and not again.created and first.email.pk == again.email.pk
        assert first.email.size == 30 * 1024 * 1024


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestSendingFailures:
    @override_settings(HUEY={"immediate": True})
    def test_an_unreachable_smtp_server_is_retried_then_marked_failed(
        self, mailbox, agent, django_capture_on_commit_callbacks
    ):
        # given a mailbox whose SMTP server is down, and an assigned email ticket
        ticket = receive(mailbox, make_mail(message_id="down-root@example.cn")).email.ticket
        mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security = (
            "127.0.0.1",
            closed_port(),
            Security.NONE,
        )
        mailbox.save()
        tickets.update_ticket(actor=agent, ticket_id=ticket.pk, changes={"assignee_id": agent.pk})
        # when the agent replies
        with django_capture_on_commit_callbacks(execute=True):
            tickets.add_message(actor=agent, ticket_id=ticket.pk, kind=MessageKind.REPLY, body="您好")
        reply = EmailMessage.objects.get(direction=Direction.OUTBOUND, is_auto=False)
        # then the mail stays queued with a next attempt
        assert (reply.status, reply.attempts) == (MailStatus.QUEUED, 1) and reply.next_attempt_at is not None
        # when every retry fails too
        for _ in range(len(outbound.RETRY_MINUTES)):
            outbound.send_email(email_id=reply.pk)
        # then it is failed, and the assignee hears about it
        reply.refresh_from_db()
        assert reply.status == MailStatus.FAILED and reply.attempts == len(outbound.RETRY_MINUTES) + 1
        assert "ConnectionRefused" in reply.error
        event = AuditEvent.objects.get(verb="email.failed", ticket_id=ticket.pk)
        assert agent.notifications.filter(event=event).exists()


class TestTicketPage:
    def test_the_ticket_timeline_links_to_the_received_mail(self, mailbox, agent, client):
        # given a ticket made from a mail
        email = receive(mailbox, make_mail()).email
        # when the team's agent opens the ticket
        client.force_login(agent)
        page = client.get(f"/tickets/{email.ticket_id}/").content.decode()
        # then the arrival of the mail links to the mail itself, which the agent may open
        assert f'href="/channels/mail/{email.pk}/"' in page
        assert client.get(f"/channels/mail/{email.pk}/").status_code == 200


class TestHeaderOnlyDuplicateCheck:
    @pytest.mark.parametrize("name", NAMES)
    def test_the_header_message_id_is_the_one_the_full_parse_stores(self, name):
        # given every mail of the corpus
        raw = load(name)
        # then the quick header read agrees with the full parse whenever the mail has a Message-ID
        early = _header_message_id(raw)
        assert early in ("", stored_message_id(parse_message(raw).message_id))
        assert (early == "") == (name == "no_message_id.eml")
