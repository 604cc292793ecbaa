"""The real mail servers the channel tests use: Dovecot stores and serves mail, the SMTP sink delivers
into it — so a test can follow a mail from kefu's SMTP client to the customer's IMAP inbox."""

from __future__ import annotations

import imaplib
import smtplib
import uuid
from email.message import EmailMessage

import pytest


def unique_address(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.cn"


def make_mail(to: str, subject: str, body: str = "你好，冰箱不制冷了。") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "李雷 <li.lei@example.cn>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.cn>"
    mail.set_content(body)
    return mail


class TestDovecot:
    def test_delivered_mail_is_fetched_back_in_order_and_unseen(self, dovecot):
        # given a user with a password
        address = unique_address("wang")
        dovecot.add_user(address, "冰箱-pass:1")
        # when two mails are delivered to the user's INBOX
        first = make_mail(address, "第一封")
        second = make_mail(address, "第二封")
        uid1 = dovecot.deliver(address, first.as_bytes())
        uid2 = dovecot.deliver(address, second)
        # then the user reads both, in UID order, byte for byte (with CRLF line ends), still unseen
        assert uid2 > uid1 > 0
        raws = dovecot.fetch_all(address, "冰箱-pass:1")
        assert raws == [first.as_bytes().replace(b"\n", b"\r\n"), second.as_bytes().replace(b"\n", b"\r\n")]
        assert [flags for _uid, _raw, flags in dovecot.messages(address)] == [set(), set()]

    def test_logins_follow_the_passwords_set_at_run_time(self, dovecot):
        # given a user whose password then changes
        address = unique_address("han")
        dovecot.add_user(address, "old")
        dovecot.add_user(address, "new")
        # then only the new password logs in, over plain IMAP on loopback, as a mail client would
        conn = imaplib.IMAP4(dovecot.host, dovecot.port)
        with pytest.raises(imaplib.IMAP4.error):
            conn.login(address, "old")
        assert conn.login(address, "new")[0] == "OK"
        conn.logout()

    def test_clear_empties_the_inbox(self, dovecot):
        # given a mailbox with mail
        address = unique_address("zhao")
        dovecot.deliver(address, make_mail(address, "旧邮件"))
        # when it is cleared
        dovecot.clear(address)
        # then it is empty
        assert dovecot.fetch_all(address, dovecot.password(address)) == []


class TestSmtpSink:
    def test_mail_sent_over_smtp_lands_in_each_recipients_inbox(self, smtp_sink, dovecot):
        # given two customers with mailboxes
        to, cc = unique_address("customer"), unique_address("colleague")
        dovecot.add_user(to, "pw-1")
        mail = make_mail(to, "您的工单 T2026112400001 已受理")
        mail["Cc"] = cc
        # when kefu's side sends through the sink with a login, as an SMTP client would
        with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
            client.login("kefu", "secret")
            refused = client.send_message(mail)
        # then it is accepted, recorded with its envelope, and readable over IMAP by both recipients
        assert refused == {}
        assert len(smtp_sink.messages) == 1
        received = smtp_sink.messages[0]
        assert received.rcpt_tos == [to, cc] and received.mail_from == "li.lei@example.cn"
        assert received.login == "kefu"
        assert received.message["Subject"] == "您的工单 T2026112400001 已受理"
        for address in (to, cc):
            (raw,) = dovecot.fetch_all(address, dovecot.password(address))
            assert mail["Message-ID"].encode() in raw
