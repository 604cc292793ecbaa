"""Background jobs of tickets: ids in, idempotent."""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from huey.contrib.djhuey import db_task

from kefu.core.errors import DomainError
from kefu.tickets import images
from kefu.tickets.models import Attachment

log = logging.getLogger(__name__)

THUMBNAIL_TYPES = frozenset(images.FORMATS)  # what Pillow reads and browsers show


def make_attachment_thumbnail(attachment_id: int) -> bool:
    """Save a JPEG preview of an image attachment; False when there is nothing to do (gone, not an
    image, already made) or the image cannot be read (the page then shows the full image)."""
    att = Attachment.objects.filter(pk=attachment_id).first()
    if att is None or att.thumbnail or att.content_type not in THUMBNAIL_TYPES:
        return False
    try:
        with att.file.open("rb") as f:
            data = f.read()
        thumb = images.make_thumbnail(data)
    except (DomainError, OSError) as exc:
        log.warning("no thumbnail for attachment %s: %s", attachment_id, exc)
        return False
    name = f"{att.sha256 or att.pk}.jpg"
    att.thumbnail.save(name, ContentFile(thumb), save=False)
    # a conditional update: a concurrent run that saved first keeps its file
    saved = Attachment.objects.filter(pk=att.pk, thumbnail="").update(thumbnail=att.thumbnail.name)
    if not saved:
        att.thumbnail.storage.delete(att.thumbnail.name)
    return bool(saved)


@db_task(retries=2, retry_delay=60)
def make_thumbnail_task(attachment_id: int) -> None:
    make_attachment_thumbnail(attachment_id)
