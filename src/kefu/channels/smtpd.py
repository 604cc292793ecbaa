"""`kefu smtpd`: an SMTP server receiving mail for the mailboxes, for an MTA (Postfix, Exim, a cloud
mail relay) that forwards or pipes support mail to kefu instead of kefu polling IMAP.

- RCPT TO is accepted only for the address of an active mailbox (case-insensitive), else
  "550 5.1.1 mailbox unknown";
- a message over a recipient mailbox's size limit gets "552 5.3.4 Message too big (limit N MB)";
- each accepted message goes to `receive_email` once per recipient mailbox (idempotent by
  Message-ID); when that fails the answer is "451 4.3.0 temporary failure, try again" so the
  sending MTA keeps the message and retries.

There is no AUTH and no TLS: listen on loopback (the default) or a private network behind the MTA.
The Django ORM is synchronous: every database call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import functools
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections
from django.db.models import Max

from kefu.audit.context import audit_context
from kefu.channels.models import Mailbox
from kefu.channels.services.inbound import receive_email

log = logging.getLogger("kefu.channels")

MB = 1024 * 1024
DEFAULT_LIMIT_MB = 20
UNKNOWN = "550 5.1.1 mailbox unknown"
TEMPORARY = "451 4.3.0 temporary failure, try again"
# aiosmtpd's own answers when a message is over data_size_limit (SIZE= in MAIL FROM, or the DATA)
AIOSMTPD_TOO_BIG = ("552 Error: Too much mail data", "552 Error: message size exceeds fixed maximum")


def too_big(limit_bytes: int) -> str:
    return f"552 5.3.4 Message too big (limit {limit_bytes // MB} MB)"


def _in_thread[T](fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run a sync ORM function in a worker thread; its database connection is closed afterwards (pool
    threads would otherwise keep idle connections open, and mail is rare enough to reconnect)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False)


def _active_mailbox(address: str) -> Mailbox | None:
    return Mailbox.objects.filter(is_active=True, address__iexact=address.strip()).first()


def largest_limit() -> int:
    """The largest size limit of any active mailbox, in bytes (aiosmtpd's data_size_limit)."""
    mb = Mailbox.objects.filter(is_active=True).aggregate(mb=Max("max_message_mb"))["mb"]
    return (mb or DEFAULT_LIMIT_MB) * MB


def _lookup(address: str) -> tuple[Mailbox | None, int]:
    return _active_mailbox(address), largest_limit()


def _mailboxes_for(addresses: list[str]) -> list[Mailbox]:
    """The active mailboxes among the recipients, each once, in recipient order."""
    found: dict[int, Mailbox] = {}
    for address in addresses:
        mailbox = _active_mailbox(address)
        if mailbox is not None:
            found.setdefault(mailbox.pk, mailbox)
    return list(found.values())


def _receive(mailbox_ids: list[int], raw: bytes) -> list[bool]:
    """receive_email for each mailbox; True where the message was new."""
    created = []
    with audit_context("smtpd"):
        for mailbox in Mailbox.objects.filter(pk__in=mailbox_ids).order_by("pk"):
            created.append(receive_email(mailbox=mailbox, raw=raw, source="smtpd").created)
    return created


class KefuSmtpHandler:
    """aiosmtpd handler: recipients are the active mailboxes, messages go to the inbound service."""

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            mailbox, limit = await _in_thread(_lookup)(address)
        except Exception:
            log.exception("smtpd: recipient lookup failed")
            return TEMPORARY
        if mailbox is None:
            log.info("smtpd: %s refused (no such mailbox), peer %s", address, session.peer)
            return UNKNOWN
        server.data_size_limit = limit  # follows the mailboxes' limits without a restart
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw: bytes = envelope.original_content or b""
        try:
            mailboxes = await _in_thread(_mailboxes_for)(list(envelope.rcpt_tos))
        except Exception:
            log.exception("smtpd: recipient lookup failed")
            return TEMPORARY
        if not mailboxes:  # deactivated since RCPT
            return UNKNOWN
        over = [m.max_message_bytes for m in mailboxes if len(raw) > m.max_message_bytes]
        if over:
            log.info(
                "smtpd: %d bytes from %s refused: over the limit of %s",
                len(raw),
                envelope.mail_from,
                ", ".join(m.address for m in mailboxes if len(raw) > m.max_message_bytes),
            )
            return too_big(min(over))
        try:
            created = await _in_thread(_receive)([m.pk for m in mailboxes], raw)
        except Exception:
            log.exception(
                "smtpd: could not store a message from %s for %s (%d bytes); asked the sender to retry",
                envelope.mail_from,
                ", ".join(m.address for m in mailboxes),
                len(raw),
            )
            return TEMPORARY
        log.info(
            "smtpd: %d bytes from %s for %s (%d new)",
            len(raw),
            envelope.mail_from,
            ", ".join(m.address for m in mailboxes),
            sum(created),
        )
        return "250 OK"


class KefuSMTP(SMTP):
    """aiosmtpd's SMTP session, answering "message too big" the way kefu's handler does."""

    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802 (aiosmtpd verb method)
        await self._follow_limits()
        await super().smtp_EHLO(hostname)

    async def smtp_MAIL(self, arg: str) -> None:  # noqa: N802
        await self._follow_limits()
        await super().smtp_MAIL(arg)

    async def _follow_limits(self) -> None:
        """The SIZE announced at EHLO and checked at MAIL FROM follows the mailboxes' limits, so a
        raised limit takes effect without a restart (RCPT then narrows it to the recipient's)."""
        try:
            self.data_size_limit = await _in_thread(largest_limit)()
        except Exception:
            log.exception(
                "smtpd: could not read the mailboxes' size limits; keeping %s", self.data_size_limit
            )

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith(AIOSMTPD_TOO_BIG):
            status = too_big(self.data_size_limit or 0)
        await super().push(status)


class KefuController(Controller):
    def factory(self) -> SMTP:
        return KefuSMTP(self.handler, **self.SMTP_kwargs)


def start_smtpd(
    host: str = "127.0.0.1", port: int = 2525, *, data_size_limit: int | None = None
) -> Controller:
    """Start the SMTP server in a background thread; `controller.stop()` ends it."""
    if data_size_limit is None:
        close_old_connections()
        try:
            data_size_limit = largest_limit()
        finally:
            close_old_connections()
    controller = KefuController(
        KefuSmtpHandler(),
        hostname=host,
        port=port,
        data_size_limit=data_size_limit,
        ident="kefu smtpd",
        # aiosmtpd would look up its FQDN (a DNS query) for every connection
        server_hostname=socket.gethostname(),
    )
    controller.start()
    return controller
