"""Real files for the repair-request tests: photos with a GPS position (made with Pillow), the tiny
MP4 in fixtures/ (made once with ffmpeg; CI only reads it), and files that only pretend."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from kefu.tickets.attachments import IncomingFile, sniff

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VIDEO = (FIXTURES / "repair.mp4").read_bytes()  # 2 s, 160×120, H.264
GPS_IFD = 0x8825
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A photo stored sideways (EXIF orientation 6) carrying the GPS position of the customer's home."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (31.0, 13.0, 45.6)
    gps[3], gps[4] = "E", (121.0, 28.0, 12.3)
    out = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "上海市浦东新区某某路 1 号")
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    im = Image.open(io.BytesIO(data))
    return bool(im.getexif().get_ifd(GPS_IFD)) or b"Exif" in data


def incoming(data: bytes, name: str) -> IncomingFile:
    return IncomingFile(name, data, sniff(data), hashlib.sha256(data).hexdigest())


def upload(data: bytes, name: str, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
