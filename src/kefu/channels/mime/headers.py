"""Header values: RFC 2047 encoded words, raw 8-bit bytes, raw header access, message ids, addresses
and dates."""

from __future__ import annotations

import binascii
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from kefu.channels.mime.charsets import decode_bytes

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# headers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _to_bytes(value: str) -> bytes:
    """Recover the original bytes of a header value parsed from bytes (non-ASCII bytes are kept by the
    email package as surrogate escapes); real Unicode characters become UTF-8."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _decode_8bit_header(data: bytes, hint: str | None) -> str:
    """Headers should be ASCII; Foxmail and old clients send raw GBK or UTF-8 bytes. `hint` is the
    charset of the body, the best guess for what the client used."""
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(data, hint)


def _b_decode(text: str) -> bytes:
    clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    clean += "=" * (-len(clean) % 4)
    try:
        return binascii.a2b_base64(clean)
    except (binascii.Error, ValueError):
        return b""


def _q_decode(text: str) -> bytes:
    data = _to_bytes(text).replace(b"_", b" ")
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _decode_encoded_words(text: str) -> str:
    """RFC 2047, leniently: words may touch other text, whitespace between words is dropped, and
    adjacent words in one charset are joined as bytes first (mailers split multibyte characters)."""
    if "=?" not in text:
        return text
    # segments: (charset or None, str for text | bytes for words)
    segments: list[tuple[str | None, str | bytes]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        if between and not (between.isspace() and segments and segments[-1][0] is not None):
            segments.append((None, between))
        charset, encoding, payload = match.groups()
        raw = _b_decode(payload) if encoding in "bB" else _q_decode(payload)
        charset = charset.split("*", 1)[0].lower()
        if segments and segments[-1][0] == charset:
            previous = segments[-1][1]
            assert isinstance(previous, bytes)
            segments[-1] = (charset, previous + raw)
        else:
            segments.append((charset, raw))
        pos = match.end()
    segments.append((None, text[pos:]))
    out = []
    for charset, payload in segments:
        if charset is None:
            assert isinstance(payload, str)
            out.append(payload)
        else:
            assert isinstance(payload, bytes)
            out.append(decode_bytes(payload, charset))
    return "".join(out)


def decode_header_value(value: str | bytes | None, *, charset_hint: str | None = None) -> str:
    """A header value as readable text: raw 8-bit bytes decoded (UTF-8, else GBK/GB18030), RFC 2047
    encoded words decoded, unfolded, whitespace collapsed, control characters dropped. Never raises."""
    if value is None:
        return ""
    try:
        if isinstance(value, Header):
            value = _header_object_bytes(value)
        data = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else _to_bytes(str(value))
        text = _decode_8bit_header(data, charset_hint)
        text = _decode_encoded_words(text)
        text = _CONTROL.sub("", text)
        return " ".join(text.split())
    except Exception:  # pragma: no cover - last line of defence
        logger.warning("could not decode header value", exc_info=True)
        return ""


def _header_object_bytes(value: Header) -> bytes:
    # compat32 hands out Header objects for 8-bit values; their chunks keep the surrogate escapes
    parts = []
    chunks = getattr(value, "_chunks", None)  # the public API loses the raw bytes
    if not isinstance(chunks, list):
        return _to_bytes(str(value))
    for chunk, _charset in chunks:
        if isinstance(chunk, bytes):
            parts.append(chunk)
        else:
            parts.append(_to_bytes(chunk))
    return b" ".join(parts)


def _raw_all(msg: Message, name: str) -> list[str]:
    """Raw header values (surrogate-escaped str), as stored by the parser."""
    name = name.lower()
    out = []
    try:
        for key, value in msg.raw_items():
            if isinstance(key, str) and key.lower() == name:
                out.append(value if isinstance(value, str) else str(value))
    except Exception:
        logger.debug("unreadable headers", exc_info=True)
    return out


def _raw(msg: Message, name: str) -> str | None:
    values = _raw_all(msg, name)
    return values[0] if values else None


def _ascii_header(value: str | None) -> str:
    """For structured ASCII headers (Message-ID, Precedence …): unfold, decode stray bytes."""
    if not value:
        return ""
    text = _decode_8bit_header(_to_bytes(value), None)
    return _CONTROL.sub("", " ".join(text.split()))


_MSGID_IN_BRACKETS = re.compile(r"<([^<>]*)>")


def _clean_msgid(value: str) -> str:
    ident = "".join(value.split()).strip("<>")
    return _CONTROL.sub("", ident)


def parse_message_id(value: str | None) -> str:
    """The first message id of a header value, without <> and whitespace; "" if none."""
    text = _ascii_header(value)
    match = _MSGID_IN_BRACKETS.search(text)
    if match:
        return _clean_msgid(match.group(1))
    tokens = text.split()
    return _clean_msgid(tokens[0]) if tokens else ""


def parse_message_id_list(values: list[str]) -> list[str]:
    """All message ids of In-Reply-To / References headers, in order, unique, without <>."""
    out: list[str] = []
    for value in values:
        text = _ascii_header(value)
        ids = _MSGID_IN_BRACKETS.findall(text)
        if not ids:
            ids = [tok.strip("<>,;") for tok in text.split() if "@" in tok]
        out.extend(_clean_msgid(ident) for ident in ids)
    return _unique(ident for ident in out if ident)


_ADDR_SPEC = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+$")
_ADDR_SEARCH = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _clean_address(addr: str) -> str:
    addr = addr.strip().strip("<>").strip().lower()
    addr = addr.removeprefix("mailto:")
    return addr if _ADDR_SPEC.match(addr) else ""


def parse_addresses(values: list[str], *, charset_hint: str | None = None) -> list[tuple[str, str]]:
    """(display name, lowercased address) pairs of address headers; unparsable entries dropped."""
    texts = []
    for value in values:
        text = _decode_8bit_header(_to_bytes(value), charset_hint)
        texts.append(" ".join(_CONTROL.sub("", text).split()))
    out: list[tuple[str, str]] = []
    try:
        pairs = getaddresses(texts)
    except Exception:
        pairs = []
    for name, addr in pairs:
        address = _clean_address(addr)
        if not address:
            continue
        display = decode_header_value(name).strip().strip("'\"").strip()
        if display.lower() == address:
            display = ""
        out.append((display, address))
    if not out:  # last resort: any address-looking token
        for text in texts:
            for found in _ADDR_SEARCH.findall(_decode_encoded_words(text)):
                address = _clean_address(found)
                if address:
                    out.append(("", address))
    return out


def _parse_date(value: str | None) -> datetime | None:
    text = _ascii_header(value)
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
