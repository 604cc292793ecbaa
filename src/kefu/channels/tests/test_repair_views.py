"""The public repair form at /service/repair/ and its confirmation page; what the agent then sees."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.channels.models import ChannelSettings, RepairRequest
from kefu.channels.tests.repair_files import PDF, VIDEO, jpeg_with_gps, upload
from kefu.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db
FORM = "/service/repair/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def form_data(**overrides):
    return {
        "phone": "13800138000",
        "name": "陈女士",
        "product_model": "KF-500",
        "purchase_channel": "official",
        "address": "广州市天河区体育西路 100 号",
        "description": "冰箱不制冷，压缩机不启动。",
        "idempotency_key": "form-abc",
        **overrides,
    }


def field_error(html: str, field: str) -> str:
    m = re.search(rf'<div class="invalid-feedback d-block" id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    return m.group(1) if m else ""


def test_the_form_page_works_without_signing_in(client):
    r = client.get(FORM)
    assert r.status_code == 200
    html = r.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert re.search(r'<input type="file" name="photos"[^>]*multiple', html)
    assert re.search(r'<input type="file" name="videos"[^>]*multiple', html)
    assert 'accept="image/jpeg,image/png,image/webp,image/gif"' in html and 'accept="video/mp4' in html
    assert 'data-testid="language-form"' in html and 'action="/i18n/setlang/"' in html
    assert "kf-nav-items" not in html  # no console navigation
    assert "<script" not in html  # works without JavaScript


def test_a_request_redirects_to_the_tracking_number_and_reaches_the_agent(
    client, django_capture_on_commit_callbacks
):
    # given the repair team and one of its agents
    team = TeamFactory(name="售后维修组")
    row = ChannelSettings.load()
    row.repair_team = team
    row.save()
    agent = UserFactory(role="agent", teams=[team])
    # when a customer sends the form with a photo and a video
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            FORM,
            form_data(
                photos=[upload(jpeg_with_gps(), "故障.jpg", "image/jpeg")],
                videos=[upload(VIDEO, "故障.mp4", "video/mp4")],
            ),
        )
    # then the confirmation page shows the tracking number
    ticket = Ticket.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/service/repair/done/{ticket.number}/"
    done = client.get(r["Location"])
    assert done.status_code == 200 and ticket.number in done.content.decode()
    assert RepairRequest.objects.get().source == "web" and ticket.channel == "web"
    # and the agent's ticket page shows the photo's thumbnail and plays the video
    photo = Attachment.objects.get(content_type="image/jpeg")
    video = Attachment.objects.get(content_type="video/mp4")
    assert photo.thumbnail
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(agent)
    html = browser.get(f"/tickets/{ticket.pk}/").content.decode()
    photo_url = f"/api/v1/tickets/{ticket.pk}/attachments/{photo.pk}"
    video_url = f"/api/v1/tickets/{ticket.pk}/attachments/{video.pk}"
    assert f'<a href="{photo_url}"' in html and f'<img src="{photo_url}?thumb=1"' in html
    assert re.search(rf'<video controls[^>]*src="{video_url}"', html)
    # and the player may seek in the video
    part = browser.get(video_url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == VIDEO[1000:2000]


def test_a_double_submit_lands_on_the_same_tracking_number(client):
    first = client.post(FORM, form_data())
    second = client.post(FORM, form_data())
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1


def test_errors_show_next_to_the_field_and_keep_what_was_typed(client):
    r = client.post(FORM, form_data(phone="12345", description=""))
    assert r.status_code == 422
    html = r.content.decode()
    assert field_error(html, "description")
    assert not Ticket.objects.exists()
    # the service's check of the phone lands on the phone once the form is complete
    r = client.post(FORM, form_data(phone="12345"))
    assert r.status_code == 422
    html = r.content.decode()
    assert "mobile number" in field_error(html, "phone")
    assert 'value="陈女士"' in html and "冰箱不制冷，压缩机不启动。" in html and 'value="12345"' in html
    assert 'aria-invalid="true"' in html


def test_a_pdf_named_jpg_is_refused_naming_the_file(client):
    r = client.post(FORM, form_data(photos=[upload(PDF, "发票.jpg", "image/jpeg")]))
    assert r.status_code == 415
    assert "发票.jpg" in field_error(r.content.decode(), "photos")
    assert not Ticket.objects.exists()


def test_ten_photos_and_three_videos_are_refused_on_their_inputs(client):
    photo = jpeg_with_gps()
    r = client.post(FORM, form_data(photos=[upload(photo, f"p{i}.jpg") for i in range(10)]))
    assert r.status_code == 413 and "9" in field_error(r.content.decode(), "photos")
    r = client.post(FORM, form_data(videos=[upload(VIDEO, f"v{i}.mp4") for i in range(3)]))
    assert r.status_code == 413 and "2" in field_error(r.content.decode(), "videos")
    assert not Ticket.objects.exists()


def test_a_body_too_large_for_any_request_gets_a_413_page_not_a_500(client):
    r = client.post(FORM, form_data(), CONTENT_LENGTH=str(400 * 1024 * 1024))
    assert r.status_code == 413
    assert 'data-testid="page-error"' in r.content.decode()


def test_rate_limited_per_ip_with_a_message(client, settings):
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 1
    assert client.post(FORM, form_data(idempotency_key="a")).status_code == 302
    r = client.post(FORM, form_data(idempotency_key="b", phone="13900139000"))
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert "Too many requests" in r.content.decode()


def test_csrf_stays_on(client):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(FORM, form_data()).status_code == 403
    assert not Ticket.objects.exists()


def test_the_confirmation_page_shows_only_well_formed_numbers(client):
    assert client.get("/service/repair/done/T2026030200001/").status_code == 200
    assert client.get("/service/repair/done/<script>/").status_code == 404


def test_the_form_is_in_chinese_by_default():
    html = Client().get(FORM).content.decode()
    assert '<html lang="zh-hans">' in html
