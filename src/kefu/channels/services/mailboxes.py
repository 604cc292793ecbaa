"""Mailbox configuration (admins): save a mailbox, test its IMAP/SMTP settings, fetch its mail now,
and the channel settings. Passwords are write-only: an empty submitted password keeps the stored
one, audit events name changed fields but never carry a password, and connection errors are scrubbed
of them."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Team
from kefu.audit.services import record_event
from kefu.channels import events
from kefu.channels.choices import Security
from kefu.channels.models import ChannelSettings, Mailbox
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize

PERMISSION = "mailbox.manage"
TEST_TIMEOUT = 10  # seconds per protocol for "Test connection"
MAX_MESSAGE_MB = 200
PASSWORD_FIELDS = ("imap_password", "smtp_password")


_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$")
_FORBIDDEN = {chr(c) for c in range(32)} | {"\x7f"}

# field → (kind, default for a new mailbox)
FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("text", ""),
    "address": ("address", ""),
    "team_id": ("team", None),
    "is_active": ("bool", True),
    "send_acknowledgement": ("bool", True),
    "max_message_mb": ("size", 20),
    "imap_host": ("host", ""),
    "imap_port": ("port", None),
    "imap_security": ("security", Security.SSL),
    "imap_username": ("user", ""),
    "imap_folder": ("folder", "INBOX"),
    "smtp_host": ("host", ""),
    "smtp_port": ("port", None),
    "smtp_security": ("security", Security.STARTTLS),
    "smtp_username": ("user", ""),
}


def _labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "address": _("Address"),
        "team_id": _("Team"),
        "max_message_mb": _("Size limit (MB)"),
        "imap_host": _("IMAP host"),
        "imap_port": _("IMAP port"),
        "imap_security": _("IMAP security"),
        "imap_username": _("IMAP user"),
        "imap_password": _("IMAP password"),
        "imap_folder": _("IMAP folder"),
        "smtp_host": _("SMTP host"),
        "smtp_port": _("SMTP port"),
        "smtp_security": _("SMTP security"),
        "smtp_username": _("SMTP user"),
        "smtp_password": _("SMTP password"),
        "repair_team": _("Team for repair requests"),
    }


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{_labels().get(field, field)}: {message}", field=field)


def _text(field: str, value: Any, max_len: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _fail(field, _("must be text."))
    text = unicodedata.normalize("NFC", value).strip()
    if any(ch in _FORBIDDEN for ch in text):
        raise _fail(field, _("must be one line without control characters."))
    if required and not text:
        raise _fail(field, _("this field is required."))
    if len(text) > max_len:
        raise _fail(field, _("at most %(n)d characters.") % {"n": max_len})
    return text


def _int(field: str, value: Any, low: int, high: int, *, optional: bool) -> int | None:
    if value is None or value == "":
        if optional:
            return None
        raise _fail(field, _("this field is required."))
    if isinstance(value, bool):
        raise _fail(field, _("must be a whole number."))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _fail(field, _("must be a whole number.")) from None
    if not low <= number <= high:
        raise _fail(field, _("must be between %(low)d and %(high)d.") % {"low": low, "high": high})
    return number


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host(field: str, value: Any) -> str:
    host = _text(field, value, 200)
    if not host:
        return ""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host.strip("[]")
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.match(p) for p in ascii_host.split(".")):
        raise _fail(field, _("“%(value)s” is not a host name or IP address.") % {"value": host[:60]})
    return host


def _clean(field: str, kind: str, value: Any) -> Any:
    if kind == "text":
        return _text(field, value, 100, required=True)
    if kind == "address":
        address = _text(field, value, 254, required=True).lower()
        try:
            validate_email(address)
        except ValidationError:
            raise _fail(field, _("“%(value)s” is not an email address.") % {"value": address[:80]}) from None
        return address
    if kind == "team":
        team_id = _int(field, value, 1, 2**63 - 1, optional=True)
        if team_id is not None and not Team.objects.filter(pk=team_id).exists():
            raise _fail(field, _("team %(id)s does not exist.") % {"id": team_id})
        return team_id
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValidationFailed(_("%(field)s must be true or false.") % {"field": field}, field=field)
        return value
    if kind == "size":
        return _int(field, value, 1, MAX_MESSAGE_MB, optional=False)
    if kind == "host":
        return _host(field, value)
    if kind == "port":
        return _int(field, value, 1, 65535, optional=True)
    if kind == "security":
        if value not in Security.values:
            raise _fail(field, _("choose one of %(choices)s.") % {"choices": ", ".join(Security.values)})
        return Security(value).value
    if kind == "user":
        return _text(field, value, 200)
    if kind == "folder":
        return _text(field, value, 200) or "INBOX"
    raise AssertionError(kind)


def _password(field: str, value: Any) -> str:
    """A submitted password as given (spaces kept); empty means "keep the stored one"."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(field, _("must be text."))
    if any(ch in _FORBIDDEN for ch in value):
        raise _fail(field, _("must be one line without control characters."))
    if len(value) > 200:
        raise _fail(field, _("at most %(n)d characters.") % {"n": 200})
    return value


