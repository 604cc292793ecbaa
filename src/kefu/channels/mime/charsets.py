"""Charsets of real-world mail: declared labels mapped to codecs, decode_bytes with its fallbacks
(mislabelled GBK, damaged UTF-8) and the checks that tell Chinese text from decoded Latin-1 bytes."""

from __future__ import annotations

import codecs
import re

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
