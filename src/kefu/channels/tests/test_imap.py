"""The IMAP poller against a real Dovecot: new mail in UID order → the inbound service, \\Seen and
imap_last_uid only after it is stored, nothing twice, big mail not downloaded, failures retried."""

from __future__ import annotations

import socket
import uuid
from email.message import EmailMessage as Mail

import pytest

from kefu.accounts.tests.factories import TeamFactory
from kefu.audit.models import AuditEvent
from kefu.channels.choices import Direction, MailStatus, Security
from kefu.channels.imap import poll_mailbox
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.tests.mailcorpus import load, make_large_message

pytestmark = pytest.mark.django_db

SUPPORT = "support@kefu.test"
PASSWORD = "imap-s3cret"


def make_mail(subject: str, *, body: str = "你好，我家的冰箱不制冷了。") -> bytes:
    m = Mail()
    m["From"] = f"李雷 <li.lei.{uuid.uuid4().hex[:6]}@example.cn>"
    m["To"] = SUPPORT
    m["Subject"] = subject
    m["Message-ID"] = f"<{uuid.uuid4().hex}@example.cn>"
    m.set_content(body)
    return m.as_bytes()


def corpus_mail(name: str) -> bytes:
    """A real-world-shaped mail from the corpus, to the support address, with a fresh Message-ID."""
    return load(name, to_addr=SUPPORT, message_id=f"{uuid.uuid4().hex}@example.cn")


def message_id(raw: bytes) -> str:
    for line in raw.splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().strip(b"<>").decode()
    raise AssertionError("no Message-ID")


def inbound_ids() -> list[str]:
    return list(
        EmailMessage.objects.filter(direction=Direction.INBOUND)
        .order_by("id")
        .values_list("message_id", flat=True)
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox(dovecot):
    """support@kefu.test polled from an empty INBOX on the test Dovecot."""
    dovecot.add_user(SUPPORT, PASSWORD)
    dovecot.clear(SUPPORT)
    return Mailbox.objects.create(
        name="客服中心",
        address=SUPPORT,
        team=TeamFactory(name="邮件组"),
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security=Security.NONE,
        imap_username=SUPPORT,
        imap_password=PASSWORD,
    )


def poll(mailbox: Mailbox):
    result = poll_mailbox(mailbox.pk)
    mailbox.refresh_from_db()
    return result


class TestPolling:
    def test_new_mail_is_received_in_uid_order_then_marked_seen(self, dovecot, mailbox):
        # given three customer mails from different clients and charsets in the support INBOX
        raws = [corpus_mail(name) for name in ("gbk_outlook", "gb18030_plain", "multipart_alternative")]
        uids = [dovecot.deliver(SUPPORT, raw) for raw in raws]
        # when the mailbox is polled
        result = poll(mailbox)
        # then each became a ticket, received in UID order, from IMAP
        assert (result.fetched, result.stored, result.duplicates, result.errors) == (3, 3, 0, 0)
        assert inbound_ids() == [message_id(raw) for raw in raws]
        emails = EmailMessage.objects.filter(direction=Direction.INBOUND).order_by("id")
        assert [(e.source, e.status) for e in emails] == [("imap", MailStatus.NEW_TICKET)] * 3
        assert [e.subject for e in emails] == [
            "保修咨询：电水壶无法加热（王堃）",
            "退货申请 订单号20261124008（王堃）",
            "Blender jar cracked after two weeks",
        ]
        assert AuditEvent.objects.filter(verb="email.received").count() == 3
        # and the server shows them read, and the mailbox remembers where it stopped
        assert [(uid, r"\Seen" in flags) for uid, _raw, flags in dovecot.messages(SUPPORT)] == [
            (uid, True) for uid in uids
        ]
        assert mailbox.imap_last_uid == uids[-1]
        assert mailbox.imap_uidvalidity == dovecot.uidvalidity(SUPPORT)
        assert mailbox.last_polled_at is not None and mailbox.last_error == ""

    def test_a_second_poll_fetches_only_what_is_new(self, dovecot, mailbox):
        # given a polled mailbox
        dovecot.deliver(SUPPORT, make_mail("旧邮件"))
        poll(mailbox)
        # when nothing new arrived, a poll fetches nothing (even though "UID n:*" matches the last one)
        assert poll(mailbox).fetched == 0
        # and when one more mail arrives, only that one is fetched
        newer = make_mail("新邮件")
        uid = dovecot.deliver(SUPPORT, newer)
        result = poll(mailbox)
        assert (result.fetched, result.stored) == (1, 1)
        assert inbound_ids()[-1] == message_id(newer) and len(inbound_ids()) == 2
        assert mailbox.imap_last_uid == uid

    def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(self, dovecot, mailbox):
        # given two mails already received, one of them without a Message-ID
        dovecot.deliver(SUPPORT, make_mail("第1封"))
        dovecot.deliver(SUPPORT, load("no_message_id", to_addr=SUPPORT))
        poll(mailbox)
        last_uid = mailbox.imap_last_uid
        # when the server's UIDVALIDITY no longer matches (folder rebuilt, mailbox moved to a new server)
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=12345, imap_last_uid=999)
        result = poll(mailbox)
        # then the folder is read from the start, and the same mails make no new records
        assert (result.fetched, result.stored, result.duplicates) == (2, 0, 2)
        assert len(inbound_ids()) == 2
        assert mailbox.imap_uidvalidity == dovecot.uidvalidity(SUPPORT)
        assert mailbox.imap_last_uid == last_uid

    def test_a_message_over_the_size_limit_is_rejected_without_downloading_it(self, dovecot, mailbox):
        # given a mailbox accepting 1 MB, and a 1.4 MB mail (a 1 MB PDF) followed by a small one
        mailbox.max_message_mb = 1
        mailbox.save()
        big = make_large_message(
            1, to_addr=SUPPORT, from_addr="li.lei@example.cn", message_id=f"{uuid.uuid4().hex}@x.cn"
        )
        small = make_mail("文字说明")
        dovecot.deliver(SUPPORT, big)
        dovecot.deliver(SUPPORT, small)
        sessions = len(dovecot.sessions_out_bytes(SUPPORT))
        # when the mailbox is polled
        result = poll(mailbox)
        # then the big one is recorded as too large (from its headers alone) and the small one is stored
        assert (result.fetched, result.rejected_too_large, result.stored) == (2, 1, 1)
        rejected = EmailMessage.objects.get(message_id=message_id(big))
        assert rejected.status == MailStatus.TOO_LARGE and rejected.ticket_id is None
        assert rejected.size > 1024 * 1024 and rejected.subject == "大附件 / large attachment"
        with rejected.raw.open("rb") as fh:
            kept = fh.read()
        assert b"Subject:" in kept and b"large-1mb.pdf" not in kept
        # and the poller's IMAP session never carried the body
        poller_session = dovecot.sessions_out_bytes(SUPPORT, at_least=sessions + 1)[sessions]
        assert poller_session < 200_000
        # and both are done on the server
        assert all(r"\Seen" in flags for _uid, _raw, flags in dovecot.messages(SUPPORT))

    def test_more_new_mail_than_the_limit_is_read_over_several_polls(self, dovecot, mailbox):
        # given three new mails
        raws = [make_mail(f"第{n}封") for n in (1, 2, 3)]
        for raw in raws:
            dovecot.deliver(SUPPORT, raw)
        # when polled two at a time
        first = poll_mailbox(mailbox.pk, limit=2)
        second = poll_mailbox(mailbox.pk, limit=2)
        # then the first poll says there is more, and the second takes the rest, in order
        assert (first.fetched, first.more, second.fetched, second.more) == (2, True, 1, False)
        assert inbound_ids() == [message_id(raw) for raw in raws]


