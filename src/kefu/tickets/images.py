"""Photos from the public: re-encoded without metadata (no EXIF location, no XMP, no text chunks),
turned upright first; and JPEG thumbnails for the ticket page."""

from __future__ import annotations

import hashlib
import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from kefu.core.errors import LimitExceeded, UnsupportedMediaType
from kefu.tickets.attachments import IncomingFile

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
JPEG_QUALITY = 88
# animations are kept when small; larger ones become their first frame
MAX_ANIMATION_FRAMES = 100
MAX_ANIMATION_PIXELS = 40_000_000  # frames × width × height
# the only image info kept: what the pixels need to look right (never metadata)
_KEEP_INFO = ("transparency", "duration", "loop", "background", "disposal")


def _open(data: bytes, name: str) -> Image.Image:
    """Open an image, refusing decompression bombs (more pixels than Image.MAX_IMAGE_PIXELS)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if Image.MAX_IMAGE_PIXELS and im.width * im.height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            return im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceeded(
            _("%(name)s has too many pixels to be an ordinary photo.") % {"name": name},
            field="files",
            code="image_too_large",
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnsupportedMediaType(
            _("%(name)s could not be read as an image.") % {"name": name}, field="files"
        ) from exc


def _clean_info(im: Image.Image, source: dict) -> Image.Image:
    im.info = {k: source[k] for k in _KEEP_INFO if k in source}
    return im


def _encode(im: Image.Image, fmt: str, frames: list[Image.Image] | None = None) -> bytes:
    out = io.BytesIO()
    params: dict = {}
    if fmt == "JPEG":
        if im.mode not in ("RGB", "L", "CMYK"):
            im = im.convert("RGB")
        params = {"quality": JPEG_QUALITY, "optimize": True}
    elif fmt == "WEBP":
        params = {"quality": JPEG_QUALITY}
    elif fmt == "PNG":
        params = {"optimize": False}
    if frames:
        params.update(save_all=True, append_images=frames[1:])
        im = frames[0]
    im.save(out, format=fmt, **params)
    return out.getvalue()


def _frames(im: Image.Image) -> list[Image.Image] | None:
    """Every frame (metadata dropped) of a small animation; None for a still or a large animation."""
    n = getattr(im, "n_frames", 1)
    if n <= 1 or n > MAX_ANIMATION_FRAMES or n * im.width * im.height > MAX_ANIMATION_PIXELS:
        return None
    frames = []
    for frame in ImageSequence.Iterator(im):
        info = dict(frame.info)
        frames.append(_clean_info(frame.copy(), info))
    return frames


def strip_metadata(f: IncomingFile) -> IncomingFile:
    """Re-encode a JPEG, PNG, WebP or GIF without metadata, upright (EXIF orientation applied), in its
    own format; a new sha256. HEIC is refused (browsers cannot show it; phones can send JPEG); other
    types are returned as they are. Raises UnsupportedMediaType or LimitExceeded naming the file."""
    if f.content_type == "image/heic":
        raise UnsupportedMediaType(
            _(
                "%(name)s is a HEIC photo, which we cannot show. Please send it as JPEG "
                "(most phones can send JPEG: choose “Most compatible” in the camera settings, "
                "or share the photo as JPEG)."
            )
            % {"name": f.filename},
            field="files",
            code="heic_not_accepted",
        )
    fmt = FORMATS.get(f.content_type)
    if fmt is None:
        return f
    im = _open(f.content, f.filename)
    try:
        frames = _frames(im) if fmt in ("GIF", "WEBP") else None
        if frames:
            data = _encode(frames[0], fmt, frames)
        else:
            im.seek(0)
            info = dict(im.info)
            upright = ImageOps.exif_transpose(im) or im
            upright.load()
            clean = upright.copy() if upright is im else upright
            data = _encode(_clean_info(clean, info), fmt)
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt pixel data
        raise UnsupportedMediaType(
            _("%(name)s could not be read as an image.") % {"name": f.filename}, field="files"
        ) from exc
    finally:
        im.close()
    return IncomingFile(
        filename=f.filename,
        content=data,
        content_type=f.content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        content_id=f.content_id,
    )


def make_thumbnail(data: bytes, max_px: int = 320) -> bytes:
    """A JPEG at most max_px on each side (upright, first frame, transparency on white)."""
    im = _open(data, "image")
    try:
        if im.format == "JPEG":
            im.draft("RGB", (max_px * 2, max_px * 2))  # decode at a reduced scale: fast for big photos
        im.seek(0)
        upright = ImageOps.exif_transpose(im) or im
        if upright.mode in ("RGBA", "LA", "P", "PA"):
            rgba = upright.convert("RGBA")
            upright = Image.new("RGB", rgba.size, (255, 255, 255))
            upright.paste(rgba, mask=rgba.getchannel("A"))
        elif upright.mode != "RGB":
            upright = upright.convert("RGB")
        upright.thumbnail((max_px, max_px))
        out = io.BytesIO()
        upright.save(out, format="JPEG", quality=80, optimize=True)
        return out.getvalue()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedMediaType(_("The image could not be read."), field="files") from exc
    finally:
        im.close()
