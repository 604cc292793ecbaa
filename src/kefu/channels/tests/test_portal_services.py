"""Customer portal services: magic links (hashed, single use, 30 minutes, no enumeration), tracking
number + phone (one generic failure, rate-limited), customer replies with photos (metadata stripped)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from kefu.accounts.services import get_system_user
from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.channels.models import PortalLink
from kefu.channels.selectors_portal import PortalAccess, list_portal_messages, list_portal_tickets
from kefu.channels.services import portal
from kefu.core import clock
from kefu.core.errors import (
    Conflict,
    LimitExceeded,
    NotFound,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
)
from kefu.customers.models import Identity
from kefu.tickets import services as tickets
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Message

pytestmark = pytest.mark.django_db

WANG_EMAIL = "wang@example.com"
WANG_PHONE = "+8613800138000"
LI_PHONE = "+8613900139000"


# --- fixtures and helpers (the view tests import these) ----------------------------------------


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def system():
    return get_system_user()


def new_ticket(actor, *, subject="冰箱不制冷", email=WANG_EMAIL, phone=WANG_PHONE, name="王芳"):
    identities = {"email": email, "phone": phone}
    ticket, _ = tickets.create_ticket(
        actor=actor, subject=subject, channel="web", customer_name=name, customer_identities=identities
    )
    return ticket


@pytest.fixture
def wang_ticket(system):
    """Wang's ticket, with Wang's first message."""
    ticket = new_ticket(system)
    tickets.add_message(actor=system, ticket_id=ticket.pk, kind="customer", body="冰箱不制冷了，怎么办？")
    return ticket


@pytest.fixture
def li_ticket(system):
    """Another customer's ticket."""
    return new_ticket(system, subject="洗衣机漏水", email="li@example.com", phone=LI_PHONE, name="李雷")


def photo_bytes(fmt="JPEG", *, with_exif=True, size=(40, 30)) -> bytes:
    im = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    params = {}
    if with_exif:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "PhoneModel X"  # Model
        exif[0x0131] = "Secret editor 1.0"  # Software
        params["exif"] = exif.tobytes()
    im.save(out, format=fmt, **params)
    return out.getvalue()


