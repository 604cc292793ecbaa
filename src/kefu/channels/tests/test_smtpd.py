"""`kefu smtpd` over real SMTP: only active mailboxes receive mail, size limits answer 552, stored
mail becomes a ticket, and a failure asks the sending MTA to retry (451)."""

from __future__ import annotations

import io
import os
import signal
import smtplib
import threading
import uuid
from email.message import EmailMessage as Mail
from email.policy import SMTP
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from kefu.accounts.tests.factories import TeamFactory
from kefu.channels.choices import Direction, MailStatus
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.smtpd import start_smtpd
from kefu.channels.tests.mailcorpus import load
from kefu.channels.tests.mailservers import free_port

# the server answers from its own threads and database connections: data must be committed
pytestmark = pytest.mark.django_db(transaction=True)

SUPPORT = "support@kefu.test"
CUSTOMER = "li.lei@example.cn"


def make_mail(to: str = SUPPORT, *, subject: str = "冰箱不制冷", attachment: bytes = b"") -> Mail:
    m = Mail()
    m["From"] = f"李雷 <{CUSTOMER}>"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = f"<{uuid.uuid4().hex}@example.cn>"
    m.set_content("你好，我家的冰箱不制冷了，型号 BCD-520。")
    if attachment:
        m.add_attachment(attachment, maintype="video", subtype="mp4", filename="故障视频.mp4")
    return m


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(name="客服中心", address=SUPPORT, team=TeamFactory(name="邮件组"))


@pytest.fixture
def smtpd(mailbox):
    """The real server on a free port, started after the mailboxes exist (like `kefu smtpd`)."""
    controller = start_smtpd("127.0.0.1", free_port())
    try:
        yield controller
    finally:
        controller.stop()


def send(server, mail: Mail, to: list[str] | None = None):
    with smtplib.SMTP(server.hostname, server.port, timeout=10) as client:
        return client.send_message(mail, to_addrs=to)


class TestRecipients:
    def test_mail_for_an_active_mailbox_becomes_a_ticket(self, smtpd, mailbox):
        # given a customer mail to the support address, written in another case
        mail = make_mail(to="Support@KEFU.test")
        # when an MTA hands it over
        refused = send(smtpd, mail)
        # then it is accepted and stored from smtpd, as a new ticket in the mailbox's team
        assert refused == {}
        email = EmailMessage.objects.get(direction=Direction.INBOUND)
        assert email.message_id == mail["Message-ID"].strip("<>")
        assert (email.mailbox_id, email.source, email.status) == (mailbox.pk, "smtpd", MailStatus.NEW_TICKET)
        assert email.ticket.team_id == mailbox.team_id

    def test_raw_8bit_mail_is_stored_byte_for_byte(self, smtpd, mailbox):
        # given a mail with raw GB18030 bytes in its headers and body, as an MTA relays it (CRLF)
        raw = load("gb18030_plain", to_addr=SUPPORT, message_id=f"{uuid.uuid4().hex}@example.net")
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        # when it is handed over
        with smtplib.SMTP(smtpd.hostname, smtpd.port, timeout=10) as client:
            assert client.sendmail("lisi@example.net", [SUPPORT], raw) == {}
        # then kefu keeps exactly those bytes and reads the Chinese subject
        email = EmailMessage.objects.get(direction=Direction.INBOUND)
        with email.raw.open("rb") as fh:
            assert fh.read() == raw
        assert email.subject == "退货申请 订单号20261124008（王堃）"

    def test_unknown_and_inactive_addresses_are_refused(self, smtpd, mailbox):
        # given an inactive mailbox next to the active one
        Mailbox.objects.create(name="旧邮箱", address="old@kefu.test", is_active=False)
        # when mail comes for addresses that are not active mailboxes
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(smtpd, make_mail(to="nobody@kefu.test"), to=["nobody@kefu.test", "old@kefu.test"])
        # then each recipient gets 550 mailbox unknown, and nothing is stored
        assert refused.value.recipients == {
            "nobody@kefu.test": (550, b"5.1.1 mailbox unknown"),
            "old@kefu.test": (550, b"5.1.1 mailbox unknown"),
        }
        assert not EmailMessage.objects.exists()

    def test_mail_for_one_known_and_one_unknown_recipient_is_stored_once(self, smtpd, mailbox):
        # when a mail is addressed to the mailbox and to an unknown address
        refused = send(smtpd, make_mail(), to=[SUPPORT, "nobody@kefu.test"])
        # then only the unknown one is refused and the mail is stored for the mailbox
        assert refused == {"nobody@kefu.test": (550, b"5.1.1 mailbox unknown")}
        assert EmailMessage.objects.filter(direction=Direction.INBOUND, mailbox=mailbox).count() == 1


