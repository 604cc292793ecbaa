"""Attachment intake: size and count limits, type sniffed from content (never from the name)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from kefu.core.errors import LimitExceeded, UnsupportedMediaType, ValidationFailed

ALLOWED_TYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/mpeg",
    "audio/x-wav",
    "application/pdf",
    "application/zip",  # also docx/xlsx containers
    "text/plain",
}


@dataclass
class IncomingFile:
    filename: str
    content: bytes
    content_type: str
    sha256: str
    content_id: str = ""

    def as_django_file(self) -> ContentFile:
        return ContentFile(self.content, name=self.sha256)


def sniff(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return kind.mime
    try:
        text = data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte char may be cut at the boundary; try GB18030 for Chinese text files
        try:
            text = data[:65536].decode("gb18030")
        except UnicodeDecodeError:
            return "application/octet-stream"
    if "\x00" in text:
        return "application/octet-stream"
    return "text/plain"


def _clean_name(name: str) -> str:
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return "".join(ch for ch in base if ch.isprintable())[:200]


def _too_large(name: str, limit: int) -> str:
    return _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": limit // (1024 * 1024)}


def accept_files(files: list[UploadedFile]) -> list[IncomingFile]:
    """Check count, size and sniffed type of uploads; read them. Raises a 4xx DomainError."""
    if len(files) > settings.KEFU_MAX_ATTACHMENTS:
        raise LimitExceeded(
            _("At most %(n)d files per message.") % {"n": settings.KEFU_MAX_ATTACHMENTS},
            field="files",
            code="too_many_files",
        )
    out: list[IncomingFile] = []
    limit = settings.KEFU_MAX_ATTACHMENT_BYTES
    for f in files:
        name = _clean_name(f.name or "")
        if f.size is not None and f.size > limit:
            raise LimitExceeded(_too_large(name, limit), field="files", code="file_too_large")
        data = f.read(limit + 1)
        if len(data) > limit:
            raise LimitExceeded(_too_large(name, limit), field="files", code="file_too_large")
        if not data:
            raise ValidationFailed(_("%(name)s is empty.") % {"name": name}, field="files")
        mime = sniff(data)
        if mime not in ALLOWED_TYPES:
            raise UnsupportedMediaType(
                _("%(name)s: files of type %(type)s are not accepted.") % {"name": name, "type": mime},
                field="files",
            )
        out.append(IncomingFile(name, data, mime, hashlib.sha256(data).hexdigest()))
    return out