def upload(name="photo.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else photo_bytes(), content_type=content_type)


def link_from_mail(message) -> str:
    found = re.search(r"https?://\S+/portal/link/[\w-]+/", message.body)
    assert found, message.body
    return found.group(0)


# --- magic links ------------------------------------------------------------------------------


class TestSendPortalLink:
    def test_known_email_gets_a_hashed_single_use_link_by_mail_after_commit(
        self, wang_ticket, django_capture_on_commit_callbacks, settings
    ):
        # given a customer with an email identity
        settings.KEFU_BASE_URL = "https://kefu.example.com"
        # when they ask for a link, typing the address differently
        with django_capture_on_commit_callbacks(execute=True):
            portal.send_portal_link(email="  Wang@Example.COM ", ip="203.0.113.5")
            # then nothing is sent before the commit
            assert mail.outbox == []
        # and one link is stored for the customer, expiring in 30 minutes, only as a hash
        link = PortalLink.objects.get()
        assert link.customer_id == wang_ticket.customer_id and link.email == WANG_EMAIL
        assert link.expires_at - link.created_at == timedelta(minutes=30) and link.used_at is None
        # and one mail went to the normalized address with an absolute link on the site's base URL
        assert [m.to for m in mail.outbox] == [[WANG_EMAIL]]
        sent = mail.outbox[0]
        url = link_from_mail(sent)
        assert url.startswith("https://kefu.example.com/portal/link/")
        token = url.rstrip("/").rsplit("/", 1)[-1]
        assert (
            len(token) >= 43
            and link.token_hash == portal.digest_token(token)
            and token not in link.token_hash
        )
        # and the mail has an HTML part with the same link, and is marked automatic
        html, mimetype = sent.alternatives[0]
        assert mimetype == "text/html" and url in html
        assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
        # and the audit trail says a link was sent to whom, for which customer (no actor: the public)
        ev = AuditEvent.objects.get(verb="portal.link_sent")
        assert ev.customer_id == wang_ticket.customer_id and ev.actor_id is None
        assert ev.data["email"] == WANG_EMAIL and ev.source == "portal"

    def test_the_mail_is_chinese_first_then_english(self, wang_ticket, django_capture_on_commit_callbacks):
        # given a customer (whose language we do not know)
        # when a link is sent
        with django_capture_on_commit_callbacks(execute=True):
            portal.send_portal_link(email=WANG_EMAIL, ip=None)
        # then the mail holds the Chinese text first and the English text after it
        sent = mail.outbox[0]
        with translation.override("zh-hans"):
            zh = translation.gettext(
                "If you did not ask for this link, ignore this email: nobody can sign in without it."
            )
        en = "If you did not ask for this link, ignore this email: nobody can sign in without it."
        assert en in sent.body and zh in sent.body
        assert sent.body.index(zh) <= sent.body.index(en)
        assert 'lang="zh-hans"' in sent.alternatives[0][0]

    def test_unknown_email_stores_and_sends_nothing_and_says_nothing(
        self, wang_ticket, django_capture_on_commit_callbacks
    ):
        # given no customer with this address
        # when someone asks for a link for it
        with django_capture_on_commit_callbacks(execute=True):
            result = portal.send_portal_link(email="nobody@example.com", ip="203.0.113.5")
        # then the call answers exactly as for a known address, and nothing is stored or sent
        assert result is None
        assert PortalLink.objects.count() == 0 and mail.outbox == []
        assert not AuditEvent.objects.filter(verb="portal.link_sent").exists()

    def test_not_an_email_address_is_a_validation_error(self):
        with pytest.raises(ValidationFailed) as err:
            portal.send_portal_link(email="not-an-address", ip=None)
        assert err.value.field == "email"

    def test_rate_limited_per_email_also_for_unknown_addresses(self, wang_ticket):
        # given the per-address limit used up, from different IPs
        limit = portal.LINK_PER_EMAIL[0]
        for i in range(limit):
            portal.send_portal_link(email=WANG_EMAIL, ip=f"198.51.100.{i}")
            portal.send_portal_link(email="ghost@example.com", ip=f"198.51.100.{i}")
        # when one more comes, for the known and for the unknown address
        # then both are refused the same way, with the time to wait
        for email in (WANG_EMAIL, "ghost@example.com"):
            with pytest.raises(RateLimited) as err:
                portal.send_portal_link(email=email, ip="198.51.100.99")
            assert err.value.status == 429 and err.value.extra["retry_after"] > 0
        assert PortalLink.objects.count() == limit

    def test_rate_limited_per_ip(self, wang_ticket):
        limit = portal.LINK_PER_IP[0]
        for i in range(limit):
            portal.send_portal_link(email=f"someone{i}@example.com", ip="203.0.113.7")
        with pytest.raises(RateLimited):
            portal.send_portal_link(email=WANG_EMAIL, ip="203.0.113.7")
        # and another address is not affected
        portal.send_portal_link(email=WANG_EMAIL, ip="203.0.113.8")


class TestRedeemPortalLink:
    def _token(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            portal.send_portal_link(email=WANG_EMAIL, ip=None)
        return link_from_mail(mail.outbox[-1]).rstrip("/").rsplit("/", 1)[-1]

    def test_a_link_signs_in_once_to_all_of_the_customers_tickets(
        self, wang_ticket, system, django_capture_on_commit_callbacks
    ):
        # given a sent link, and a second ticket of the same customer
        second = new_ticket(system, subject="第二个问题")
        token = self._token(django_capture_on_commit_callbacks)
        # when the customer checks, then uses the link
        assert portal.check_portal_link(token).used_at is None
        access = portal.redeem_portal_link(token=token, ip="203.0.113.5")
        # then the access covers all of the customer's tickets
        assert access == PortalAccess(customer_id=wang_ticket.customer_id)
        assert [r.number for r in list_portal_tickets(access=access)] == [second.number, wang_ticket.number]
        # and the link is used up
        assert PortalLink.objects.get().used_at is not None
        with pytest.raises(NotFound) as err:
            portal.redeem_portal_link(token=token, ip=None)
        assert err.value.code == "portal_link_invalid"
        with pytest.raises(NotFound):
            portal.check_portal_link(token)
        # and the sign-in is audited for the customer
        ev = AuditEvent.objects.get(verb="portal.signed_in")
        assert ev.customer_id == wang_ticket.customer_id and ev.data["method"] == "email"
        assert ev.actor_id is None and ev.source == "portal"

    def test_an_expired_link_is_refused(self, wang_ticket, django_capture_on_commit_callbacks):
        # given a link sent 31 minutes ago
        token = self._token(django_capture_on_commit_callbacks)
        # when it is used, then it is refused and stays unused
        with time_machine.travel(clock.now() + timedelta(minutes=31)), pytest.raises(NotFound):
            portal.redeem_portal_link(token=token, ip=None)
        assert PortalLink.objects.get().used_at is None

    def test_an_unknown_token_is_refused(self, wang_ticket):
        with pytest.raises(NotFound):
            portal.redeem_portal_link(token="made-up-token", ip=None)

    def test_a_link_for_a_merged_customer_opens_the_surviving_customer(
        self, wang_ticket, li_ticket, system, django_capture_on_commit_callbacks
    ):
        # given a link sent to Wang, then Wang merged into Li
        from kefu.customers.services import merge_customers

        token = self._token(django_capture_on_commit_callbacks)
        merge_customers(actor=system, source=wang_ticket.customer, target=li_ticket.customer)
        # when the link is used, then the access is the surviving customer's
        access = portal.redeem_portal_link(token=token, ip=None)
        assert access.customer_id == li_ticket.customer_id


# --- tracking number + phone -------------------------------------------------------------------


class TestSignInWithTracking:
    def test_number_and_phone_of_the_ticket_sign_in_to_that_ticket(self, wang_ticket):
        # when the customer types the number in lower case with spaces, the phone in local format
        ticket = portal.sign_in_with_tracking(
            number=f" {wang_ticket.number.lower()[:5]} {wang_ticket.number[5:]} ",
            phone="138 0013 8000",
            ip="1.2.3.4",
        )
        # then it is their ticket, and the tracking sign-in opens only that one
        assert ticket.pk == wang_ticket.pk
        assert portal.tracking_ticket_ids(ticket) == frozenset({wang_ticket.pk})
        ev = AuditEvent.objects.get(verb="portal.signed_in")
        assert ev.ticket_id == wang_ticket.pk and ev.customer_id == wang_ticket.customer_id
        assert ev.data["method"] == "tracking" and ev.actor_id is None

    @pytest.mark.parametrize(
        "number, phone",
        [
            ("own", LI_PHONE),  # the other customer's phone
            ("other", WANG_PHONE),  # the other customer's ticket
            ("T2099010199999", WANG_PHONE),  # no such ticket
            ("", WANG_PHONE),
            ("own", "12"),  # not a phone number
        ],
    )
    def test_every_failure_is_the_same_generic_error(self, wang_ticket, li_ticket, number, phone):
        number = {"own": wang_ticket.number, "other": li_ticket.number}.get(number, number)
        with translation.override("en"), pytest.raises(ValidationFailed) as err:
            portal.sign_in_with_tracking(number=number, phone=phone, ip="1.2.3.4")
        assert err.value.code == "portal_mismatch" and err.value.field is None
        assert err.value.message == "The tracking number and phone number do not match."
        assert not AuditEvent.objects.filter(verb="portal.signed_in").exists()

    def test_rate_limited_per_ip_before_any_lookup(self, wang_ticket):
        # given the per-IP limit used up by wrong guesses
        for i in range(portal.TRACKING_PER_IP[0]):
            with pytest.raises(ValidationFailed):
                portal.sign_in_with_tracking(number=f"T20260101{i:05d}", phone=WANG_PHONE, ip="1.2.3.4")
        # when the right pair comes from the same IP, then it is refused as well
        with pytest.raises(RateLimited):
            portal.sign_in_with_tracking(number=wang_ticket.number, phone=WANG_PHONE, ip="1.2.3.4")

    def test_rate_limited_per_number_across_ips(self, wang_ticket):
        # given one number guessed from many addresses
        for i in range(portal.TRACKING_PER_NUMBER[0]):
            with pytest.raises(ValidationFailed):
                portal.sign_in_with_tracking(number=wang_ticket.number, phone="13900000000", ip=f"10.0.0.{i}")
        # when it is tried again from a fresh address, then it is refused
        with pytest.raises(RateLimited):
            portal.sign_in_with_tracking(number=wang_ticket.number, phone=WANG_PHONE, ip="10.0.1.1")

    def test_a_merged_ticket_also_opens_the_ticket_it_was_merged_into(self, system):
        # given two tickets of the customer, the first merged into the second
        first = new_ticket(system, subject="一")
        second = new_ticket(system, subject="二")
        tickets.merge_tickets(actor=system, source_id=first.pk, target_id=second.pk)
        # when the customer signs in with the old number
        ticket = portal.sign_in_with_tracking(number=first.number, phone=WANG_PHONE, ip=None)
        # then both tickets are open to them
        assert portal.tracking_ticket_ids(ticket) == frozenset({first.pk, second.pk})


# --- status words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, words",
    [
        (Status.NEW, "Received"),
        (Status.OPEN, "In progress"),
        (Status.PENDING, "Waiting for your reply"),
        (Status.ON_HOLD, "In progress"),
        (Status.SOLVED, "Solved"),
        (Status.CLOSED, "Closed"),
    ],
)
def test_customer_status_label_in_english(status, words):
    with translation.override("en"):
        assert portal.customer_status_label(status) == words


# --- replies -----------------------------------------------------------------------------------


class TestReplyAsCustomer:
    def test_a_reply_with_a_photo_lands_as_a_customer_message_and_reopens_a_solved_ticket(
        self, wang_ticket, system
    ):
        # given a solved ticket
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.SOLVED)
        # when the customer replies with a photo carrying EXIF data
        original = photo_bytes()
        assert Image.open(io.BytesIO(original)).getexif()
        msg = portal.reply_as_customer(
            customer_id=wang_ticket.customer_id,
            ticket_number=wang_ticket.number,
            body="还是不行",
            files=[upload("IMG_0001.jpg", original)],
        )
        # then it is a customer message written by the system user, with the photo attached
        assert msg.kind == MessageKind.CUSTOMER and msg.author == system and msg.body == "还是不行"
        att = msg.attachments.get()
        assert att.filename == "IMG_0001.jpg" and att.content_type == "image/jpeg"
        # and the stored photo has no metadata left
        with att.file.open("rb") as fh:
            stored = fh.read()
        assert stored != original and not Image.open(io.BytesIO(stored)).getexif()
        # and the ticket reopened
        wang_ticket.refresh_from_db()
        assert wang_ticket.status == Status.OPEN and wang_ticket.reopened_count == 1
        # and the audit events name the portal as their source
        added = AuditEvent.objects.get(verb="ticket.message_added", data__message_id=msg.pk)
        assert added.source == "portal" and added.data["attachments"] == ["IMG_0001.jpg"]
        assert AuditEvent.objects.filter(verb="ticket.status_changed", source="portal").exists()

    def test_a_closed_ticket_takes_no_reply(self, wang_ticket, system):
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.SOLVED)
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.CLOSED)
        before = Message.objects.count()
        with pytest.raises(Conflict) as err:
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id, ticket_number=wang_ticket.number, body="在吗"
            )
        assert err.value.code == "ticket_closed" and err.value.status == 409
        assert Message.objects.count() == before

    def test_another_customers_ticket_is_not_found(self, wang_ticket, li_ticket):
        with pytest.raises(NotFound):
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id, ticket_number=li_ticket.number, body="hello"
            )
        assert not Message.objects.filter(ticket=li_ticket, kind="customer").exists()

    def test_a_tracking_scope_keeps_other_tickets_of_the_customer_out(self, wang_ticket, system):
        other = new_ticket(system, subject="另一个")
        with pytest.raises(NotFound):
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id,
                ticket_number=other.number,
                body="hello",
                ticket_ids=frozenset({wang_ticket.pk}),
            )

    def test_only_photos_are_accepted(self, wang_ticket):
        pdf = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
        with pytest.raises(UnsupportedMediaType) as err:
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id, ticket_number=wang_ticket.number, body="", files=[pdf]
            )
        assert err.value.field == "photos"

    def test_at_most_nine_photos(self, wang_ticket):
        files = [upload(f"p{i}.jpg") for i in range(portal.MAX_PHOTOS + 1)]
        with pytest.raises(LimitExceeded) as err:
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id, ticket_number=wang_ticket.number, body="", files=files
            )
        assert err.value.field == "photos"
        # and nine are fine
        msg = portal.reply_as_customer(
            customer_id=wang_ticket.customer_id,
            ticket_number=wang_ticket.number,
            body="",
            files=files[: portal.MAX_PHOTOS],
        )
        assert msg.attachments.count() == portal.MAX_PHOTOS

    def test_an_empty_message_is_refused(self, wang_ticket):
        with pytest.raises(ValidationFailed) as err:
            portal.reply_as_customer(
                customer_id=wang_ticket.customer_id, ticket_number=wang_ticket.number, body="  "
            )
        assert err.value.field == "body"