def _check_protocols(values: dict[str, Any]) -> None:
    for proto in ("imap", "smtp"):
        host, user, password = (
            values[f"{proto}_host"],
            values[f"{proto}_username"],
            values[f"{proto}_password"],
        )
        if not host:
            continue
        if proto == "imap" and not password:
            raise _fail("imap_password", _("receiving by IMAP needs a password."))
        if proto == "smtp" and bool(user) != bool(password):
            field = "smtp_password" if user else "smtp_username"
            raise _fail(field, _("give both a user name and a password, or neither."))
        if values[f"{proto}_security"] == Security.NONE and password and not is_loopback(host):
            raise _fail(
                f"{proto}_security",
                _(
                    "without TLS the password would cross the network in clear text; choose STARTTLS or "
                    "SSL/TLS (no encryption is for servers on this machine only)."
                ),
            )


def _lock(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("Mailbox %(id)s not found.") % {"id": mailbox_id}, field="mailbox_id")
    return mailbox


def _duplicate(address: str) -> ValidationFailed:
    return _fail("address", _("%(address)s is already used by another mailbox.") % {"address": address})


@transaction.atomic
def save_mailbox(*, actor: Any, mailbox_id: int | None, data: dict[str, Any]) -> Mailbox:
    """Create (mailbox_id None) or update a mailbox from `data` (keys of FIELDS plus imap_password,
    smtp_password, clear_imap_password, clear_smtp_password; on update a missing key keeps the
    current value). An empty password keeps the stored one, a new one replaces it, the clear flag
    (without a new value) removes it. Errors name the field. Audited as mailbox.saved with the
    names of the changed fields; nothing is written when nothing changed."""
    authorize(actor, PERMISSION)
    mailbox = Mailbox() if mailbox_id is None else _lock(mailbox_id)
    creating = mailbox.pk is None
    values: dict[str, Any] = {}
    for field, (kind, default) in FIELDS.items():
        if field in data:
            values[field] = _clean(field, kind, data[field])
        else:
            values[field] = default if creating else getattr(mailbox, field)
    password_changes: dict[str, str] = {}  # field → "set" / "changed" / "cleared"
    for field in PASSWORD_FIELDS:
        new = _password(field, data.get(field))
        old = "" if creating else getattr(mailbox, field)
        if new:
            values[field] = new
            if new != old:
                password_changes[field] = "changed" if old else "set"
        elif data.get(f"clear_{field}") is True:
            values[field] = ""
            if old:
                password_changes[field] = "cleared"
        else:
            values[field] = old
    _check_protocols(values)
    if Mailbox.objects.filter(address__iexact=values["address"]).exclude(pk=mailbox.pk).exists():
        raise _duplicate(values["address"])

    changed = sorted(f for f in [*FIELDS, *PASSWORD_FIELDS] if creating or getattr(mailbox, f) != values[f])
    if not changed:
        return mailbox
    if not creating and {"imap_host", "imap_username", "imap_folder"} & set(changed):
        # another server or folder: its UIDs mean nothing here; start over there
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = None, 0
    if {"imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder"} & set(
        changed
    ):
        mailbox.last_error = ""
    for field, value in values.items():
        setattr(mailbox, field, value)
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:  # an address taken by a concurrent save
        raise _duplicate(values["address"]) from None
    data_out: dict[str, Any] = {
        "address": mailbox.address,
        "created": creating,
        "fields": [f for f in changed if f not in PASSWORD_FIELDS],
    }
    if password_changes:  # names and what happened, never a value
        data_out["passwords"] = [f"{f} {state}" for f, state in sorted(password_changes.items())]
    record_event(actor=actor, verb=events.MAILBOX_SAVED.verb, subject=mailbox, data=data_out)
    return mailbox


@transaction.atomic
def save_channel_settings(*, actor: Any, repair_team_id: int | None) -> ChannelSettings:
    """Set the team that receives repair requests (None: no team). Audited when it changes."""
    authorize(actor, PERMISSION)
    team_id = _int("repair_team", repair_team_id, 1, 2**63 - 1, optional=True)
    team = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise ValidationFailed(
                _("Team for repair requests: team %(id)s does not exist.") % {"id": team_id},
                field="repair_team",
            )
    ChannelSettings.load()
    row = ChannelSettings.objects.select_for_update().get(pk=1)
    if row.repair_team_id == team_id:
        return row
    before = row.repair_team_id
    row.repair_team = team
    row.save()
    record_event(
        actor=actor,
        verb=events.CHANNEL_SETTINGS_SAVED.verb,
        subject=row,
        data={"repair_team": {"from": before, "to": team_id}, "team": team.name if team else "—"},
    )
    return row


