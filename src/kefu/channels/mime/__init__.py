"""Parsing inbound mail: raw RFC 5322 bytes → ParsedMail (decoded headers, body text, sanitized HTML,
attachments, auto-reply/bounce/bulk classification).

Robust by design: real Chinese mail mislabels charsets (GBK text declared gb2312, raw 8-bit GBK in
headers, utf-8 declared for GBK bodies), so every decode falls back instead of failing, and
parse_message never raises — garbage in gives a ParsedMail with a stable synthetic Message-ID.
"""

from __future__ import annotations

import hashlib
import logging
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from kefu.channels.mime.charsets import _codecs_for, decode_bytes
from kefu.channels.mime.classify import _classify
from kefu.channels.mime.headers import (
    _parse_date,
    _raw,
    _raw_all,
    _unique,
    decode_header_value,
    parse_addresses,
    parse_message_id,
    parse_message_id_list,
)
from kefu.channels.mime.html import html_to_text, sanitize_html
from kefu.channels.mime.model import MailAttachment, ParsedMail
from kefu.channels.mime.parts import MAX_DEPTH, MAX_PARTS, _Body, _charset, _content_type, _payload, _walk

__all__ = [
    "MAX_DEPTH",
    "MAX_PARTS",
    "MailAttachment",
    "ParsedMail",
    "decode_bytes",
    "decode_header_value",
    "html_to_text",
    "parse_addresses",
    "parse_message",
    "parse_message_id",
    "parse_message_id_list",
    "sanitize_html",
    "synthetic_message_id",
]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# entry point


def synthetic_message_id(raw: bytes) -> str:
    return f"{hashlib.sha256(raw).hexdigest()[:32]}@missing-message-id.kefu"


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one raw mail. Never raises: unreadable parts are skipped, garbage gives empty fields."""
    raw = bytes(raw or b"")
    mail = ParsedMail(message_id="")
    msg: Message | None = None
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except Exception:  # RecursionError on absurd nesting, or a stdlib bug
        logger.info("mail body unparsable, reading headers only", exc_info=True)
        try:
            from email.parser import BytesHeaderParser

            msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
        except Exception:
            msg = None
    if msg is not None:
        hint = None
        try:
            hint = _body_charset(msg)
        except Exception:
            logger.info("no body charset found", exc_info=True)
        try:
            _read_headers(msg, mail, hint)
        except Exception:
            logger.warning("mail headers partly unreadable", exc_info=True)
        body = _Body()
        try:
            _walk(msg, body, 0, hint, False)
        except Exception:
            logger.warning("mail body partly unreadable", exc_info=True)
        try:
            _finish_body(mail, body)
        except Exception:
            logger.warning("mail body not assembled", exc_info=True)
        try:
            _classify(msg, mail, body)
        except Exception:
            logger.warning("mail not classified", exc_info=True)
    if not mail.message_id:
        mail.message_id = synthetic_message_id(raw)
    return mail


def _body_charset(msg: Message) -> str | None:
    """The charset of the first text part: the best guess for raw 8-bit bytes in headers."""
    stack = [msg]
    seen = 0
    while stack and seen < 50:
        part = stack.pop(0)
        seen += 1
        payload = _payload(part)
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
            continue
        charset = _charset(part)
        if _content_type(part).startswith("text/") and _codecs_for(charset):
            return charset
    return None


def _read_headers(msg: Message, mail: ParsedMail, hint: str | None) -> None:
    mail.message_id = parse_message_id(_raw(msg, "message-id"))
    mail.in_reply_to = parse_message_id_list(_raw_all(msg, "in-reply-to"))
    mail.references = parse_message_id_list(_raw_all(msg, "references"))
    mail.subject = decode_header_value(_raw(msg, "subject"), charset_hint=hint)
    senders = parse_addresses(_raw_all(msg, "from"), charset_hint=hint)
    if senders:
        mail.from_name, mail.from_address = senders[0]
    reply_to = parse_addresses(_raw_all(msg, "reply-to"), charset_hint=hint)
    mail.reply_to = reply_to[0][1] if reply_to else ""
    mail.to = _unique(addr for _n, addr in parse_addresses(_raw_all(msg, "to"), charset_hint=hint))
    mail.cc = _unique(addr for _n, addr in parse_addresses(_raw_all(msg, "cc"), charset_hint=hint))
    mail.date = _parse_date(_raw(msg, "date"))


def _finish_body(mail: ParsedMail, body: _Body) -> None:
    texts = [t.strip("\n") for t in body.texts if t.strip()]
    html_raw = "\n".join(h for h in body.htmls if h.strip())
    text = "\n\n".join(texts)
    if not text.strip() and html_raw:
        text = html_to_text(html_raw)
    mail.text = text.rstrip()
    mail.html = sanitize_html(html_raw) if html_raw else ""
    lowered_html = html_raw.lower()
    for attachment, in_related in body.attachments:
        cid = attachment.content_id
        if cid and (in_related or f"cid:{cid.lower()}" in lowered_html):
            attachment.inline = True
        elif not cid:
            attachment.inline = False
        mail.attachments.append(attachment)
