"""Walking the MIME tree: text and HTML bodies, attachments, forwarded and bounced mails, delivery
status blocks; content types, MIME parameters, filenames and transfer-decoded payloads."""

from __future__ import annotations

import logging
import quopri
import re
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from email.utils import decode_params, unquote
from io import BytesIO

from kefu.channels.mime.charsets import _codecs_for, decode_bytes
from kefu.channels.mime.headers import (
    _CONTROL,
    _ascii_header,
    _b_decode,
    _raw,
    _to_bytes,
    decode_header_value,
    parse_message_id,
)
from kefu.channels.mime.model import MailAttachment

logger = logging.getLogger(__name__)

MAX_DEPTH = 20  # MIME nesting deeper than this is ignored (mail bombs)
MAX_PARTS = 500  # leaf parts looked at, in order

# --------------------------------------------------------------------------------------------------
# MIME tree


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[tuple[MailAttachment, bool]] = field(default_factory=list)  # (att, in_related)
    dsn_blocks: list[Message] = field(default_factory=list)
    dsn_seen: bool = False
    original_ids: list[str] = field(default_factory=list)
    leaves: int = 0


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:
        return "text/plain"
    ctype = ctype.strip().lower()
    return ctype if "/" in ctype else "text/plain"


def _split_params(value: str) -> list[tuple[str, str]]:
    """Split 'type; a=1; b="x;y"' on semicolons outside quotes: [("type", ""), ("a", "1"), ("b", '"x;y"')]."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    out = []
    for piece in pieces:
        name, eq, val = piece.partition("=")
        if not (name.strip() or val.strip()):
            continue
        out.append((name.strip().lower(), val.strip()) if eq else (piece.strip(), ""))
    return out


def _param(part: Message, name: str, header: str = "content-type") -> str | tuple | None:
    """A MIME parameter from the raw header (so raw 8-bit bytes survive, which Message.get_param
    replaces by U+FFFD): a str, or (charset, language, value) for RFC 2231 values."""
    raw = _raw(part, header)
    if raw is None:
        return None
    try:
        params = _split_params(re.sub(r"\r?\n", "", raw))
        if not params:
            return None
        for key, value in decode_params(params)[1:]:
            if key != name:
                continue
            if isinstance(value, tuple):
                charset, language, text = (list(value) + [None, None, ""])[:3]
                return (charset, language, unquote(text or ""))
            return unquote(value)
    except Exception:
        logger.debug("unparsable MIME parameters", exc_info=True)
    return None


def _param_text(value: str | tuple | None, hint: str | None) -> str:
    """A MIME parameter decoded: RFC 2231 (charset'lang'%XX…, continuations), RFC 2047 words in
    quotes (Outlook, Foxmail), raw 8-bit bytes."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        charset, _lang, text = (list(value) + [None, None, ""])[:3]
        text = text or ""
        try:
            data = text.encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            data = _to_bytes(text)
        if charset:
            return decode_header_value(decode_bytes(data, charset))
        return decode_header_value(data, charset_hint=hint)
    return decode_header_value(value, charset_hint=hint)


def _charset(part: Message) -> str | None:
    value = _param(part, "charset")
    if isinstance(value, tuple):
        value = value[2] if len(value) > 2 else None
    return value if isinstance(value, str) else None


def _disposition(part: Message) -> str:
    value = _ascii_header(_raw(part, "content-disposition"))
    return value.split(";", 1)[0].strip().lower()


def _filename(part: Message, hint: str | None) -> str:
    for name, header in (("filename", "content-disposition"), ("name", "content-type")):
        text = _param_text(_param(part, name, header), hint)
        if text:
            return text
    return ""


def _clean_filename(name: str, default: str = "attachment") -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name if ch.isprintable() or ch.isspace()).strip()
    name = " ".join(name.split())
    if not name or name in (".", ".."):
        return default
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 200 - len(ext) - 1] + dot + ext if dot and len(ext) <= 16 else name[:200]
    return name


def _payload(part: Message) -> object:
    """The stored payload: a list of parts, or a str (surrogate-escaped bytes). Not
    Message.get_payload(), which decodes 8-bit text with the declared charset and can raise on it."""
    return getattr(part, "_payload", None)


def _payload_bytes(part: Message) -> bytes:
    """The transfer-decoded content (base64, quoted-printable, 8-bit as is)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = _payload(part)
    if isinstance(payload, str):
        return _to_bytes(payload)
    return b""


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (Apple Mail, Thunderbird)."""
    out: list[str] = []
    buffer: str | None = None
    depth_of_buffer = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if buffer is not None and depth != depth_of_buffer:
            out.append((">" * depth_of_buffer + " " if depth_of_buffer else "") + buffer)
            buffer = None
        buffer = content if buffer is None else buffer + content
        depth_of_buffer = depth
        if content.endswith(" ") and content != "-- ":
            if delsp:
                buffer = buffer[:-1]
            continue
        out.append((">" * depth + " " if depth else "") + buffer)
        buffer = None
    if buffer is not None:
        out.append((">" * depth_of_buffer + " " if depth_of_buffer else "") + buffer)
    return "\n".join(out)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _part_text(part: Message, ctype: str) -> str:
    data = _payload_bytes(part)
    charset = _charset(part)
    if not _codecs_for(charset) and ctype == "text/html":
        found = _META_CHARSET.search(data[:4096])
        if found:
            charset = found.group(1).decode("ascii", "replace")
    text = decode_bytes(data, charset)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if ctype == "text/plain":
        fmt = _param(part, "format")
        if isinstance(fmt, str) and fmt.strip().lower() == "flowed":
            delsp = _param(part, "delsp")
            text = _unflow(text, isinstance(delsp, str) and delsp.strip().lower() == "yes")
    return text