def test_the_public_conversation_leaves_out_internal_notes(wang_ticket, system):
    # given a reply by a named agent, a note, and a reply by an agent without a display name
    agent = UserFactory(role="admin", username="zhang.internal", display_name="小张")
    nameless = UserFactory(role="admin", username="li.internal", display_name="")
    tickets.add_message(actor=agent, ticket_id=wang_ticket.pk, kind="reply", body="请重启试试")
    tickets.add_message(actor=agent, ticket_id=wang_ticket.pk, kind="note", body="内部：疑似批次问题")
    tickets.add_message(actor=nameless, ticket_id=wang_ticket.pk, kind="reply", body="已安排上门")
    # when the portal lists the conversation
    with translation.override("en"):
        rows = list_portal_messages(ticket=wang_ticket)
    # then only public messages are there, with display names or "Customer service"
    assert [(m.kind, m.author, m.body) for m in rows] == [
        ("customer", "You", "冰箱不制冷了，怎么办？"),
        ("reply", "小张", "请重启试试"),
        ("reply", "Customer service", "已安排上门"),
    ]


def test_phone_identities_are_matched_normalized(wang_ticket):
    # the identity is stored in E.164, whatever the customer types
    assert Identity.objects.filter(kind="phone", value=WANG_PHONE).exists()
    assert portal.sign_in_with_tracking(number=wang_ticket.number, phone="+86-138-0013-8000", ip=None)
