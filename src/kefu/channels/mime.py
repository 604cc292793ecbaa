"""Parsing inbound mail: raw RFC 5322 bytes → ParsedMail (decoded headers, body text, sanitized HTML,
attachments, auto-reply/bounce/bulk classification).

Robust by design: real Chinese mail mislabels charsets (GBK text declared gb2312, raw 8-bit GBK in
headers, utf-8 declared for GBK bodies), so every decode falls back instead of failing, and
parse_message never raises — garbage in gives a ParsedMail with a stable synthetic Message-ID.
"""

from __future__ import annotations

import binascii
import codecs
import hashlib
import logging
import quopri
import re
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.policy import compat32
from email.utils import decode_params, getaddresses, parsedate_to_datetime, unquote
from html.parser import HTMLParser
from io import BytesIO

import nh3

logger = logging.getLogger(__name__)

MAX_DEPTH = 20  # MIME nesting deeper than this is ignored (mail bombs)
MAX_PARTS = 500  # leaf parts looked at, in order


@dataclass
class MailAttachment:
    filename: str  # decoded; "attachment" if none
    content_type: str  # declared, lowercased, e.g. "image/png"
    content: bytes
    content_id: str = ""  # without <>; for inline images referenced by cid:
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[MailAttachment] = field(default_factory=list)
    auto: str = ""  # "" | "auto_reply" | "bounce" | "bulk"
    bounce_recipients: list[str] = field(default_factory=list)
    bounce_message_id: str = ""


# --------------------------------------------------------------------------------------------------
# charsets

# declared name → codecs to try, in order. GB2312/GBK labels are decoded as GB18030 (a superset: real
# "gb2312" mail carries GBK-only characters such as 镕 or 堃); Big5 as cp950 then Big5-HKSCS.
_CHARSET_ALIASES: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030", "gbk"),
    "gb_2312-80": ("gb18030", "gbk"),
    "gb_2312": ("gb18030", "gbk"),
    "csgb2312": ("gb18030", "gbk"),
    "euc-cn": ("gb18030", "gbk"),
    "x-euc-cn": ("gb18030", "gbk"),
    "chinese": ("gb18030", "gbk"),
    "gbk": ("gb18030", "gbk"),
    "x-gbk": ("gb18030", "gbk"),
    "cp936": ("gb18030", "gbk"),
    "ms936": ("gb18030", "gbk"),
    "windows-936": ("gb18030", "gbk"),
    "gb18030": ("gb18030", "gbk"),
    "big5": ("cp950", "big5hkscs"),
    "x-big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cn-big5": ("cp950", "big5hkscs"),
    "ks_c_5601-1987": ("cp949",),
    "euc-kr": ("cp949",),
    "shift_jis": ("cp932", "shift_jis"),
    "x-sjis": ("cp932", "shift_jis"),
    "iso-2022-jp": ("iso2022_jp_ext", "iso2022_jp"),
    # WHATWG: latin-1 and ascii labels mean windows-1252 in practice
    "us-ascii": ("ascii", "cp1252", "latin-1"),
    "ascii": ("ascii", "cp1252", "latin-1"),
    "iso-8859-1": ("cp1252", "latin-1"),
    "iso8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "iso-8859-8-i": ("iso8859-8",),
    "utf8": ("utf-8",),
    "unicode-1-1-utf-7": ("utf-7",),
}

# labels that say "unknown": ignore them and guess
_UNKNOWN_CHARSETS = {"", "x-unknown", "unknown", "unknown-8bit", "default", "charset", "none", "8bit"}

# the default labels of misconfigured clients: text labelled so may well be GBK or UTF-8 (and these
# codecs decode almost any bytes, so "decoded without error" proves nothing). Other single-byte
# labels (windows-1251, iso-8859-2 …) are trusted: their text would also "decode" as GB18030.
_WESTERN = {"ascii", "cp1252", "latin-1", "iso8859-1"}
_MULTIBYTE = {
    "gb18030",
    "gbk",
    "gb2312",
    "cp950",
    "big5",
    "big5hkscs",
    "cp949",
    "euc_kr",
    "cp932",
    "shift_jis",
}


