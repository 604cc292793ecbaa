"""The IMAP poller: new mail in a mailbox's folder → `receive_email`, one message at a time, in UID order.

A message counts as handled only once `receive_email` (or `reject_too_large`) has returned: then it
is flagged \\Seen on the server and `imap_last_uid` moves past it. A crash in between re-reads the
message next time, which is harmless because receiving is idempotent by Message-ID. A message that
fails stops the poll, so it is retried first next time and mail stays in order.

The caller (a periodic task) makes sure two polls of one mailbox never overlap.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from django.utils.translation import gettext as _

from kefu.audit.context import audit_context
from kefu.channels.choices import Security
from kefu.channels.models import Mailbox
from kefu.channels.services.inbound import receive_email, reject_too_large
from kefu.core import clock
from kefu.core.errors import DomainError

log = logging.getLogger("kefu.channels")

DEFAULT_PORTS: dict[str, int] = {Security.NONE: 143, Security.STARTTLS: 143, Security.SSL: 993}
MAX_ERROR = 1000


@dataclass
class PollResult:
    fetched: int = 0  # new messages handled (stored, duplicates and rejected ones)
    stored: int = 0
    duplicates: int = 0
    rejected_too_large: int = 0
    errors: int = 0
    more: bool = False  # more new messages than `limit`: poll again soon


class ImapError(Exception):
    """The server answered a command with NO or BAD."""


class MessageFailed(Exception):
    """The inbound service raised for one message (the cause)."""


def open_imap(mailbox: Mailbox, timeout: float = 30) -> imaplib.IMAP4:
    """A connection to the mailbox's IMAP server, logged in (the caller logs out)."""
    security = mailbox.imap_security
    port = mailbox.imap_port or DEFAULT_PORTS.get(security, 993)
    conn: imaplib.IMAP4
    if security == Security.SSL:
        conn = imaplib.IMAP4_SSL(
            mailbox.imap_host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(mailbox.imap_host, port, timeout=timeout)
    try:
        if security == Security.STARTTLS:
            conn.starttls(ssl_context=ssl.create_default_context())
        login(conn, mailbox.imap_username or mailbox.address, mailbox.imap_password)
    except BaseException:
        _close(conn, logout=False)
        raise
    return conn


def login(conn: imaplib.IMAP4, user: str, password: str) -> None:
    """LOGIN, or AUTHENTICATE PLAIN in UTF-8 when the user name or password is not ASCII (imaplib's
    LOGIN sends ASCII only)."""
    if (user + password).isascii():
        conn.login(user, password)
    else:
        conn.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())


def poll_mailbox(mailbox_id: int, *, limit: int = 200) -> PollResult:
    """Fetch up to `limit` new messages of one mailbox and hand them to the inbound service."""
    result = PollResult()
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.polls_imap:
        log.debug("mailbox %s: not polled (missing, inactive or no IMAP host)", mailbox_id)
        return result
    where = f"{mailbox.address} ({mailbox.imap_host})"
    try:
        conn = open_imap(mailbox)
    except (OSError, imaplib.IMAP4.error) as exc:
        log.warning("IMAP %s: could not connect or log in: %s", where, _describe(exc))
        result.errors += 1
        _finish(mailbox, error=_("Could not connect or log in: %(error)s") % {"error": _describe(exc)})
        return result
    error = ""
    try:
        with audit_context("imap"):
            error = _poll(conn, mailbox, result, limit)
    except (OSError, imaplib.IMAP4.error, ImapError) as exc:
        log.warning("IMAP %s: IMAP error while polling: %s", where, _describe(exc))
        result.errors += 1
        error = _("IMAP error while polling: %(error)s") % {"error": _describe(exc)}
    finally:
        _close(conn)
    _finish(mailbox, error=error)
    if result.fetched:
        log.info(
            "IMAP %s: %d new (%d stored, %d duplicates, %d too large)",
            where,
            result.fetched,
            result.stored,
            result.duplicates,
            result.rejected_too_large,
        )
    return result


