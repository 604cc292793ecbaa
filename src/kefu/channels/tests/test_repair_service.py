"""submit_repair_request: fields, files, limits, and what one request creates."""

import io

import pytest
from django.core.cache import cache
from PIL import Image

from kefu.accounts.tests.factories import TeamFactory
from kefu.audit.models import AuditEvent
from kefu.channels.models import ChannelSettings, RepairRequest
from kefu.channels.services.repair import get_repair_status, submit_repair_request
from kefu.channels.tests.repair_files import EXE, PDF, VIDEO, has_gps, incoming, jpeg_with_gps, png_with_text
from kefu.core.errors import LimitExceeded, NotFound, RateLimited, UnsupportedMediaType, ValidationFailed
from kefu.customers.models import Customer
from kefu.customers.tests.factories import ProductFactory
from kefu.tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def repair_team():
    team = TeamFactory(name="售后维修组")
    settings_row = ChannelSettings.load()
    settings_row.repair_team = team
    settings_row.save()
    return team


def submit(**overrides):
    fields = {
        "source": "web",
        "phone": "138 0013 8000",
        "name": "王女士",
        "product_model": "kf-200",
        "purchase_channel": "jd",
        "address": "上海市浦东新区张江路 1 号",
        "description": "开机后不出氧，报警灯一直闪。",
        "files": [],
        "ip": "203.0.113.5",
    }
    return submit_repair_request(**{**fields, **overrides})


def test_a_request_creates_a_repair_ticket_with_the_files_as_the_customers_message(
    repair_team, django_capture_on_commit_callbacks
):
    # given a product whose model number the customer types in lower case
    product = ProductFactory(model_number="KF-200")
    # when a request comes with a sideways GPS-tagged photo, a PNG with text and a video
    with django_capture_on_commit_callbacks(execute=True):
        rr = submit(
            files=[
                incoming(jpeg_with_gps(), "故障.jpg"),
                incoming(png_with_text(), "屏幕.png"),
                incoming(VIDEO, "报警.mp4"),
            ]
        )
    # then a repair ticket exists for the customer found by phone, in the repair team, for the product
    ticket = rr.ticket
    assert (ticket.type, ticket.channel, ticket.status) == ("repair", "web", "new")
    assert ticket.team == repair_team and ticket.product == product
    assert "kf-200" in ticket.subject
    assert "上海市浦东新区张江路 1 号" in ticket.description and "报警灯一直闪" in ticket.description
    assert "购买渠道: 京东" in ticket.description and "提交方式: 网页表单" in ticket.description
    assert ticket.customer.identities.get(kind="phone").value == "+8613800138000"
    assert ticket.customer.name == "王女士"
    # and the tracking number is the ticket's number
    assert rr.ticket.number.startswith("T")
    # and what the customer submitted is kept
    rr = RepairRequest.objects.get(pk=rr.pk)
    assert (rr.source, rr.phone, rr.purchase_channel, rr.ip) == ("web", "+8613800138000", "jd", "203.0.113.5")
    # and the files are the customer's first message
    msg = Message.objects.get(ticket=ticket)
    assert msg.kind == "customer" and "报警灯一直闪" in msg.body
    atts = {a.filename: a for a in Attachment.objects.filter(message=msg)}
    assert set(atts) == {"故障.jpg", "屏幕.png", "报警.mp4"}
    # the photo lost its location and stands upright; the PNG lost its text; the video is unchanged
    photo = atts["故障.jpg"].file.open("rb").read()
    assert not has_gps(photo)
    assert Image.open(io.BytesIO(photo)).size == (32, 64)
    assert "上海".encode() not in atts["屏幕.png"].file.open("rb").read()
    assert atts["报警.mp4"].file.open("rb").read() == VIDEO
    # thumbnails were made for the two images after commit
    assert atts["故障.jpg"].thumbnail and atts["屏幕.png"].thumbnail and not atts["报警.mp4"].thumbnail
    # and the request is in the audit trail of the ticket
    ev = AuditEvent.objects.get(verb="repair.requested")
    assert ev.ticket_id == ticket.pk and ev.customer_id == ticket.customer_id
    assert ev.data["source"] == "web" and ev.data["photos"] == 2 and ev.data["videos"] == 1


def test_a_second_request_from_the_same_phone_reuses_the_customer(repair_team):
    first = submit(phone="13800138000")
    second = submit(phone="+86 138-0013-8000", name="王芳", source="mini_program", product_model="X9")
    assert second.ticket.customer_id == first.ticket.customer_id
    assert Customer.objects.count() == 1
    assert second.ticket.channel == "mini_program"
    assert second.ticket.number != first.ticket.number