def _serialize(msg: Message) -> bytes:
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(msg)
        return buffer.getvalue()
    except Exception:
        try:
            return _to_bytes(msg.as_string())
        except Exception:
            return b""


def _attach_message(part: Message, body: _Body, hint: str | None, in_related: bool) -> None:
    """A message/rfc822 part (a mail forwarded as attachment, the original in a bounce)."""
    payload = _payload(part)
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:
        content = _payload_bytes(part)
    else:
        content = _serialize(inner)
        cte = _ascii_header(_raw(part, "content-transfer-encoding")).lower()
        if cte in ("base64", "quoted-printable"):
            # not allowed for message/rfc822 but seen: the parser took the encoded text for a mail
            encoded = content.lstrip(b"\r\n")
            if cte == "base64":
                content = _b_decode(encoded.decode("ascii", "replace"))
            else:
                content = quopri.decodestring(encoded)
            inner = None
    if not content.strip():
        return
    if inner is None:
        inner = message_from_bytes(content, policy=compat32)
    ident = parse_message_id(_raw(inner, "message-id"))
    if ident:
        body.original_ids.append(ident)
    subject = decode_header_value(_raw(inner, "subject"), charset_hint=hint)
    name = _filename(part, hint) or subject.replace("/", "_").replace("\\", "_")
    filename = _clean_filename(name, default="attachment")
    if not filename.lower().endswith(".eml"):
        filename = _clean_filename(filename[:195] + ".eml")
    attachment = MailAttachment(filename=filename, content_type="message/rfc822", content=content)
    body.attachments.append((attachment, in_related))


def _walk(part: Message, body: _Body, depth: int, hint: str | None, in_related: bool) -> None:
    if depth > MAX_DEPTH or body.leaves > MAX_PARTS:
        return
    ctype = _content_type(part)
    if ctype == "message/delivery-status":
        body.dsn_seen = True
        _read_delivery_status(part, body)
        return
    if ctype in ("message/rfc822", "message/global"):
        body.leaves += 1
        try:
            _attach_message(part, body, hint, in_related)
        except Exception:
            logger.info("unreadable message/rfc822 part", exc_info=True)
        return
    payload = _payload(part)
    if isinstance(payload, list):
        children = [child for child in payload if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            subs = []
            for child in children:
                sub = _Body(leaves=body.leaves)
                _walk(child, sub, depth + 1, hint, in_related)
                body.leaves = sub.leaves
                subs.append(sub)
            for sub in reversed(subs):  # the last alternative is the preferred one
                if any(t.strip() for t in sub.texts):
                    body.texts.extend(sub.texts)
                    break
            for sub in reversed(subs):
                if any(h.strip() for h in sub.htmls):
                    body.htmls.extend(sub.htmls)
                    break
            for sub in subs:
                body.attachments.extend(sub.attachments)
                body.dsn_blocks.extend(sub.dsn_blocks)
                body.dsn_seen = body.dsn_seen or sub.dsn_seen
                body.original_ids.extend(sub.original_ids)
            return
        for child in children:
            _walk(child, body, depth + 1, hint, ctype == "multipart/related")
        return
    # a leaf
    body.leaves += 1
    disposition = _disposition(part)
    filename = _filename(part, hint)
    if ctype.startswith("multipart/"):  # a multipart without usable boundary: show its text
        ctype = "text/plain"
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = _part_text(part, ctype)
        (body.texts if ctype == "text/plain" else body.htmls).append(text)
        return
    if ctype == "text/rfc822-headers":
        headers = message_from_string(_part_text(part, ctype) + "\n\n", policy=compat32)
        ident = parse_message_id(_raw(headers, "message-id"))
        if ident:
            body.original_ids.append(ident)
        return
    content_id = parse_message_id(_raw(part, "content-id"))
    if not filename and ctype == "text/calendar":
        filename = "invite.ics"
    attachment = MailAttachment(
        filename=_clean_filename(filename),
        content_type=ctype,
        content=_payload_bytes(part),
        content_id=content_id,
        inline=disposition == "inline",
    )
    body.attachments.append((attachment, in_related and disposition != "attachment"))


def _read_delivery_status(part: Message, body: _Body) -> None:
    payload = _payload(part)
    if isinstance(payload, list):
        body.dsn_blocks.extend(block for block in payload if isinstance(block, Message))
    else:  # not parsed into blocks (e.g. encoded): parse the text ourselves
        text = decode_bytes(_payload_bytes(part), None).replace("\r\n", "\n")
        for chunk in re.split(r"\n\s*\n", text):
            if chunk.strip():
                body.dsn_blocks.append(message_from_string(chunk.strip() + "\n\n", policy=compat32))
