"""Photos re-encoded without metadata (EXIF/GPS, XMP, PNG text), upright; thumbnails."""

import hashlib
import io

import pytest
from PIL import Image, PngImagePlugin

from kefu.core.errors import LimitExceeded, UnsupportedMediaType
from kefu.tickets.attachments import IncomingFile, sniff
from kefu.tickets.images import make_thumbnail, strip_metadata

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def incoming(data: bytes, name: str) -> IncomingFile:
    return IncomingFile(name, data, sniff(data), hashlib.sha256(data).hexdigest())


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (31.0, 13.0, 45.6)
    gps[3], gps[4] = "E", (121.0, 28.0, 12.3)
    return exif


def jpeg_with_gps(size=(40, 20), orientation: int = 6) -> bytes:
    """A landscape picture stored sideways (orientation 6: rotate 90° to show), with a GPS position."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue, to check the rotation
    out = io.BytesIO()
    im.save(out, "JPEG", exif=gps_exif(orientation), xmp=b"<x:xmpmeta>home</x:xmpmeta>", comment=b"at home")
    return out.getvalue()


def test_jpeg_loses_gps_and_exif_and_is_turned_upright():
    # given a sideways JPEG that carries a GPS position, XMP and a comment
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    # when it is stripped
    out = strip_metadata(incoming(data, "fault.jpg"))
    # then it is still a JPEG with the same name, but upright and without any metadata
    im = Image.open(io.BytesIO(out.content))
    assert (im.format, out.content_type, out.filename) == ("JPEG", "image/jpeg", "fault.jpg")
    assert im.size == (20, 40)
    assert dict(im.getexif()) == {}
    assert b"Exif" not in out.content and b"xmpmeta" not in out.content and b"at home" not in out.content
    # the top of the upright picture is the former left half (blue)
    r, g, b = im.convert("RGB").getpixel((10, 5))
    assert b > 150 and r < 100
    assert out.sha256 == hashlib.sha256(out.content).hexdigest() != hashlib.sha256(data).hexdigest()


def test_png_text_chunks_and_exif_are_dropped_transparency_kept():
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "上海市浦东新区")
    info.add_itxt("XML:com.adobe.xmp", "<gps>31.2,121.4</gps>")
    im = Image.new("RGBA", (8, 8), (0, 0, 255, 100))
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info, exif=gps_exif())
    out = strip_metadata(incoming(buf.getvalue(), "screen.png"))
    clean = Image.open(io.BytesIO(out.content))
    assert clean.format == "PNG" and clean.mode == "RGBA"
    assert clean.getpixel((0, 0)) == (0, 0, 255, 100)
    assert clean.info == {}
    for marker in (b"tEXt", b"iTXt", b"eXIf", "上海".encode()):
        assert marker not in out.content


def test_webp_and_animated_gif_keep_their_format_without_metadata():
    webp = io.BytesIO()
    Image.new("RGB", (12, 6)).save(webp, "WEBP", exif=gps_exif(), xmp=b"<gps/>")
    out = strip_metadata(incoming(webp.getvalue(), "a.webp"))
    assert Image.open(io.BytesIO(out.content)).format == "WEBP"
    assert b"<gps/>" not in out.content and b"EXIF" not in out.content

    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    gif = io.BytesIO()
    frames[0].save(
        gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"secret"
    )
    out = strip_metadata(incoming(gif.getvalue(), "blink.gif"))
    clean = Image.open(io.BytesIO(out.content))
    assert (clean.format, clean.n_frames) == ("GIF", 3)
    assert b"secret" not in out.content


def test_heic_is_refused_asking_for_jpeg():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert sniff(heic) == "image/heic"
    with pytest.raises(UnsupportedMediaType) as exc:
        strip_metadata(incoming(heic, "IMG_0001.HEIC"))
    assert "IMG_0001.HEIC" in exc.value.message and "JPEG" in exc.value.message


def test_decompression_bomb_and_broken_images_are_refused_naming_the_file(monkeypatch):
    # given a limit of 1000 pixels, a 40×40 picture counts as a bomb
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    buf = io.BytesIO()
    Image.new("L", (40, 40)).save(buf, "PNG")
    with pytest.raises(LimitExceeded) as exc:
        strip_metadata(incoming(buf.getvalue(), "huge.png"))
    assert "huge.png" in exc.value.message
    monkeypatch.undo()
    # a JPEG header followed by garbage
    with pytest.raises(UnsupportedMediaType) as exc:
        strip_metadata(incoming(b"\xff\xd8\xff\xe0" + b"\x00" * 200, "broken.jpg"))
    assert "broken.jpg" in exc.value.message


def test_other_types_pass_through_unchanged():
    f = incoming(b"%PDF-1.4\n%%EOF\n", "manual.pdf")
    assert strip_metadata(f) is f


def test_thumbnail_is_a_small_upright_jpeg():
    big = io.BytesIO()
    Image.new("RGBA", (1200, 600), (0, 128, 0, 0)).save(big, "PNG")
    thumb = Image.open(io.BytesIO(make_thumbnail(big.getvalue())))
    assert thumb.format == "JPEG" and thumb.size == (320, 160)
    assert thumb.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)  # transparency on white

    upright = Image.open(io.BytesIO(make_thumbnail(jpeg_with_gps(size=(800, 400)), max_px=100)))
    assert upright.size == (50, 100)
