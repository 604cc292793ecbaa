"""The customer portal through the test client: magic link end to end (real mail), tracking number +
phone, strict scoping (other customers' tickets, ids, files → 404), replies with photos, rate limits
and customer-facing status words in both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.channels.models import PortalLink
from kefu.channels.services import portal
from kefu.channels.tests import test_portal_services as base
from kefu.channels.tests.test_portal_services import (
    LI_PHONE,
    WANG_EMAIL,
    WANG_PHONE,
    link_from_mail,
    new_ticket,
    photo_bytes,
    upload,
)
from kefu.core import clock
from kefu.tickets import services as tickets
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db

# the service tests' fixtures: a clean rate-limit cache, the system user, Wang's and Li's tickets
_fresh_rate_limits = base._fresh_rate_limits
system = base.system
wang_ticket = base.wang_ticket
li_ticket = base.li_ticket

SIGN_IN = "/portal/"


def ticket_url(number):
    return f"/portal/tickets/{number}/"


def ask_for_link(client, email, capture):
    with capture(execute=True):
        return client.post("/portal/email/", {"email": email})


def sign_in_by_link(client, capture, email=WANG_EMAIL):
    ask_for_link(client, email, capture)
    path = urlsplit(link_from_mail(mail.outbox[-1])).path
    response = client.post(path)
    assert response.status_code == 302, response.content
    return path


def sign_in_by_tracking(client, ticket, phone=WANG_PHONE):
    return client.post("/portal/track/", {"number": ticket.number, "phone": phone})


def without_csrf(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- magic link --------------------------------------------------------------------------------


class TestMagicLink:
    def test_end_to_end_from_the_mail_to_the_ticket_list(
        self, client, wang_ticket, system, django_capture_on_commit_callbacks
    ):
        # given a customer with two tickets, and a visitor with a session (a staff user is not involved)
        english(client)
        second = new_ticket(system, subject="第二个问题")
        client.get(SIGN_IN)
        # when they ask for a link on the sign-in page
        response = ask_for_link(client, "Wang@example.com", django_capture_on_commit_callbacks)
        # then the page says a link is on its way (if the address is known), and the mail is there
        assert response.status_code == 200
        assert "If that address is known to us, a sign-in link is on its way." in response.text
        assert [m.to for m in mail.outbox] == [[WANG_EMAIL]]
        path = urlsplit(link_from_mail(mail.outbox[0])).path
        # when the link is opened (as a mail scanner would), then only a confirm button shows
        page = client.get(path)
        assert page.status_code == 200 and 'data-testid="portal-confirm"' in page.text
        assert PortalLink.objects.get().used_at is None
        assert "portal_customer_id" not in client.session
        # when the customer presses it
        key_before = client.session.session_key
        response = client.post(path)
        # then they are signed in to the portal (a new session key, no Django user) and see their list
        assert response.status_code == 302 and response["Location"] == "/portal/tickets/"
        assert client.session["portal_customer_id"] == wang_ticket.customer_id
        assert client.session.session_key != key_before and "_auth_user_id" not in client.session
        listing = client.get("/portal/tickets/")
        assert listing.status_code == 200
        assert listing.text.index(second.number) < listing.text.index(wang_ticket.number)  # newest first
        assert "Received" in listing.text and "冰箱不制冷" in listing.text
        assert listing["Cache-Control"].startswith("max-age=0") or "no-cache" in listing["Cache-Control"]
        assert AuditEvent.objects.filter(
            verb="portal.signed_in", customer_id=wang_ticket.customer_id
        ).exists()

    def test_a_link_works_once(self, client, wang_ticket, django_capture_on_commit_callbacks):
        # given a link used once
        path = sign_in_by_link(client, django_capture_on_commit_callbacks)
        # when it is used again, in another browser
        other = english(type(client)())
        for response in (other.get(path), other.post(path)):
            # then it is refused with a page saying so, and that browser is not signed in
            assert response.status_code == 410
            assert "This sign-in link has expired or was already used." in response.text
        assert other.get("/portal/tickets/").status_code == 302

    def test_an_expired_link_is_refused(self, client, wang_ticket, django_capture_on_commit_callbacks):
        english(client)
        ask_for_link(client, WANG_EMAIL, django_capture_on_commit_callbacks)
        path = urlsplit(link_from_mail(mail.outbox[0])).path
        with time_machine.travel(clock.now() + timedelta(minutes=31)):
            response = client.post(path)
        assert response.status_code == 410 and 'data-testid="link-invalid"' in response.text
        assert "portal_customer_id" not in client.session

    def test_an_unknown_email_gets_the_same_page_and_no_mail(
        self, client, wang_ticket, django_capture_on_commit_callbacks
    ):
        # given the answer for a known address
        known = ask_for_link(client, WANG_EMAIL, django_capture_on_commit_callbacks)
        mail.outbox.clear()
        # when an unknown address is asked for
        unknown = ask_for_link(client, "stranger@example.com", django_capture_on_commit_callbacks)
        # then the answer is the same page, and nothing is sent
        assert unknown.status_code == known.status_code == 200
        assert without_csrf(unknown.text) == without_csrf(known.text)
        assert mail.outbox == []

    def test_a_malformed_address_is_a_form_error(self, client):
        response = english(client).post("/portal/email/", {"email": "no-at-sign"})
        assert response.status_code == 422 and "Enter a valid email address." in response.text

    def test_too_many_requests_answer_429(self, client, wang_ticket, django_capture_on_commit_callbacks):
        english(client)
        for _ in range(portal.LINK_PER_EMAIL[0]):
            assert ask_for_link(client, WANG_EMAIL, django_capture_on_commit_callbacks).status_code == 200
        response = ask_for_link(client, WANG_EMAIL, django_capture_on_commit_callbacks)
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
        assert (
            'data-testid="rate-limited"' in response.text
            and "Too many requests. Please try again in" in response.text
        )
        assert len(mail.outbox) == portal.LINK_PER_EMAIL[0]


# --- tracking number + phone -------------------------------------------------------------------


class TestTracking:
    def test_number_and_phone_open_that_ticket_only(self, client, wang_ticket, system):
        # given a second ticket of the same customer
        other = new_ticket(system, subject="另一个问题")
        # when the customer signs in with the first ticket's number and their phone
        response = sign_in_by_tracking(english(client), wang_ticket, phone="138 0013 8000")
        # then they land on that ticket
        assert response.status_code == 302 and response["Location"] == ticket_url(wang_ticket.number)
        page = client.get(response["Location"])
        assert page.status_code == 200 and "冰箱不制冷" in page.text
        # and only that ticket is theirs to see in this session
        assert client.session["portal_ticket_ids"] == [wang_ticket.pk]
        listing = client.get("/portal/tickets/")
        assert wang_ticket.number in listing.text and other.number not in listing.text
        assert client.get(ticket_url(other.number)).status_code == 404
        # until they prove the other one as well
        sign_in_by_tracking(client, other)
        assert client.get(ticket_url(other.number)).status_code == 200
        assert client.get(ticket_url(wang_ticket.number)).status_code == 200

    @pytest.mark.parametrize("case", ["wrong phone", "other customer's number", "no such number"])
    def test_failures_show_one_generic_error(self, client, wang_ticket, li_ticket, case):
        number, phone = {
            "wrong phone": (wang_ticket.number, LI_PHONE),
            "other customer's number": (li_ticket.number, WANG_PHONE),
            "no such number": ("T2099010100001", WANG_PHONE),
        }[case]
        response = english(client).post("/portal/track/", {"number": number, "phone": phone})
        assert response.status_code == 422
        assert "The tracking number and phone number do not match." in response.text
        assert "portal_customer_id" not in client.session

    def test_too_many_attempts_answer_429(self, client, wang_ticket):
        english(client)
        for i in range(portal.TRACKING_PER_IP[0]):
            bad = client.post("/portal/track/", {"number": f"T20990101{i:05d}", "phone": WANG_PHONE})
            assert bad.status_code == 422
        response = sign_in_by_tracking(client, wang_ticket)
        assert response.status_code == 429 and 'data-testid="rate-limited"' in response.text
        assert "portal_customer_id" not in client.session


# --- scope -------------------------------------------------------------------------------------


class TestScope:
    def test_signed_out_visitors_are_sent_to_sign_in(self, client, wang_ticket):
        for url in ("/portal/tickets/", ticket_url(wang_ticket.number)):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"] == SIGN_IN
        assert client.post(ticket_url(wang_ticket.number) + "reply/", {"body": "hi"}).status_code == 302
        assert not Message.objects.filter(ticket=wang_ticket, body="hi").exists()

    def test_other_customers_tickets_ids_and_files_are_404(
        self, client, wang_ticket, li_ticket, system, django_capture_on_commit_callbacks
    ):
        # given Li's ticket with a photo, and Wang signed in by email
        li_msg = tickets.add_message(
            actor=system,
            ticket_id=li_ticket.pk,
            kind="customer",
            body="照片",
            files=[IncomingFile("li.jpg", photo_bytes(), "image/jpeg", "a" * 64)],
        )
        li_att = li_msg.attachments.get()
        sign_in_by_link(client, django_capture_on_commit_callbacks)
        # then Li's ticket, by number or by id, and Wang's own ticket by id, are not found
        assert client.get(ticket_url(li_ticket.number)).status_code == 404
        assert client.get(ticket_url(li_ticket.pk)).status_code == 404
        assert client.get(ticket_url(wang_ticket.pk)).status_code == 404
        assert client.get(ticket_url("T2099010100001")).status_code == 404
        # and Li's file is not found, neither under Li's number nor under Wang's own
        assert client.get(f"{ticket_url(li_ticket.number)}files/{li_att.pk}/").status_code == 404
        assert client.get(f"{ticket_url(wang_ticket.number)}files/{li_att.pk}/").status_code == 404
        # and replying to Li's ticket is not found and writes nothing
        response = client.post(ticket_url(li_ticket.number) + "reply/", {"body": "hello"})
        assert response.status_code == 404
        assert not Message.objects.filter(ticket=li_ticket, body="hello").exists()
        # and Li's ticket is not in Wang's list
        assert li_ticket.number not in client.get("/portal/tickets/").text

    def test_files_of_internal_notes_and_of_signed_out_visitors_are_404(
        self, client, wang_ticket, system, django_capture_on_commit_callbacks
    ):
        # given a photo on an internal note of Wang's ticket, and one on Wang's own message
        note = tickets.add_message(
            actor=system,
            ticket_id=wang_ticket.pk,
            kind="note",
            body="内部照片",
            files=[IncomingFile("internal.jpg", photo_bytes(), "image/jpeg", "b" * 64)],
        )
        mine = tickets.add_message(
            actor=system,
            ticket_id=wang_ticket.pk,
            kind="customer",
            body="我的照片",
            files=[IncomingFile("mine.jpg", photo_bytes(), "image/jpeg", "c" * 64)],
        )
        base = ticket_url(wang_ticket.number) + "files/"
        mine_url = f"{base}{mine.attachments.get().pk}/"
        # then signed out, even Wang's own file is not found
        assert client.get(mine_url).status_code == 404
        # and signed in, the own file is served inline and the note's is not found
        sign_in_by_link(client, django_capture_on_commit_callbacks)
        response = client.get(mine_url)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert "private" in response["Cache-Control"]
        assert client.get(f"{base}{note.attachments.get().pk}/").status_code == 404

    def test_sign_out_ends_the_portal_session(self, client, wang_ticket, django_capture_on_commit_callbacks):
        sign_in_by_link(client, django_capture_on_commit_callbacks)
        assert client.get("/portal/tickets/").status_code == 200
        response = client.post("/portal/sign-out/")
        assert response.status_code == 302 and response["Location"] == SIGN_IN
        assert client.get("/portal/tickets/").status_code == 302

    def test_a_portal_sign_in_expires_after_a_day(self, client, wang_ticket):
        sign_in_by_tracking(client, wang_ticket)
        with time_machine.travel(clock.now() + timedelta(hours=25)):
            assert client.get(ticket_url(wang_ticket.number)).status_code == 302


# --- the ticket page ----------------------------------------------------------------------------


class TestTicketPage:
    def test_only_the_public_conversation_is_shown(self, client, wang_ticket):
        # given a named agent's reply, an internal note and a status change
        agent = UserFactory(role="admin", username="zhang.internal", display_name="小张")
        tickets.add_message(actor=agent, ticket_id=wang_ticket.pk, kind="reply", body="请重启试试")
        tickets.add_message(actor=agent, ticket_id=wang_ticket.pk, kind="note", body="内部：疑似批次问题")
        tickets.transition_ticket(
            actor=agent, ticket_id=wang_ticket.pk, to=Status.ON_HOLD, comment="等物流部"
        )
        # when the customer opens the ticket
        sign_in_by_tracking(english(client), wang_ticket)
        page = client.get(ticket_url(wang_ticket.number))
        # then they see their message and the reply with the agent's display name
        assert "冰箱不制冷了，怎么办？" in page.text and "请重启试试" in page.text and "小张" in page.text
        # and never the note, the internal user name, the status comment or "on hold"
        for hidden in ("内部：疑似批次问题", "zhang.internal", "等物流部", "On hold", "on_hold"):
            assert hidden not in page.text.replace('data-status="on_hold"', ""), hidden
        assert 'data-testid="portal-status" data-status="on_hold">In progress<' in page.text

    def test_images_show_thumbnails_and_videos_play(self, client, wang_ticket, system):
        # given a reply with a photo (with a thumbnail) and a video
        msg = tickets.add_message(
            actor=system,
            ticket_id=wang_ticket.pk,
            kind="reply",
            body="请看示意图和视频",
            files=[
                IncomingFile("guide.jpg", photo_bytes(), "image/jpeg", "d" * 64),
                IncomingFile("howto.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4", "e" * 64),
            ],
        )
        photo, video = msg.attachments.order_by("id")
        photo.thumbnail.save("thumb.jpg", ContentFile(photo_bytes(size=(8, 6), with_exif=False)))
        # when the customer opens the ticket
        sign_in_by_tracking(client, wang_ticket)
        page = client.get(ticket_url(wang_ticket.number))
        base = ticket_url(wang_ticket.number) + "files/"
        # then the photo shows as its thumbnail linking to the full image, and the video has controls
        assert f'<img src="{base}{photo.pk}/thumbnail/"' in page.text
        assert f'href="{base}{photo.pk}/"' in page.text
        assert (
            f'<video controls preload="metadata" class="kf-attachment-video rounded" src="{base}{video.pk}/"'
            in (page.text)
        )
        thumb = client.get(f"{base}{photo.pk}/thumbnail/")
        assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
        assert client.get(f"{base}{video.pk}/")["Content-Type"] == "video/mp4"
        # and the agent's reply without a display name is signed by customer service, not by "kefu"
        assert "kefu-system" not in page.text

    def test_a_reply_with_a_photo_reopens_a_solved_ticket(self, client, wang_ticket, system):
        # given a solved ticket, the customer signed in
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.SOLVED)
        sign_in_by_tracking(english(client), wang_ticket)
        # when they reply with a photo
        response = client.post(
            ticket_url(wang_ticket.number) + "reply/",
            {"body": "还是不制冷", "photos": [upload("fridge.jpg")]},
        )
        # then they are back on the ticket, which is open again, with their message and photo
        msg = Message.objects.filter(ticket=wang_ticket).latest("id")
        assert response.status_code == 302
        assert response["Location"] == f"{ticket_url(wang_ticket.number)}#m{msg.pk}"
        assert msg.kind == MessageKind.CUSTOMER and msg.body == "还是不制冷"
        assert [a.filename for a in msg.attachments.all()] == ["fridge.jpg"]
        wang_ticket.refresh_from_db()
        assert wang_ticket.status == Status.OPEN
        page = client.get(response["Location"])
        assert "Thank you, your message was sent." in page.text and "还是不制冷" in page.text
        att = Attachment.objects.get(message=msg)
        assert f"{ticket_url(wang_ticket.number)}files/{att.pk}/" in page.text

    def test_a_non_photo_is_refused_on_the_form(self, client, wang_ticket):
        sign_in_by_tracking(english(client), wang_ticket)
        pdf = upload("bill.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf")
        response = client.post(ticket_url(wang_ticket.number) + "reply/", {"body": "发票", "photos": [pdf]})
        assert response.status_code == 415
        assert 'data-testid="portal-reply-error"' in response.text and "only photos" in response.text
        assert "发票" in response.text  # what they wrote is kept
        assert not Message.objects.filter(ticket=wang_ticket, body="发票").exists()

    def test_a_closed_ticket_shows_a_new_request_link_and_refuses_replies(self, client, wang_ticket, system):
        # given a closed ticket
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.SOLVED)
        tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.CLOSED)
        sign_in_by_tracking(english(client), wang_ticket)
        # when the customer opens it, then there is no reply form but a way to start a new request
        page = client.get(ticket_url(wang_ticket.number))
        assert 'data-testid="portal-closed"' in page.text and 'href="/service/repair' in page.text
        assert 'name="photos"' not in page.text
        # when a reply is posted anyway, then it is refused with a friendly message
        response = client.post(ticket_url(wang_ticket.number) + "reply/", {"body": "在吗"})
        assert response.status_code == 409 and "This request is closed. Please start a new request." in (
            response.text
        )
        assert not Message.objects.filter(ticket=wang_ticket, body="在吗").exists()


# --- status words in both languages -------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_status_words_are_the_customers_in_each_language(client, wang_ticket, system, language):
    # given a ticket waiting on the customer
    tickets.transition_ticket(actor=system, ticket_id=wang_ticket.pk, to=Status.PENDING)
    sign_in_by_tracking(client, wang_ticket)
    # when the customer reads it in their language (browser setting)
    page = client.get(ticket_url(wang_ticket.number), HTTP_ACCEPT_LANGUAGE=language)
    listing = client.get("/portal/tickets/", HTTP_ACCEPT_LANGUAGE=language)
    # then the status is in customer words, in that language
    with translation.override(language):
        words = portal.customer_status_label(Status.PENDING)
        internal = str(Status.PENDING.label)
    assert f'<html lang="{language}">' in page.text
    assert (
        f'data-status="pending">{words}<' in page.text and f'data-status="pending">{words}<' in listing.text
    )
    assert internal not in page.text
    if language == "en":
        assert words == "Waiting for your reply"


def test_the_ticket_list_has_a_bounded_number_of_queries(
    client, system, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for i in range(8):
        new_ticket(system, subject=f"问题{i}")
    sign_in_by_link(client, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(6):
        response = client.get("/portal/tickets/")
    assert response.content.count(b"<tr data-number=") == 8


def test_the_sign_in_page_is_public_and_has_no_console_navigation(client):
    page = english(client).get(reverse("portal:sign_in"))
    assert page.status_code == 200
    assert "Get a sign-in link by email" in page.text and "Sign in with your tracking number" in page.text
    assert "API docs" not in page.text and 'data-testid="language-form"' in page.text
