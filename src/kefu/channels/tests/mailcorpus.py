"""Real-world-shaped mails for tests: the committed corpus/*.eml files and a large-mail builder.

    raw = load("outlook_reply.eml", original_id="abc@kefu.example", from_addr="someone@example.cn")

Keyword arguments other than to_addr/from_addr/message_id replace placeholders in the file:
original_id="x" replaces PLACEHOLDER-ORIGINAL-ID (also accepted: PLACEHOLDER_ORIGINAL_ID="x").
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

NAMES = sorted(p.name for p in CORPUS_DIR.glob("*.eml"))


def _placeholder(key: str) -> bytes:
    name = key.upper().replace("_", "-")
    if not name.startswith("PLACEHOLDER-"):
        name = "PLACEHOLDER-" + name
    return name.encode("ascii")


def _split_headers(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header block, line separator, rest starting with the blank line)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    if match is None:
        return raw, b"\n", b""
    newline = b"\r\n" if raw[match.start() : match.start() + 2] == b"\r\n" else b"\n"
    return raw[: match.start()], newline, raw[match.start() :]


def _set_header(head: bytes, newline: bytes, name: str, value: bytes, *, keep_name: bool = False) -> bytes:
    """Replace the value of top-level header `name` (with its folded lines), or append it."""
    pattern = re.compile(rb"(?im)^" + re.escape(name.encode()) + rb":[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")
    match = pattern.search(head)
    if match is None:
        return head + newline + name.encode() + b": " + value
    old = match.group(0)
    if keep_name:  # keep the display name, swap the address in <…> (or the whole value)
        brackets = re.search(rb"<[^<>]*>", old)
        if brackets:
            new = old[: brackets.start()] + b"<" + value + b">" + old[brackets.end() :]
            return head[: match.start()] + new + head[match.end() :]
    return head[: match.start()] + name.encode() + b": " + value + head[match.end() :]


def load(
    name: str,
    *,
    to_addr: str | None = None,
    from_addr: str | None = None,
    message_id: str | None = None,
    **subs: str,
) -> bytes:
    """The raw bytes of corpus/`name` (".eml" optional) with placeholders and headers replaced.
    to_addr replaces the whole To: value, from_addr the address in From: (the display name stays),
    message_id the Message-ID (added when the file has none; give it without <>)."""
    path = CORPUS_DIR / (name if name.endswith(".eml") else name + ".eml")
    raw = path.read_bytes()
    for key, value in subs.items():
        placeholder = _placeholder(key)
        if placeholder not in raw:
            raise ValueError(f"{placeholder.decode()} does not occur in {path.name}")
        raw = raw.replace(placeholder, str(value).strip().strip("<>").encode("utf-8"))
    if to_addr is None and from_addr is None and message_id is None:
        return raw
    head, newline, rest = _split_headers(raw)
    if to_addr is not None:
        head = _set_header(head, newline, "To", to_addr.encode("utf-8"))
    if from_addr is not None:
        head = _set_header(head, newline, "From", from_addr.encode("utf-8"), keep_name=True)
    if message_id is not None:
        head = _set_header(head, newline, "Message-ID", b"<" + message_id.strip("<>").encode("utf-8") + b">")
    return head + rest


def make_large_message(
    size_mb: int,
    *,
    to_addr: str,
    from_addr: str,
    message_id: str | None = None,
    subject: str = "大附件 / large attachment",
) -> bytes:
    """A mail with a PDF attachment of `size_mb` MiB (built in memory; base64 makes the raw mail ~1.37×
    larger). The content is deterministic pseudo-random bytes, so it does not compress."""
    payload_size = size_mb * 1024 * 1024
    header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    filler = random.Random(size_mb).randbytes(max(0, payload_size - len(header) - 6))
    content = (header + filler + b"\n%%EOF")[:payload_size] if payload_size else b""
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{message_id or f'large-{size_mb}mb@test.kefu.example'}>"
    msg.set_content("附件是产品故障的录像。\nThe attachment is a video of the fault.\n")
    msg.add_attachment(content, maintype="application", subtype="pdf", filename=f"large-{size_mb}mb.pdf")
    return msg.as_bytes()
