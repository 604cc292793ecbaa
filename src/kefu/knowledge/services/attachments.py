"""Images and PDFs of articles. The type is sniffed from the content (never the name); at most 10 MB;
the same file twice on one article is stored once. Markdown links to a file by its URL,
/kb/attachments/<id>/ (the only image source article bodies may use besides relative paths)."""

from __future__ import annotations

import hashlib
from typing import Any

import filetype
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import LimitExceeded, UnsupportedMediaType, ValidationFailed
from kefu.core.permissions import authorize
from kefu.knowledge import events
from kefu.knowledge.models import ArticleAttachment
from kefu.knowledge.services.articles import _lock

MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ALLOWED_TYPES = IMAGE_TYPES | {"application/pdf"}


def sniff(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind is not None else "application/octet-stream"


def _clean_name(name: str) -> str:
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return "".join(ch for ch in base if ch.isprintable())[:200] or "file"


def attachment_url(att: ArticleAttachment) -> str:
    return reverse("knowledge:attachment", args=[att.pk])


def attachment_markdown(att: ArticleAttachment) -> str:
    """What to paste into the body: an image, or a link to the PDF."""
    label = att.filename.replace("[", "(").replace("]", ")")
    prefix = "!" if att.content_type in IMAGE_TYPES else ""
    return f"{prefix}[{label}]({attachment_url(att)})"


@transaction.atomic
def upload_article_attachment(*, actor: Any, article_id: int, file: Any) -> ArticleAttachment:
    """Store an uploaded image (JPEG, PNG, GIF, WebP) or PDF for an article."""
    authorize(actor, "kb.edit")
    if file is None:
        raise ValidationFailed(_("Choose a file to upload."), field="file")
    name = _clean_name(getattr(file, "name", "") or "")
    too_large = LimitExceeded(
        _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": MAX_BYTES // (1024 * 1024)},
        field="file",
        code="file_too_large",
    )
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise too_large
    data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise too_large
    if not data:
        raise ValidationFailed(_("%(name)s is empty.") % {"name": name}, field="file")
    mime = sniff(data)
    if mime not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            _("%(name)s: only images (JPEG, PNG, GIF, WebP) and PDF files may be attached.") % {"name": name},
            field="file",
        )
    article = _lock(article_id)
    digest = hashlib.sha256(data).hexdigest()
    existing = article.attachments.filter(sha256=digest).first()
    if existing is not None:
        return existing
    att = ArticleAttachment(
        article=article,
        filename=name,
        content_type=mime,
        size=len(data),
        sha256=digest,
        created_at=clock.now(),
    )
    att.file.save(digest, ContentFile(data), save=False)
    att.save()
    record_event(
        actor=actor,
        verb=events.ARTICLE_ATTACHMENT_ADDED.verb,
        subject=article,
        data={"article_id": article.pk, "title": article.title, "attachment_id": att.pk, "filename": name},
    )
    return att