class TestFailures:
    def test_a_message_that_cannot_be_stored_stays_unseen_and_is_retried_first(
        self, dovecot, mailbox, settings, tmp_path
    ):
        # given two mails, and storage for raw mail that is broken (a file where a folder should be)
        raws = [make_mail("第1封"), make_mail("第2封")]
        for raw in raws:
            dovecot.deliver(SUPPORT, raw)
        good_media_root = settings.MEDIA_ROOT
        (tmp_path / "blocked").write_bytes(b"")
        settings.MEDIA_ROOT = tmp_path / "blocked" / "uploads"
        # when the mailbox is polled
        result = poll(mailbox)
        # then nothing is stored, the poll stops at the first mail, which stays unread on the server
        assert (result.fetched, result.stored, result.errors) == (0, 0, 1)
        assert inbound_ids() == []
        assert mailbox.imap_last_uid == 0
        assert [flags for _uid, _raw, flags in dovecot.messages(SUPPORT)] == [set(), set()]
        # and the admin sees why, without any mail content
        assert "UID" in mailbox.last_error and "冰箱" not in mailbox.last_error
        # when storage works again, the next poll takes both, in order, and clears the error
        settings.MEDIA_ROOT = good_media_root
        result = poll(mailbox)
        assert (result.fetched, result.stored, result.errors) == (2, 2, 0)
        assert inbound_ids() == [message_id(raw) for raw in raws]
        assert mailbox.last_error == ""

    def test_a_wrong_password_is_reported_without_the_password(self, dovecot, mailbox):
        # given a mailbox whose password is wrong
        mailbox.imap_password = "wrong-Pa55word"
        mailbox.save()
        dovecot.deliver(SUPPORT, make_mail("不会被读取"))
        # when polled
        result = poll(mailbox)
        # then nothing is read, and the error says so without the password
        assert (result.fetched, result.errors) == (0, 1)
        assert "Authentication failed" in mailbox.last_error or "登录" in mailbox.last_error
        assert "wrong-Pa55word" not in mailbox.last_error
        assert mailbox.last_polled_at is not None and mailbox.imap_last_uid == 0

    def test_an_unreachable_server_is_reported(self, mailbox):
        # given a mailbox pointing at a port nobody listens on
        mailbox.imap_port = closed_port()
        mailbox.save()
        # when polled
        result = poll(mailbox)
        # then the error is recorded for the admin
        assert result.errors == 1 and "ConnectionRefusedError" in mailbox.last_error

    def test_inactive_mailboxes_are_not_polled(self, dovecot, mailbox):
        # given an inactive mailbox with mail waiting
        mailbox.is_active = False
        mailbox.save()
        dovecot.deliver(SUPPORT, make_mail("暂停的邮箱"))
        # when polled, nothing happens
        assert poll(mailbox).fetched == 0
        assert mailbox.last_polled_at is None and inbound_ids() == []
