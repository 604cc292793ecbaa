"""Photos and videos of repair requests: read from the web form or kept as pending uploads for the
mini-program (one file per request, as wx.uploadFile sends it; single-use tokens valid for 24 hours).
Types are sniffed from the content, never from the name; counts and sizes are limited; photos are
re-encoded without metadata (kefu.tickets.images)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from kefu.channels.models import PendingUpload
from kefu.core import clock, ratelimit
from kefu.core.errors import LimitExceeded, UnsupportedMediaType, ValidationFailed
from kefu.tickets.attachments import IncomingFile, sniff
from kefu.tickets.images import strip_metadata

MAX_PHOTOS = 9
MAX_VIDEOS = 2
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
UPLOAD_TTL = timedelta(hours=24)
_SNIFF_BYTES = 8192


# --- files ---------------------------------------------------------------------------------------


def file_kind(content_type: str) -> str | None:
    if content_type in PHOTO_TYPES:
        return "image"
    if content_type in VIDEO_TYPES:
        return "video"
    return None


def kind_field(kind: str | None, default: str = "files") -> str:
    return {"image": "photos", "video": "videos"}.get(kind or "", default)


def max_bytes(kind: str) -> int:
    mb = settings.KEFU_REPAIR_MAX_IMAGE_MB if kind == "image" else settings.KEFU_REPAIR_MAX_VIDEO_MB
    return mb * 1024 * 1024


def max_body_bytes() -> int:
    """The largest request body a repair form may send: every file at its limit plus 1 MB of fields."""
    return MAX_PHOTOS * max_bytes("image") + MAX_VIDEOS * max_bytes("video") + 1024 * 1024


def _clean_name(name: str) -> str:
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return "".join(ch for ch in base if ch.isprintable())[:200]


def _refuse_type(name: str, mime: str, field: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        _(
            "%(name)s is not a photo or a video we accept (it is %(type)s). "
            "Send photos as JPEG, PNG, WebP or GIF and videos as MP4, MOV or WebM."
        )
        % {"name": name, "type": mime},
        field=field,
    )


def _too_large(name: str, kind: str) -> LimitExceeded:
    mb = max_bytes(kind) // (1024 * 1024)
    if kind == "image":
        message = _("Photo %(name)s is larger than %(mb)d MB.") % {"name": name, "mb": mb}
    else:
        message = _("Video %(name)s is larger than %(mb)d MB.") % {"name": name, "mb": mb}
    return LimitExceeded(message, field=kind_field(kind), code="file_too_large")


def check_counts(kinds: Iterable[str | None]) -> None:
    kinds = list(kinds)
    photos, videos = kinds.count("image"), kinds.count("video")
    if photos > MAX_PHOTOS:
        raise LimitExceeded(
            _("At most %(max)d photos per repair request (you sent %(n)d).")
            % {"max": MAX_PHOTOS, "n": photos},
            field="photos",
            code="too_many_photos",
        )
    if videos > MAX_VIDEOS:
        raise LimitExceeded(
            _("At most %(max)d videos per repair request (you sent %(n)d).")
            % {"max": MAX_VIDEOS, "n": videos},
            field="videos",
            code="too_many_videos",
        )


def read_uploads(uploads: list[tuple[str, UploadedFile]]) -> list[IncomingFile]:
    """Read uploaded files, given as (form field, file): the type is sniffed from the content, counts
    are checked before anything is read in full, and no file is read past its size limit."""
    heads = []
    for field, f in uploads:
        name = _clean_name(f.name or "")
        f.seek(0)
        head = f.read(_SNIFF_BYTES)
        if not head:
            raise ValidationFailed(_("%(name)s is empty.") % {"name": name}, field=field)
        mime = sniff(head)
        kind = file_kind(mime)
        if kind is None:
            raise _refuse_type(name, mime, field)
        heads.append((f, name, head, mime, kind))
    check_counts(h[4] for h in heads)
    out = []
    for f, name, head, mime, kind in heads:
        limit = max_bytes(kind)
        if f.size is not None and f.size > limit:
            raise _too_large(name, kind)
        data = head + f.read(limit + 1 - len(head))
        if len(data) > limit:
            raise _too_large(name, kind)
        out.append(IncomingFile(name, data, mime, hashlib.sha256(data).hexdigest()))
    return out


def checked_files(files: list[IncomingFile]) -> list[IncomingFile]:
    """Sniff again (the caller's content type is not trusted), check types, counts and sizes."""
    checked = []
    for f in files:
        mime = sniff(f.content[:_SNIFF_BYTES]) if f.content else "application/x-empty"
        kind = file_kind(mime)
        if kind is None:
            raise _refuse_type(f.filename, mime, "files")
        if len(f.content) > max_bytes(kind):
            raise _too_large(f.filename, kind)
        checked.append(IncomingFile(f.filename, f.content, mime, f.sha256, f.content_id))
    check_counts(file_kind(f.content_type) for f in checked)
    return checked


# --- pending uploads (mini-program) --------------------------------------------------------------


def hit(scope: str, key: str | None, *, limit: int, window_seconds: int) -> None:
    if key:
        ratelimit.hit(scope, key, limit=limit, window_seconds=window_seconds)


def create_pending_upload(*, file: UploadedFile, ip: str | None) -> PendingUpload:
    """Keep one photo or video (as wx.uploadFile sends it) for a later repair request; photos are
    stored re-encoded without metadata. The token is single use and expires after 24 hours."""
    per_hour = settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR * (MAX_PHOTOS + MAX_VIDEOS)
    hit("repair-upload", ip, limit=per_hour, window_seconds=3600)
    [incoming] = read_uploads([("file", file)])
    if file_kind(incoming.content_type) == "image":
        incoming = refield(strip_metadata, incoming, "file")
    return PendingUpload.objects.create(
        token=secrets.token_urlsafe(32),
        file=ContentFile(incoming.content, name=uuid.uuid4().hex),
        filename=incoming.filename,
        content_type=incoming.content_type,
        size=len(incoming.content),
        sha256=incoming.sha256,
        ip=ip,
        created_at=clock.now(),
    )


def refield(fn: Callable[[IncomingFile], IncomingFile], f: IncomingFile, field: str) -> IncomingFile:
    try:
        return fn(f)
    except (UnsupportedMediaType, LimitExceeded) as exc:
        exc.field = field
        raise


def _unusable_upload(n: int) -> ValidationFailed:
    return ValidationFailed(
        _("Upload %(n)d is unknown, expired or already used; please upload that file again.") % {"n": n},
        field="uploads",
        code="upload_expired",
    )


def usable_uploads(tokens: list[str]) -> list[PendingUpload]:
    tokens = list(dict.fromkeys(t for t in tokens if isinstance(t, str) and t))
    if len(tokens) > MAX_PHOTOS + MAX_VIDEOS:
        raise LimitExceeded(
            _("At most %(photos)d photos and %(videos)d videos per repair request.")
            % {"photos": MAX_PHOTOS, "videos": MAX_VIDEOS},
            field="uploads",
            code="too_many_files",
        )
    fresh_since = clock.now() - UPLOAD_TTL
    found = {
        u.token: u
        for u in PendingUpload.objects.filter(
            token__in=tokens, used_at__isnull=True, created_at__gt=fresh_since
        )
    }
    for n, token in enumerate(tokens, start=1):
        if token not in found:
            raise _unusable_upload(n)
    return [found[t] for t in tokens]


def read_pending(upload: PendingUpload) -> IncomingFile:
    try:
        with upload.file.open("rb") as f:
            data = f.read()
    except OSError as exc:
        raise ValidationFailed(
            _("%(name)s is no longer available; please upload it again.") % {"name": upload.filename},
            field="uploads",
        ) from exc
    return IncomingFile(upload.filename, data, upload.content_type, upload.sha256)


def prune_pending_uploads() -> int:
    """Delete uploads used or expired (their files too); returns how many rows went."""
    stale = PendingUpload.objects.filter(created_at__lt=clock.now() - UPLOAD_TTL - timedelta(hours=1))
    used = PendingUpload.objects.filter(used_at__isnull=False)
    n = 0
    for upload in (stale | used).order_by("id")[:1000]:
        upload.file.delete(save=False)
        upload.delete()
        n += 1
    return n
