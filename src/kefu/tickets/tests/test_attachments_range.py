"""Attachments on the ticket page: thumbnails made in the background after commit, `?thumb=1`, and
HTTP Range requests so browsers can seek in videos."""

import hashlib
import io
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.tickets import services
from kefu.tickets.attachments import IncomingFile, sniff
from kefu.tickets.models import Attachment
from kefu.tickets.tasks import make_attachment_thumbnail

pytestmark = pytest.mark.django_db
VIDEO = (Path(__file__).resolve().parents[2] / "channels" / "tests" / "fixtures" / "repair.mp4").read_bytes()


def incoming(data: bytes, name: str) -> IncomingFile:
    return IncomingFile(name, data, sniff(data), hashlib.sha256(data).hexdigest())


def photo(size=(900, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def team():
    return TeamFactory(name="售后二组")


@pytest.fixture
def agent(team):
    return UserFactory(username="zhao", role="agent", teams=[team])


@pytest.fixture
def ticket(agent, team):
    t, _ = services.create_ticket(
        actor=agent,
        subject="洗衣机漏水",
        customer_name="赵先生",
        customer_identities={"phone": "13900139000"},
        team_id=team.pk,
    )
    return t


@pytest.fixture
def attachments(agent, ticket, django_capture_on_commit_callbacks):
    # given a customer message with a photo and a video, committed (thumbnails run after commit)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_message(
            actor=agent,
            ticket_id=ticket.pk,
            kind="customer",
            body="见照片和视频",
            files=[incoming(photo(), "漏水.jpg"), incoming(VIDEO, "漏水.mp4")],
        )
    image = Attachment.objects.get(ticket=ticket, content_type="image/jpeg")
    video = Attachment.objects.get(ticket=ticket, content_type="video/mp4")
    return image, video


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def url(att) -> str:
    return f"/api/v1/tickets/{att.ticket_id}/attachments/{att.pk}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_thumbnail_is_made_after_commit_for_images_only(attachments):
    image, video = attachments
    assert image.thumbnail and not video.thumbnail
    thumb = Image.open(image.thumbnail.open("rb"))
    assert thumb.format == "JPEG" and max(thumb.size) == 320
    # running again changes nothing (idempotent)
    name = image.thumbnail.name
    assert make_attachment_thumbnail(image.pk) is False
    image.refresh_from_db()
    assert image.thumbnail.name == name
    assert make_attachment_thumbnail(video.pk) is False


def test_the_ticket_page_shows_the_thumbnail_linking_to_the_full_image_and_plays_the_video(
    agent, ticket, attachments
):
    image, video = attachments
    html = client_for(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    # the preview is the thumbnail, its link opens the full image
    assert f'<img src="{url(image)}?thumb=1" alt="漏水.jpg"' in html
    assert f'<a href="{url(image)}" target="_blank"' in html
    # the video plays inline, with controls
    assert f'src="{url(video)}"' in html
    video_tag = html[html.index("<video") : html.index("</video>")]
    assert "controls" in video_tag and url(video) in video_tag


def test_thumb_parameter_serves_the_jpeg_preview(agent, attachments):
    image, _video = attachments
    r = client_for(agent).get(url(image), {"thumb": "1"})
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body(r))).size == (320, 213)
    # the full image is the original
    full = client_for(agent).get(url(image))
    assert Image.open(io.BytesIO(body(full))).size == (900, 600)
    assert full["Content-Disposition"].startswith("inline")
    assert full["X-Content-Type-Options"] == "nosniff"


def test_full_download_advertises_ranges(agent, attachments):
    _image, video = attachments
    r = client_for(agent).get(url(video))
    assert r.status_code == 200
    assert r["Accept-Ranges"] == "bytes"
    assert r["Content-Type"] == "video/mp4"
    assert body(r) == VIDEO


def test_a_range_request_answers_206_with_exactly_those_bytes(agent, attachments):
    _image, video = attachments
    c = client_for(agent)
    # when the player asks for bytes 100–1099
    r = c.get(url(video), headers={"Range": "bytes=100-1099"})
    # then it gets exactly those, with the range and the total size
    assert r.status_code == 206
    assert r["Content-Range"] == f"bytes 100-1099/{len(VIDEO)}"
    assert r["Content-Length"] == "1000"
    assert r["Content-Type"] == "video/mp4"
    assert r["Content-Disposition"].startswith("inline")
    assert r["X-Content-Type-Options"] == "nosniff"
    assert body(r) == VIDEO[100:1100]
    # an open range and a suffix range
    r = c.get(url(video), headers={"Range": "bytes=7000-"})
    assert r.status_code == 206 and body(r) == VIDEO[7000:]
    r = c.get(url(video), headers={"Range": "bytes=-500"})
    assert r.status_code == 206 and body(r) == VIDEO[-500:]
    assert r["Content-Range"] == f"bytes {len(VIDEO) - 500}-{len(VIDEO) - 1}/{len(VIDEO)}"


def test_ranges_that_cannot_be_served_as_asked(agent, attachments):
    _image, video = attachments
    c = client_for(agent)
    # past the end: 416 with the size
    r = c.get(url(video), headers={"Range": f"bytes={len(VIDEO)}-"})
    assert r.status_code == 416 and r["Content-Range"] == f"bytes */{len(VIDEO)}"
    # malformed, several ranges, or an If-Range for another version: the whole file
    for headers in (
        {"Range": "bytes=abc"},
        {"Range": "bytes=0-10,20-30"},
        {"Range": "bytes=0-10", "If-Range": '"stale"'},
    ):
        r = c.get(url(video), headers=headers)
        assert r.status_code == 200 and body(r) == VIDEO
    # If-Range with the current ETag: the range
    etag = c.get(url(video))["ETag"]
    r = c.get(url(video), headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and body(r) == VIDEO[:10]


def test_an_agent_of_another_team_gets_404(attachments):
    _image, video = attachments
    outsider = UserFactory(role="agent", teams=[TeamFactory()])
    r = client_for(outsider).get(url(video), headers={"Range": "bytes=0-9"})
    assert r.status_code == 404