def _codecs_for(charset: str | None) -> tuple[str, ...]:
    """Python codecs to try for a declared charset; () when unknown or missing."""
    if not charset or not isinstance(charset, str):
        return ()
    name = charset.strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*zh
    if name in _UNKNOWN_CHARSETS:
        return ()
    if name in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[name]
    candidates = [name]
    if name.startswith("windows-"):
        candidates.append("cp" + name[len("windows-") :])
    if name.startswith("x-"):
        candidates.append(name[2:])
    for candidate in candidates:
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        # never "decode" mail with bytes↔bytes codecs (base64_codec, zlib …) or utf-16 without BOM
        if not getattr(info, "_is_text_encoding", True):
            return ()
        return (info.name,)
    return ()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\U00020000" <= ch <= "\U0003134f"


def _plausible_chinese(text: str) -> bool:
    """Does text decoded as GB18030 read like Chinese? Latin-1 bytes also "decode" as GB18030, but give
    lone ideographs glued between Latin letters ("Müller" → "M黮ler"); Chinese has runs of them."""
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return True
    cjk_punct = sum(
        1 for ch in non_ascii if _is_cjk(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
    )
    if cjk_punct / len(non_ascii) < 0.8:
        return False
    if re.search(r"[\u3400-\u9fff]{2}", text):
        return True
    return not re.search(r"[A-Za-z][\u3400-\u9fff]|[\u3400-\u9fff][A-Za-z]", text)


def _mostly_utf8(data: bytes) -> str | None:
    """Decode as UTF-8 with replacement when nearly all non-ASCII sequences are valid UTF-8
    (a truncated or slightly damaged UTF-8 body); None when it is clearly another charset."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good >= 20 * max(bad, 1) or (bad == 0 and good):
        return text
    return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text bytes: declared charset → UTF-8 → GB18030 → UTF-8 with replacement. Never raises.

    The default labels of misconfigured clients (us-ascii, iso-8859-1, windows-1252) and missing or
    unknown labels are checked against UTF-8 and GB18030 first: much Chinese mail is mislabelled so."""
    if not data:
        return ""
    declared = _codecs_for(charset)
    if declared and declared[0] in _MULTIBYTE and not data.isascii():
        # UTF-8 labelled gb2312 (scripts with a hard-coded header): valid UTF-8 with several non-ASCII
        # characters is practically never GBK/Big5 text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if sum(1 for ch in text if ord(ch) > 127) >= 4:
                return text
    if declared and declared[0] not in _WESTERN:
        for codec in declared:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    if data.isascii() and not (declared and declared[0] == "utf-7"):
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)  # UTF-8 with a damaged byte or two (a cut multibyte character)
    if mostly is not None:
        return mostly
    try:
        guessed: str | None = data.decode("gb18030")
    except UnicodeDecodeError:
        guessed = None
    if guessed is not None and (_plausible_chinese(guessed) or (declared and declared[0] not in _WESTERN)):
        return guessed
    for codec in declared or (() if guessed is None else ("cp1252",)):  # a Western label that fits
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    if guessed is not None:
        return guessed
    gb = data.decode("gb18030", errors="replace")
    utf = data.decode("utf-8", errors="replace")
    return gb if gb.count("\ufffd") < utf.count("\ufffd") else utf


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


# --------------------------------------------------------------------------------------------------
# HTML

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot",
    "tr", "ul", "caption",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "template", "xml", "svg", "math", "object"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
