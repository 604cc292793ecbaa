"""Quoted history in replies: find where the customer's new text ends and the quoted mail begins.

trim_quoted() only shortens what is shown as the new message; the full text is always kept.
Forwards are never trimmed: what is forwarded is the content.
"""

from __future__ import annotations

import re

# "On Tue, 24 Nov 2026 at 10:00, Zhang San <z@example.cn> wrote:" (Gmail, Apple Mail, Thunderbird);
# Gmail wraps long attributions over two or three lines. An attribution carries a date or an address,
# which tells it from a customer writing "my husband wrote:".
_WROTE_EN = re.compile(r"^on\b.{0,300}\b(?:wrote|writes)\s*:$", re.IGNORECASE)
_WROTE_OTHER = re.compile(
    r"^(?:am\b.{0,300}\bschrieb.{0,200}:"  # German
    r"|le\b.{0,300}\ba écrit\s*:"  # French
    r"|el\b.{0,300}\bescribió\s*:"  # Spanish
    r"|.{0,300}\bwrote\s*:)$",  # "Zhang San <z@example.cn> wrote:"
    re.IGNORECASE,
)
# "在 2026年11月24日 …写道：" (Gmail/Apple/QQ), "… 于2026年11月24日周二 16:20写道：" (Gmail zh-CN),
# "在 2026-11-24 10:00:00，"张三" <z@example.cn> 写道：" (NetEase)
_WROTE_ZH = re.compile(r"^.{0,300}(?:写道|寫道)\s*[:：]$")
_DATE_OR_ADDRESS = re.compile(r"\d|@")
_SEPARATORS = re.compile(
    r"^(?:"
    r"-{2,}\s*(?:original message|原始邮件|原始郵件|邮件原件|原邮件|回复的原邮件|original)\s*-{2,}"
    r"|-{2,}\s*(?:reply message|回复邮件)\s*-{2,}"
    r")$",
    re.IGNORECASE,
)
_FORWARDS = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|forwarded e-?mail|转发邮件信息|转发的邮件|原始转发邮件|转发邮件)"
    r"\s*-{2,}|begin forwarded message\s*:)$",
    re.IGNORECASE,
)
# Outlook header block: "From: … / Sent: … / To: … / Subject: …" (and the Chinese Outlook/Foxmail one)
_HEADER_FROM = re.compile(r"^\*?\s*(?:from|发件人|寄件者|寄件人)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\*?\s*(?:sent|date|to|cc|subject|发送时间|时间|日期|收件人|抄送|主题|傳送時間|收件者|主旨|副本)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_HEADER_SUBJECT_OR_DATE = re.compile(
    r"^\*?\s*(?:sent|date|subject|发送时间|时间|日期|主题|傳送時間|主旨)\s*\*?\s*[:：]", re.IGNORECASE
)
_RULE = re.compile(r"^(?:_{5,}|-{5,}|={5,})$")  # Outlook's line above the header block
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|转发|轉寄|转寄)\s*[:：]", re.IGNORECASE)


def _is_header_block(lines: list[str], i: int) -> bool:
    """A "From:" line followed within a few lines by a date/subject line and other header lines."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1 : i + 8] if line]
    headers = 0
    dated = False
    for line in following[:6]:
        if _HEADER_OTHER.match(line):
            headers += 1
            dated = dated or bool(_HEADER_SUBJECT_OR_DATE.match(line))
        else:
            break
    return headers >= 2 and dated


def _is_attribution(line: str) -> bool:
    return bool(
        (_WROTE_ZH.match(line) or _WROTE_EN.match(line) or _WROTE_OTHER.match(line))
        and _DATE_OR_ADDRESS.search(line)
    )


def _attribution_at(lines: list[str], i: int) -> bool:
    line = lines[i]
    if not line or line.startswith(">"):
        return False
    if _is_attribution(line):
        return True
    # a wrapped attribution: "On Tue, … Zhang San <" + "z@example.cn> wrote:"
    if re.match(r"^on\b", line, re.IGNORECASE) or line.startswith("在"):
        for extra in (1, 2):
            if _is_attribution(" ".join(lines[i : i + 1 + extra])):
                return True
    return False


def _quote_start(lines: list[str], limit: int) -> int | None:
    """Index of the first line of quoted history before line `limit`, or None."""
    for i in range(limit):
        if _SEPARATORS.match(lines[i]) or _attribution_at(lines, i) or _is_header_block(lines, i):
            return i
    if limit < len(lines):
        return None  # the end of the text is forwarded content
    # no marker: a block of "> " lines at the very end
    end = limit
    while end > 0 and not lines[end - 1]:
        end -= 1
    start = end
    while start > 0 and (lines[start - 1].startswith(">") or not lines[start - 1]):
        start -= 1
    while start < end and not lines[start]:
        start += 1
    if start < end:
        return start
    return None


def trim_quoted(text: str, *, subject: str = "") -> str:
    """The new part of a reply: `text` without the quoted history at its end. Returns `text`
    unchanged when nothing is quoted, when trimming would leave nothing, or for a forward (the
    subject starts with Fwd:/转发: or the quote marker is a forwarded-message separator)."""
    if not text or _FORWARD_SUBJECT.match(subject or ""):
        return text
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [line.strip() for line in raw_lines]
    limit = len(lines)
    for i, line in enumerate(lines):
        if _FORWARDS.match(line):
            limit = i  # what follows is forwarded content: never trim it
            break
    start = _quote_start(lines, limit)
    if start is None:
        return text
    # the rule Outlook draws above its header block, and blank lines, belong to the quote
    while start > 0 and (not lines[start - 1] or _RULE.match(lines[start - 1])):
        start -= 1
    kept = "\n".join(raw_lines[:start]).rstrip()
    if not kept.strip():
        return text
    return kept
