"""The mini-program's public API: POST /api/v1/service/uploads, POST /repairs, GET /repairs/{number}."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.channels.models import PendingUpload, RepairRequest
from kefu.channels.services.repair import prune_pending_uploads
from kefu.channels.tests.repair_files import PDF, VIDEO, has_gps, jpeg_with_gps, upload
from kefu.core import clock
from kefu.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db
BASE = "/api/v1/service"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def send_file(client, data: bytes, name: str, **extra):
    # wx.uploadFile: multipart with the file as "file" (and formData fields, ignored here)
    return client.post(f"{BASE}/uploads", {"file": upload(data, name), "kind": "photo"}, **extra)


def repair_json(**overrides):
    return {
        "phone": "13800138000",
        "name": "李先生",
        "product_model": "KF-300",
        "purchase_channel": "tmall",
        "address": "北京市朝阳区建国路 88 号",
        "description": "滚筒不转，有异响。",
        "uploads": [],
        **overrides,
    }


def post_repair(client, payload, **extra):
    return client.post(f"{BASE}/repairs", payload, content_type="application/json", **extra)


def test_an_uploaded_photo_is_stored_without_its_location(client):
    r = send_file(client, jpeg_with_gps(), "IMG_2031.jpg")
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"token", "filename", "content_type", "size", "kind"}
    assert (body["filename"], body["content_type"], body["kind"]) == ("IMG_2031.jpg", "image/jpeg", "image")
    stored = PendingUpload.objects.get(token=body["token"])
    data = stored.file.open("rb").read()
    assert not has_gps(data) and stored.size == len(data) == body["size"]


def test_a_video_upload_is_kept_as_it_is(client):
    r = send_file(client, VIDEO, "wx_camera_1700.mp4")
    assert r.status_code == 201 and r.json()["kind"] == "video"
    assert PendingUpload.objects.get().file.open("rb").read() == VIDEO


def test_a_pdf_named_jpg_is_refused_naming_it(client):
    r = send_file(client, PDF, "发票.jpg")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type" and "发票.jpg" in r.json()["message"]
    assert r.json()["field"] == "file"
    assert not PendingUpload.objects.exists()


def test_an_upload_without_a_file_and_an_oversized_body_get_clear_errors(client):
    r = client.post(f"{BASE}/uploads", {"other": "x"})
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = client.generic("POST", f"{BASE}/uploads", b"junk", content_type="multipart/form-data")
    assert r.status_code == 400 and r.json()["field"] == "file"
    # a body declared larger than a video may be is refused before it is read
    r = client.post(
        f"{BASE}/uploads", {"file": upload(VIDEO, "v.mp4")}, CONTENT_LENGTH=str(500 * 1024 * 1024)
    )
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_a_repair_request_with_uploaded_files(client, django_capture_on_commit_callbacks):
    # given a photo and a video uploaded first
    photo = send_file(client, jpeg_with_gps(), "漏水.jpg").json()["token"]
    video = send_file(client, VIDEO, "漏水.mp4").json()["token"]
    # when the request lists their tokens
    with django_capture_on_commit_callbacks(execute=True):
        r = post_repair(client, repair_json(uploads=[photo, video], idempotency_key="wx-1"))
    # then the answer has the tracking number and the status in the customer's words, nothing internal
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"tracking_number", "status", "status_label", "created_at"}
    assert body["status"] == "received" and body["status_label"]
    ticket = Ticket.objects.get(number=body["tracking_number"])
    assert (ticket.type, ticket.channel) == ("repair", "mini_program")
    atts = Attachment.objects.filter(ticket=ticket)
    assert {a.filename for a in atts} == {"漏水.jpg", "漏水.mp4"}
    assert not has_gps(atts.get(content_type="image/jpeg").file.open("rb").read())
    assert RepairRequest.objects.get(ticket=ticket).source == "mini_program"
    assert AuditEvent.objects.filter(verb="repair.requested", ticket_id=ticket.pk).exists()
    # the tokens were used once: the pending files are gone, a second use is refused
    assert all(u.used_at for u in PendingUpload.objects.all())
    again = post_repair(client, repair_json(uploads=[photo], phone="13900139000"))
    assert again.status_code == 422 and again.json()["field"] == "uploads"
    # a double submit returns the same tracking number
    repeat = post_repair(client, repair_json(uploads=[photo, video], idempotency_key="wx-1"))
    assert repeat.status_code == 201 and repeat.json()["tracking_number"] == body["tracking_number"]
    assert Ticket.objects.count() == 1


def test_upload_tokens_expire_after_a_day(client):
    token = send_file(client, jpeg_with_gps(), "a.jpg").json()["token"]
    with time_machine.travel(clock.now() + timedelta(hours=25)):
        r = post_repair(client, repair_json(uploads=[token]))
    assert r.status_code == 422 and r.json()["code"] == "upload_expired"
    assert not Ticket.objects.exists()


def test_field_errors_use_the_api_error_format(client):
    r = post_repair(client, repair_json(phone="1234"))
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed" and r.json()["field"] == "phone" and r.json()["message"]
    r = post_repair(client, repair_json(purchase_channel="淘宝"))
    assert r.status_code == 422 and r.json()["field"] == "purchase_channel"


def test_too_many_files_are_refused(client):
    tokens = [send_file(client, VIDEO, f"v{i}.mp4").json()["token"] for i in range(3)]
    r = post_repair(client, repair_json(uploads=tokens))
    assert r.status_code == 413 and r.json()["field"] == "videos"


def test_requests_are_rate_limited_per_ip_with_a_message(client, settings):
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 1
    assert post_repair(client, repair_json()).status_code == 201
    r = post_repair(client, repair_json(phone="13900139000"))
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited" and r.json()["message"] and r.json()["retry_after"] > 0


def test_no_csrf_token_is_needed_even_with_a_signed_in_session():
    # given a browser that is signed in to the console (a cookie the endpoint must not rely on)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())
    # then the public endpoints work without a CSRF token: they read no session
    assert send_file(browser, jpeg_with_gps(), "a.jpg").status_code == 201
    assert post_repair(browser, repair_json()).status_code == 201


def test_the_tracking_lookup_needs_the_matching_phone(client):
    number = post_repair(client, repair_json()).json()["tracking_number"]
    r = client.get(f"{BASE}/repairs/{number}", {"phone": "138 0013 8000"})
    assert r.status_code == 200
    assert r.json()["tracking_number"] == number and r.json()["status"] == "received"
    # the wrong phone and an unknown number answer the same 404
    wrong_phone = client.get(f"{BASE}/repairs/{number}", {"phone": "13900139000"})
    wrong_number = client.get(f"{BASE}/repairs/T2000010199999", {"phone": "13800138000"})
    assert wrong_phone.status_code == wrong_number.status_code == 404
    assert wrong_phone.json() == wrong_number.json()


def test_the_tracking_lookup_is_rate_limited(client, settings):
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 2
    for _ in range(2):
        assert client.get(f"{BASE}/repairs/T2000010199999", {"phone": "13800138000"}).status_code == 404
    assert client.get(f"{BASE}/repairs/T2000010199999", {"phone": "13800138000"}).status_code == 429


def test_the_public_endpoints_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json()
    upload_op = spec["paths"]["/api/v1/service/uploads"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert not upload_op.get("security")  # no credentials
    assert "/api/v1/service/repairs/{tracking_number}" in spec["paths"]


def test_used_and_expired_uploads_are_pruned_with_their_files(client):
    fresh = send_file(client, jpeg_with_gps(), "fresh.jpg").json()["token"]
    old = send_file(client, jpeg_with_gps(), "old.jpg").json()["token"]
    old_file = PendingUpload.objects.get(token=old).file
    PendingUpload.objects.filter(token=old).update(created_at=clock.now() - timedelta(hours=30))
    assert prune_pending_uploads() == 1
    assert list(PendingUpload.objects.values_list("token", flat=True)) == [fresh]
    assert not old_file.storage.exists(old_file.name)