_WS = re.compile(r"[ \t\n\r\f\v\xa0\u200b]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []
        self.pre = 0
        self.quote = 0
        self.lists: list[list[int]] = []  # [counter] for ol, [] for ul
        self.pending = 0  # newlines owed before the next text
        self.line_start = True
        self.last_space = False
        self.paragraph_gap = 2

    # output ---------------------------------------------------------------------------------------
    def _block(self, newlines: int = 1) -> None:
        self.pending = max(self.pending, newlines)

    def _flush(self) -> None:
        if self.pending and self.parts:
            for i in range(self.pending):
                self.parts.append("\n")
                if i < self.pending - 1 and self.quote:
                    self.parts.append(">" * self.quote)
            self.line_start = True
            self.last_space = False
        self.pending = 0

    def _emit(self, text: str) -> None:
        self._flush()
        if self.line_start:
            if self.quote:
                self.parts.append("> " * self.quote)
            self.line_start = False
        self.parts.append(text)
        self.last_space = text.endswith(" ")

    # parser callbacks ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip = [t for t in self.skip if t not in ("head", "title")]
            return
        if tag in _SKIP_TAGS:
            self.skip.append(tag)
            return
        if self.skip:
            return
        if tag == "br":
            if self.parts:
                self.pending += 1
            return
        if tag == "pre":
            self.pre += 1
        if tag == "blockquote":
            self._block()
            self.quote += 1
            return
        if tag == "ol":
            self.lists.append([0])
        elif tag == "ul":
            self.lists.append([])
        if tag == "li":
            self._block()
            marker = "- "
            if self.lists and self.lists[-1]:
                self.lists[-1][0] += 1
                marker = f"{self.lists[-1][0]}. "
            self._emit(marker)
            return
        if tag in ("td", "th") and not self.line_start and not self.pending:
            if not self.last_space:
                self._emit(" ")
            return
        if tag == "p":
            # Outlook writes every line as <p class=MsoNormal>: no blank line between those
            classes = dict(attrs).get("class") or ""
            self.paragraph_gap = 1 if "msonormal" in classes.lower() else 2
            self._block(self.paragraph_gap)
            return
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if tag in self.skip:
                while self.skip and self.skip.pop() != tag:
                    pass
            return
        if self.skip:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "blockquote":
            self._block()
            self.quote = max(0, self.quote - 1)
            return
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        if tag == "p":
            self._block(self.paragraph_gap)
            return
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_data(self, data: str) -> None:
        if self.skip or not data:
            return
        if self.pre:
            lines = data.replace("\r\n", "\n").split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.pending += 1 if self.parts else 0
                if line:
                    self._emit(line.replace("\xa0", " "))
            return
        text = _WS.sub(" ", data)
        if not text.strip() and "\xa0" in data and self.pending and self.parts:
            self.pending += 1  # <p>&nbsp;</p>, <div>&nbsp;</div>: Outlook's and Foxmail's blank line
            return
        if self.line_start or self.pending or self.last_space:
            text = text.lstrip(" ")
        if text:
            self._emit(text)

    def result(self) -> str:
        text = "".join(self.parts)
        lines = [line.rstrip() for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return _CONTROL.sub("", text).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: block elements and <br> become newlines, entities are
    decoded, <style>/<script>/<head> dropped, <blockquote> lines prefixed with "> "."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; keep whatever was read
        logger.debug("html_to_text: parser gave up", exc_info=True)
    return parser.result()


_SANITIZE_TAGS = (set(nh3.ALLOWED_TAGS) | {"font"}) - {"area", "map"}
_SANITIZE_ATTRIBUTES: dict[str, set[str]] = deepcopy(nh3.ALLOWED_ATTRIBUTES)
for _tag, _attrs in {
    "*": {"title", "lang", "dir"},
    "a": {"title"},
    "font": {"color", "size", "face"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor"},
    "td": {"width", "height", "valign", "bgcolor", "nowrap"},
    "th": {"width", "height", "valign", "bgcolor", "nowrap"},
    "tr": {"valign", "bgcolor"},
    "img": {"title"},
}.items():
    _SANITIZE_ATTRIBUTES.setdefault(_tag, set()).update(_attrs)
_SANITIZE_ATTRIBUTES.pop("area", None)
_SANITIZE_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_SANITIZE_DROP_CONTENT = {"script", "style", "title", "noscript", "template", "xml", "iframe", "object"}
_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "src":
        # images only from the mail itself: nothing may load from the internet (tracking pixels)
        return value if value.strip().lower().startswith("cid:") else None
    if attr == "href" and value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Safe HTML for showing a mail: allow-listed tags and attributes, no scripts, styles or event
    handlers; <img> kept only with a cid: source; links get rel="noopener noreferrer"."""
    if not html or not html.strip():
        return ""
    try:
        cleaned = nh3.clean(
            html,
            tags=_SANITIZE_TAGS,
            clean_content_tags=_SANITIZE_DROP_CONTENT,
            attributes=_SANITIZE_ATTRIBUTES,
            attribute_filter=_attribute_filter,
            url_schemes=_SANITIZE_SCHEMES,
            link_rel="noopener noreferrer",
            set_tag_attribute_values={"a": {"target": "_blank"}},
            strip_comments=True,
        )
    except Exception:  # pragma: no cover - nh3 does not raise on HTML; be safe anyway
        logger.warning("sanitize_html failed", exc_info=True)
        return ""
    return _IMG_WITHOUT_SRC.sub("", cleaned).strip()


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


# --------------------------------------------------------------------------------------------------
# classification

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:自动回复|自動回覆|自動回復|自动答复|自动应答|自动回覆|automatic reply|"
    r"auto[- ]?reply|autoreply|auto[- ]?response|auto:|autosvar|abwesenheitsnotiz|"
    r"réponse automatique|respuesta automática|risposta automatica|automatisch antwoord)"
    r"|out of (?:the )?office|ooo\b|休假|不在办公室",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|delivery failure|delivery has failed|failure notice|"
    r"returned mail|mail delivery failed|could not be delivered|delivery failed|non[- ]?delivery|"
    r"delivery problem|系统退信|退信|投递失败|无法投递|未能送达|发送失败|无法送达",
    re.IGNORECASE,
)
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_RECIPIENT_FIELD = re.compile(
    r"^(?:final|original)-recipient\s*:\s*(?:[^;\s]*;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?",
    re.IGNORECASE | re.MULTILINE,
)
_INLINE_MSGID = re.compile(r"^\s*message-id\s*:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)


def _first_token(value: str | None) -> str:
    return _ascii_header(value).split(";", 1)[0].strip().lower()


def _header_flag(msg: Message, name: str) -> bool:
    """Header present with a value other than no/false/0."""
    values = _raw_all(msg, name)
    return any(_first_token(v) not in ("no", "false", "0") for v in values)


def _dsn_recipients(body: _Body) -> list[str]:
    out: list[str] = []
    for block in body.dsn_blocks:
        action = _first_token(_raw(block, "action"))
        status = _first_token(_raw(block, "status"))
        if action and action != "failed":
            continue
        if not action and status and not status.startswith("5"):
            continue
        for name in ("original-recipient", "final-recipient"):
            value = _ascii_header(_raw(block, name))
            if not value:
                continue
            address = _clean_address(value.split(";", 1)[-1])
            if address and address not in out:
                out.append(address)
    return out


def _classify(msg: Message, mail: ParsedMail, body: _Body) -> None:
    ctype = _content_type(msg)
    report_type = _param(msg, "report-type")
    report_type = report_type.strip().lower() if isinstance(report_type, str) else ""
    local_part = mail.from_address.split("@", 1)[0]
    from_daemon = local_part in _DAEMON_LOCALPARTS or mail.from_name.lower() in (
        "mail delivery system",
        "mail delivery subsystem",
    )
    null_sender = _ascii_header(_raw(msg, "return-path")).replace(" ", "") == "<>"
    failed_header = [a for a in parse_addresses(_raw_all(msg, "x-failed-recipients")) if a[1]]
    is_dsn = ctype == "multipart/report" and (report_type == "delivery-status" or body.dsn_seen)
    if is_dsn or failed_header or ((from_daemon or null_sender) and _BOUNCE_SUBJECT.search(mail.subject)):
        mail.auto = "bounce"
        recipients = _dsn_recipients(body)
        if not recipients:
            recipients = [address for _name, address in failed_header]
        if not recipients and not is_dsn:
            for found in _RECIPIENT_FIELD.findall(mail.text):
                address = _clean_address(found)
                if address and address not in recipients:
                    recipients.append(address)
        mail.bounce_recipients = recipients
        if body.original_ids:
            mail.bounce_message_id = body.original_ids[0]
        else:
            found_id = _INLINE_MSGID.search(mail.text)
            mail.bounce_message_id = _clean_msgid(found_id.group(1)) if found_id else ""
        return
    auto_submitted = _first_token(_raw(msg, "auto-submitted"))
    precedence = _first_token(_raw(msg, "precedence"))
    auto_subject = bool(_AUTO_SUBJECT.search(mail.subject))
    exchange_auto = (
        _raw(msg, "x-auto-response-suppress") is not None
        or _raw(msg, "x-ms-exchange-inbox-rules-loop") is not None
    )
    if (
        (auto_submitted and auto_submitted != "no")
        or precedence == "auto_reply"
        or _header_flag(msg, "x-autoreply")
        or _header_flag(msg, "x-autorespond")
        or _header_flag(msg, "x-autogenerated")
        or (auto_subject and exchange_auto)
        or (ctype == "multipart/report" and report_type == "disposition-notification")
    ):
        mail.auto = "auto_reply"
        return
    if precedence in ("bulk", "junk", "list") or _raw(msg, "list-id") or _raw(msg, "list-unsubscribe"):
        mail.auto = "bulk"


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


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


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