def test_an_unknown_model_is_fine_and_no_team_is_fine():
    rr = submit(product_model="不知道型号")
    assert rr.ticket.product is None and rr.ticket.team is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", ""),
        ("phone", "12345"),
        ("phone", "010 8888 6666"),  # a landline: we call back on a mobile
        ("name", ""),
        ("name", "王" * 101),
        ("product_model", ""),
        ("address", "路" * 301),
        ("description", ""),
        ("description", "坏" * 5001),
        ("purchase_channel", "taobao"),
    ],
)
def test_each_field_is_checked_naming_it(field, value):
    with pytest.raises(ValidationFailed) as exc:
        submit(**{field: value})
    assert exc.value.field == field and exc.value.status == 422
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("data", "name"), [(PDF, "照片.jpg"), (EXE, "video.mp4")])
def test_a_file_that_only_pretends_to_be_a_photo_or_video_is_refused_naming_it(data, name):
    with pytest.raises(UnsupportedMediaType) as exc:
        submit(files=[incoming(data, name)])
    assert exc.value.status == 415 and name in exc.value.message
    assert not Ticket.objects.exists()


def test_heic_photos_are_refused_asking_for_jpeg():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(UnsupportedMediaType) as exc:
        submit(files=[incoming(heic, "IMG_0001.HEIC")])
    assert exc.value.field == "photos" and "JPEG" in exc.value.message


def test_at_most_nine_photos_and_two_videos():
    photo = incoming(jpeg_with_gps(), "p.jpg")
    with pytest.raises(LimitExceeded) as exc:
        submit(files=[photo] * 10)
    assert exc.value.field == "photos" and "9" in exc.value.message
    with pytest.raises(LimitExceeded) as exc:
        submit(files=[incoming(VIDEO, f"v{i}.mp4") for i in range(3)])
    assert exc.value.field == "videos" and "2" in exc.value.message
    # nine photos and two videos are fine
    assert submit(files=[photo] * 9 + [incoming(VIDEO, "v.mp4")] * 2).ticket.attachments.count() == 11


def test_photos_and_videos_have_size_limits(settings):
    settings.KEFU_REPAIR_MAX_IMAGE_MB = 1
    settings.KEFU_REPAIR_MAX_VIDEO_MB = 1
    big_photo = b"\xff\xd8\xff\xe0" + b"\x00" * (1024 * 1024)
    with pytest.raises(LimitExceeded) as exc:
        submit(files=[incoming(big_photo, "大图.jpg")])
    assert exc.value.status == 413 and exc.value.field == "photos" and "大图.jpg" in exc.value.message
    big_video = VIDEO + b"\x00" * (1024 * 1024)
    with pytest.raises(LimitExceeded) as exc:
        submit(files=[incoming(big_video, "长.mp4")])
    assert exc.value.field == "videos"


def test_requests_are_limited_per_ip(settings):
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 2
    submit(phone="13800138001")
    submit(phone="13800138002")
    with pytest.raises(RateLimited) as exc:
        submit(phone="13800138003")
    assert exc.value.status == 429 and 0 < exc.value.extra["retry_after"] <= 3600
    assert Ticket.objects.count() == 2
    # another address may still ask
    submit(phone="13800138003", ip="198.51.100.1")


def test_requests_are_limited_per_phone(settings):
    settings.KEFU_REPAIR_LIMIT_PER_PHONE_DAY = 2
    submit(ip="198.51.100.1")
    submit(ip="198.51.100.2", phone="+8613800138000")
    with pytest.raises(RateLimited) as exc:
        submit(ip="198.51.100.3", phone="13800138000")
    assert exc.value.extra["retry_after"] <= 86400
    submit(ip="198.51.100.3", phone="13900139000")


def test_a_double_submit_with_the_same_key_returns_the_first_request(settings):
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 1
    first = submit(idempotency_key="form-123", files=[incoming(jpeg_with_gps(), "a.jpg")])
    again = submit(idempotency_key="form-123", files=[incoming(jpeg_with_gps(), "a.jpg")])
    # the same request, nothing created or counted twice
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1 and Attachment.objects.count() == 1
    # the same key from another phone is another request (and never reveals the first)
    settings.KEFU_REPAIR_LIMIT_PER_IP_HOUR = 10
    other = submit(idempotency_key="form-123", phone="13900139000")
    assert other.pk != first.pk


def test_the_status_is_found_by_number_and_phone_only():
    rr = submit()
    number = rr.ticket.number
    assert get_repair_status(tracking_number=number, phone="13800138000", ip="192.0.2.1").pk == rr.pk
    assert get_repair_status(tracking_number=number.lower(), phone="+86 13800138000", ip=None).pk == rr.pk
    messages = set()
    for number_, phone in [(number, "13900139000"), ("T2000010100001", "13800138000"), (number, "bad")]:
        with pytest.raises(NotFound) as exc:
            get_repair_status(tracking_number=number_, phone=phone, ip="192.0.2.1")
        messages.add(exc.value.message)
    assert len(messages) == 1  # never saying which part was wrong
