"""SMTP connections for a mailbox's outbound mail (replies, acknowledgements, bounces).

A mailbox with an SMTP host sends through it; one without sends through the site mailer
(`KEFU_EMAIL_URL`, files under DATA_DIR/mail when unset). Errors never carry the password."""

from __future__ import annotations

import smtplib
import ssl

from django.core import mail

from kefu.channels.choices import Security
from kefu.channels.models import Mailbox

DEFAULT_PORTS = {Security.NONE: 25, Security.STARTTLS: 587, Security.SSL: 465}


def open_smtp(mailbox: Mailbox, timeout: float = 30) -> smtplib.SMTP:
    """A connected SMTP session for the mailbox, logged in when it has credentials."""
    port = mailbox.smtp_port or DEFAULT_PORTS.get(Security(mailbox.smtp_security), 25)
    conn: smtplib.SMTP
    if mailbox.smtp_security == Security.SSL:
        conn = smtplib.SMTP_SSL(
            mailbox.smtp_host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(mailbox.smtp_host, port, timeout=timeout)
        if mailbox.smtp_security == Security.STARTTLS:
            conn.starttls(context=ssl.create_default_context())
    try:
        if mailbox.smtp_username and mailbox.smtp_password:
            conn.login(mailbox.smtp_username, mailbox.smtp_password)
    except BaseException:
        conn.close()
        raise
    return conn


def send_raw(mailbox: Mailbox | None, msg: mail.EmailMessage) -> None:
    """Send a composed Django mail: through the mailbox's SMTP server, or the site mailer."""
    if mailbox is None or not mailbox.smtp_host:
        msg.send()
        return
    message = msg.message()
    # SMTP lines end in CRLF; smtplib passes bytes through as they are
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    conn = open_smtp(mailbox)
    try:
        conn.sendmail(msg.from_email, msg.recipients(), data)
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
