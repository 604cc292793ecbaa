"""Inbound mail: one raw RFC 5322 message in → one EmailMessage record and (usually) a ticket
message, idempotent by Message-ID."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.channels.models import EmailMessage, Mailbox


@dataclass
class ReceiveResult:
    email: EmailMessage
    created: bool  # False when this Message-ID was already stored


def receive_email(*, mailbox: Mailbox, raw: bytes, source: str) -> ReceiveResult:
    """Store the mail and thread it onto a ticket. Safe to call twice with the same message.
    `source` is "imap", "smtpd" or "test"."""
    raise NotImplementedError
