"""The result of parsing a mail: ParsedMail and its MailAttachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