def _poll(conn: imaplib.IMAP4, mailbox: Mailbox, result: PollResult, limit: int) -> str:
    """Handle new messages in UID order; returns the error text when a message could not be handled."""
    typ, data = conn.select(_quote_mailbox(mailbox.imap_folder))
    _check(typ, data, "SELECT")
    uidvalidity = _uidvalidity(conn)
    if uidvalidity != mailbox.imap_uidvalidity:
        if mailbox.imap_uidvalidity is not None:
            log.info(
                "IMAP %s: UIDVALIDITY changed (%s → %s), reading the folder again",
                mailbox.address,
                mailbox.imap_uidvalidity,
                uidvalidity,
            )
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=uidvalidity, imap_last_uid=0)
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = uidvalidity, 0

    last = mailbox.imap_last_uid
    typ, data = conn.uid("SEARCH", f"UID {last + 1}:*")
    _check(typ, data, "UID SEARCH")
    # "n:*" always matches the highest UID, even when it is below n
    uids = sorted({int(u) for chunk in data if chunk for u in chunk.split() if int(u) > last})
    result.more = len(uids) > limit
    for uid in uids[:limit]:
        try:
            handled = _handle(conn, mailbox, uid, result)
        except MessageFailed as failed:
            # keep the message unseen and last_uid before it: the next poll starts with it again
            exc = failed.__cause__
            log.error("IMAP %s: could not process message UID %s", mailbox.address, uid, exc_info=exc)
            result.errors += 1
            reason = exc.message if isinstance(exc, DomainError) else type(exc).__name__
            return _("Could not process message UID %(uid)s: %(error)s") % {"uid": uid, "error": reason}
        if handled:
            result.fetched += 1
            typ, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
            if typ != "OK":
                log.warning("IMAP %s: could not flag UID %s as seen: %s", mailbox.address, uid, _text(data))
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=uid)
        mailbox.imap_last_uid = uid
    return ""


def _handle(conn: imaplib.IMAP4, mailbox: Mailbox, uid: int, result: PollResult) -> bool:
    """Pass one message to the inbound service; False when it is gone from the server."""
    size = _fetch_size(conn, uid)
    if size is None:
        return False
    if size > mailbox.max_message_bytes:
        # do not download it: the headers say who sent what
        headers = _fetch_part(conn, uid, "BODY.PEEK[HEADER]", "BODY[HEADER]")
        if headers is None:
            return False
        try:
            reject_too_large(mailbox=mailbox, headers=headers, size=size, source="imap")
        except Exception as exc:
            raise MessageFailed from exc
        result.rejected_too_large += 1
        return True
    raw = _fetch_part(conn, uid, "BODY.PEEK[]", "BODY[]")
    if raw is None:
        return False
    try:
        received = receive_email(mailbox=mailbox, raw=raw, source="imap")
    except Exception as exc:
        raise MessageFailed from exc
    if received.created:
        result.stored += 1
    else:
        result.duplicates += 1
    return True


def _finish(mailbox: Mailbox, *, error: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=clock.now(), last_error=error[:MAX_ERROR])


def _check(typ: str, data: list, command: str) -> None:
    if typ != "OK":
        raise ImapError(f"{command} failed: {_text(data)}")


def _uidvalidity(conn: imaplib.IMAP4) -> int | None:
    _typ, data = conn.response("UIDVALIDITY")
    try:
        return int(data[0])
    except (TypeError, ValueError, IndexError):
        return None


SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


def _fetch_size(conn: imaplib.IMAP4, uid: int) -> int | None:
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    _check(typ, data, "UID FETCH")
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (match := SIZE_RE.search(line)):
            return int(match.group(1))
    return None


def _fetch_part(conn: imaplib.IMAP4, uid: int, item: str, answer: str) -> bytes | None:
    typ, data = conn.uid("FETCH", str(uid), f"({item})")
    _check(typ, data, "UID FETCH")
    marker = answer.encode()
    for part in data:
        if isinstance(part, tuple) and marker in part[0]:
            return part[1]
    return None


def _close(conn: imaplib.IMAP4, logout: bool = True) -> None:
    try:
        if logout:
            conn.logout()
        else:
            conn.shutdown()
    except Exception:  # noqa: S110 (closing a broken connection)
        pass


def _describe(exc: BaseException) -> str:
    """An error for admins and logs: never the password, never message content."""
    if isinstance(exc, imaplib.IMAP4.error) and exc.args:
        return _text(exc.args[0])[:300] or type(exc).__name__
    text = str(exc)[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value if v is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _quote_mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _utf7_imap(name or "INBOX")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7_imap(text: str) -> str:
    import base64

    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            chunk = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(chunk).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)