class TestSizeLimit:
    VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(1_200_000)

    def test_mail_over_a_mailbox_limit_is_refused_with_552_naming_the_limit(self, mailbox):
        # given a 1 MB mailbox next to a 20 MB one
        mailbox.max_message_mb = 1
        mailbox.save()
        big_box = Mailbox.objects.create(name="售后", address="after-sales@kefu.test", max_message_mb=20)
        controller = start_smtpd("127.0.0.1", free_port())
        try:
            # when a 1.2 MB mail comes for the small one
            with pytest.raises(smtplib.SMTPDataError) as refused:
                send(controller, make_mail(attachment=self.VIDEO))
            # then it is refused at DATA, and nothing is stored
            assert refused.value.smtp_code == 552
            assert refused.value.smtp_error == b"5.3.4 Message too big (limit 1 MB)"
            assert not EmailMessage.objects.exists()
            # and the same mail for the big mailbox is accepted
            assert send(controller, make_mail(to=big_box.address, attachment=self.VIDEO)) == {}
            assert EmailMessage.objects.get(direction=Direction.INBOUND).mailbox_id == big_box.pk
        finally:
            controller.stop()

    def test_mail_over_every_limit_gets_the_same_answer(self, mailbox):
        # given only a 1 MB mailbox (so the server's own size limit is 1 MB)
        mailbox.max_message_mb = 1
        mailbox.save()
        controller = start_smtpd("127.0.0.1", free_port())
        try:
            # when a client announces a 1.2 MB mail (SIZE=) it is refused before sending it
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                send(controller, make_mail(attachment=self.VIDEO))
            assert (refused.value.smtp_code, refused.value.smtp_error) == (
                552,
                b"5.3.4 Message too big (limit 1 MB)",
            )
            # and a client that does not announce it is refused after DATA with the same answer
            with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
                client.ehlo()
                client.mail(CUSTOMER)
                client.rcpt(SUPPORT)
                code, text = client.data(make_mail(attachment=self.VIDEO).as_bytes(policy=SMTP))
            assert (code, text) == (552, b"5.3.4 Message too big (limit 1 MB)")
            assert not EmailMessage.objects.exists()
        finally:
            controller.stop()


class TestFailures:
    def test_a_storage_failure_asks_the_sender_to_retry(self, smtpd, settings, tmp_path):
        # given storage for raw mail that is broken (a file where a folder should be)
        good_media_root = settings.MEDIA_ROOT
        (tmp_path / "blocked").write_bytes(b"")
        settings.MEDIA_ROOT = tmp_path / "blocked" / "uploads"
        mail = make_mail()
        # when a mail comes in, the MTA is told to try again later, and nothing is stored
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(smtpd, mail)
        assert (refused.value.smtp_code, refused.value.smtp_error) == (
            451,
            b"4.3.0 temporary failure, try again",
        )
        assert not EmailMessage.objects.exists()
        # when the MTA retries after storage is fixed, the mail is stored once
        settings.MEDIA_ROOT = good_media_root
        assert send(smtpd, mail) == {} and send(smtpd, mail) == {}
        assert EmailMessage.objects.filter(direction=Direction.INBOUND).count() == 1


class TestCommand:
    def test_kefu_smtpd_serves_on_the_configured_port_until_sigterm(self, mailbox, settings):
        # given the port configured (KEFU_SMTPD_PORT in the environment → settings)
        port = free_port()
        settings.KEFU_SMTPD_PORT = port
        listening = threading.Event()
        answers: list = []

        class Output(io.StringIO):
            def write(self, text):
                if "listening" in text:
                    listening.set()
                return super().write(text)

        def client():
            # when it is listening, a mail goes through, then the process gets SIGTERM
            try:
                if listening.wait(20):
                    answers.append(send(SimpleNamespace(hostname="127.0.0.1", port=port), make_mail()))
            finally:
                os.kill(os.getpid(), signal.SIGTERM)

        thread = threading.Thread(target=client)
        thread.start()
        output = Output()
        call_command("smtpd", stdout=output)
        thread.join()
        # then the mail was accepted and the command stopped cleanly
        assert answers == [{}]
        assert EmailMessage.objects.filter(direction=Direction.INBOUND, source="smtpd").count() == 1
        assert f"listening on 127.0.0.1:{port}" in output.getvalue() and "stopped" in output.getvalue()