# --- connection test and fetch now ---------------------------------------------------------------


def _scrub(message: str, mailbox: Mailbox) -> str:
    for secret in (mailbox.imap_password, mailbox.smtp_password):
        if secret:
            message = message.replace(secret, "***")
    return message[:500]


def _error_text(exc: BaseException, mailbox: Mailbox) -> str:
    args = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args]
    detail = (" ".join(args) if args else str(exc)).strip()
    if isinstance(exc, TimeoutError) or "timed out" in detail:
        detail = _("no answer within %(n)d seconds (%(detail)s)") % {"n": TEST_TIMEOUT, "detail": detail}
    elif isinstance(exc, ConnectionRefusedError):
        detail = _("connection refused: nothing listens on that host and port")
    return _scrub(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__, mailbox)


def _imap_check(mailbox: Mailbox) -> dict[str, Any]:
    if not mailbox.imap_host:
        return {"configured": False, "ok": None, "error": "", "detail": ""}
    from kefu.channels.imap import _quote_mailbox, open_imap

    conn = None
    try:
        conn = open_imap(mailbox, timeout=TEST_TIMEOUT)
        folder = mailbox.imap_folder or "INBOX"
        typ, answer = conn.select(_quote_mailbox(folder), readonly=True)
        if typ != "OK":
            text = b" ".join(a for a in answer if isinstance(a, bytes)).decode("utf-8", "replace")
            message = _("folder %(folder)s cannot be opened: %(answer)s") % {"folder": folder, "answer": text}
            return {"configured": True, "ok": False, "error": _scrub(message, mailbox), "detail": ""}
        count = answer[0].decode("ascii", "replace") if answer and isinstance(answer[0], bytes) else "?"
        detail = _("signed in; %(folder)s holds %(count)s messages") % {"folder": folder, "count": count}
        return {"configured": True, "ok": True, "error": "", "detail": detail}
    except Exception as exc:  # noqa: BLE001 — any failure is the answer to show
        return {"configured": True, "ok": False, "error": _error_text(exc, mailbox), "detail": ""}
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                conn.logout()


def _smtp_check(mailbox: Mailbox) -> dict[str, Any]:
    if not mailbox.smtp_host:
        return {"configured": False, "ok": None, "error": "", "detail": ""}
    from kefu.channels.smtp import open_smtp

    conn = None
    try:
        conn = open_smtp(mailbox, timeout=TEST_TIMEOUT)
        if mailbox.smtp_username:
            detail = _("connected and signed in as %(user)s") % {"user": mailbox.smtp_username}
        else:
            detail = _("connected (no sign-in configured)")
        return {"configured": True, "ok": True, "error": "", "detail": detail}
    except Exception as exc:  # noqa: BLE001 — any failure is the answer to show
        return {"configured": True, "ok": False, "error": _error_text(exc, mailbox), "detail": ""}
    finally:
        if conn is not None:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001
                conn.close()


def test_mailbox_connection(*, actor: Any, mailbox_id: int) -> dict[str, dict[str, Any]]:
    """Try the saved settings: IMAP sign-in and folder, SMTP connect and sign-in. Returns
    {"imap": {...}, "smtp": {...}}, each with configured, ok (None when not configured), error
    (never containing a password) and detail. Writes nothing."""
    authorize(actor, PERMISSION)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("Mailbox %(id)s not found.") % {"id": mailbox_id}, field="mailbox_id")
    return {"imap": _imap_check(mailbox), "smtp": _smtp_check(mailbox)}


test_mailbox_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def poll_mailbox_now(*, actor: Any, mailbox_id: int) -> Mailbox:
    """Fetch the mailbox's new mail now (in the background, after commit)."""
    authorize(actor, PERMISSION)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("Mailbox %(id)s not found.") % {"id": mailbox_id}, field="mailbox_id")
    if not mailbox.imap_host:
        raise ValidationFailed(
            _("This mailbox has no IMAP host: its mail arrives by `kefu smtpd` only."), field="imap_host"
        )
    if not mailbox.is_active:
        raise ValidationFailed(_("This mailbox is inactive; activate it first."), field="is_active")

    def enqueue() -> None:
        from kefu.channels.tasks import poll_mailbox_task

        poll_mailbox_task(mailbox.pk)

    transaction.on_commit(enqueue, robust=True)
    return mailbox
