"""The mailbox pages: an admin configures mailboxes with plain POSTs and never sees a stored password
again; other roles get 403; the mail log pages through the mail; one email is shown to whoever may
see its ticket — its HTML in a sandboxed frame, inline images from the ticket's attachments — and
its raw source only to roles allowed to download it."""

from __future__ import annotations

import html
import re
import socket
from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.channels.models import EmailMessage, Mailbox
from kefu.channels.services.mailboxes import save_mailbox
from kefu.tickets.models import Attachment, Message
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

SECRET = "Tr0ub4dor&3-imap"
SMTP_SECRET = "c0rrect-h0rse-smtp"


def signed_in(user, language="en"):
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(user)
    return c


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def admin():
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def client(admin):
    return signed_in(admin)


@pytest.fixture
def team():
    return TeamFactory(name="售后")


@pytest.fixture
def mailbox(admin, team):
    return save_mailbox(
        actor=admin,
        mailbox_id=None,
        data={
            "name": "After-sales",
            "address": "support@example.com",
            "team_id": team.pk,
            "imap_host": "imap.example.com",
            "imap_username": "support@example.com",
            "imap_password": SECRET,
            "smtp_host": "smtp.example.com",
            "smtp_username": "support@example.com",
            "smtp_password": SMTP_SECRET,
        },
    )


def form_post(mailbox=None, **overrides):
    data = {
        "name": "After-sales",
        "address": "support@example.com",
        "team": "",
        "is_active": "on",
        "send_acknowledgement": "on",
        "max_message_mb": "20",
        "imap_host": "imap.example.com",
        "imap_port": "",
        "imap_security": "ssl",
        "imap_username": "support@example.com",
        "imap_password": "",
        "imap_folder": "INBOX",
        "smtp_host": "smtp.example.com",
        "smtp_port": "",
        "smtp_security": "starttls",
        "smtp_username": "support@example.com",
        "smtp_password": "",
    }
    data.update(overrides)
    return data


def make_email(mailbox=None, ticket=None, **fields):
    n = EmailMessage.objects.count()
    defaults = {
        "direction": "in",
        "status": "new_ticket",
        "message_id": f"<m{n}-{timezone.now().timestamp()}@example.com>",
        "subject": f"Subject {n}",
        "from_name": "王芳",
        "from_address": "wang@example.cn",
        "to_addresses": "support@example.com",
        "created_at": timezone.now(),
        "size": 2048,
    }
    defaults.update(fields)
    return EmailMessage.objects.create(mailbox=mailbox, ticket=ticket, **defaults)


# --- access -----------------------------------------------------------------------------------------


def config_pages(mailbox):
    return [
        ("get", reverse("channels:mailbox_list")),
        ("get", reverse("channels:mailbox_new")),
        ("get", reverse("channels:mailbox_edit", args=[mailbox.pk])),
        ("get", reverse("channels:mailbox_mail", args=[mailbox.pk])),
        ("post", reverse("channels:mailbox_edit", args=[mailbox.pk])),
        ("post", reverse("channels:mailbox_test", args=[mailbox.pk])),
        ("post", reverse("channels:mailbox_poll", args=[mailbox.pk])),
        ("post", reverse("channels:channel_settings")),
    ]


@pytest.mark.parametrize("role", ["agent", "supervisor", "qa", "executive"])
def test_other_roles_get_403_on_configuration_pages(mailbox, role):
    c = signed_in(UserFactory(role=role))
    for method, url in config_pages(mailbox):
        response = getattr(c, method)(url)
        assert response.status_code == 403, url
        assert 'data-testid="denied"' in text(response)
    mailbox.refresh_from_db()
    assert mailbox.name == "After-sales"


def test_visitors_are_sent_to_sign_in(mailbox):
    response = Client().get(reverse("channels:mailbox_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_nav_shows_channels_to_admins_only(client):
    channels = reverse("channels:mailbox_list")
    assert f'href="{channels}"' in text(client.get(reverse("channels:mailbox_list")))
    agent_page = signed_in(UserFactory(role="agent")).get(reverse("inbox"))
    assert f'href="{channels}"' not in text(agent_page)


# --- list -------------------------------------------------------------------------------------------


def test_list_shows_mailboxes_receiving_errors_and_recent_counts(client, admin, mailbox):
    # given a second mailbox without IMAP that had a polling error, and some mail
    pipe = save_mailbox(actor=admin, mailbox_id=None, data={"name": "Sales", "address": "sales@example.com"})
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="Could not connect or log in: timed out")
    make_email(mailbox)
    make_email(mailbox)
    make_email(mailbox, direction="out", status="sent")
    make_email(mailbox, created_at=timezone.now() - timedelta(days=8))  # too old to count

    # when the admin opens the channels page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("channels:mailbox_list"))

    # then it lists both, how each receives, the error and the last 7 days' mail
    page = text(response)
    assert response.status_code == 200
    assert "support@example.com" in page and pipe.address in page
    assert "imap.example.com" in page and "SMTP pipe only" in page
    assert 'data-testid="mailbox-error"' in page and "timed out" in page
    assert "2 received · 1 sent" in page
    assert 'data-testid="smtpd-example"' in page and "2525" in page
    assert SECRET not in page and SMTP_SECRET not in page
    assert len(queries) <= 12


def test_channel_settings_card_saves_the_repair_team(client, team):
    response = client.post(reverse("channels:channel_settings"), {"repair_team": str(team.pk)})
    assert response.status_code == 302
    from kefu.channels.models import ChannelSettings

    assert ChannelSettings.load().repair_team == team
    response = client.post(reverse("channels:channel_settings"), {"repair_team": "999999"})
    assert response.status_code == 422


# --- form -------------------------------------------------------------------------------------------


def test_create_by_form_then_the_page_never_shows_the_password(client, team):
    # when an admin fills in the new-mailbox form
    response = client.post(
        reverse("channels:mailbox_new"),
        form_post(team=str(team.pk), imap_password=SECRET, smtp_password=SMTP_SECRET),
    )

    # then the mailbox is stored and the edit page opens
    mailbox = Mailbox.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("channels:mailbox_edit", args=[mailbox.pk])
    assert (mailbox.imap_password, mailbox.smtp_password) == (SECRET, SMTP_SECRET)
    page = text(client.get(response["Location"]))
    # the password inputs are empty and say a password is set
    assert SECRET not in page and SMTP_SECRET not in page
    assert re.search(r'<input type="password" name="imap_password"(?![^>]*value=)[^>]*>', page)
    assert page.count("Set — leave empty to keep it.") == 2
    assert response.get("Cache-Control") is None or "no-store" in response.get("Cache-Control", "")


def test_saving_with_empty_password_keeps_it(client, mailbox):
    response = client.post(
        reverse("channels:mailbox_edit", args=[mailbox.pk]), form_post(name="售后邮箱", imap_port="993")
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "售后邮箱" and mailbox.imap_port == 993
    assert (mailbox.imap_password, mailbox.smtp_password) == (SECRET, SMTP_SECRET)


def test_validation_error_does_not_echo_a_typed_password(client, mailbox):
    # when the form comes back with a bad port and a newly typed password
    response = client.post(
        reverse("channels:mailbox_edit", args=[mailbox.pk]),
        form_post(imap_port="99999", imap_password="typed-new-secret", smtp_security="bogus"),
    )

    # then the form is shown again with the message at the field, without any password
    page = text(response)
    assert response.status_code == 422
    assert 'data-testid="error-smtp_security"' in page or 'data-testid="error-imap_port"' in page
    assert "typed-new-secret" not in page and SECRET not in page
    mailbox.refresh_from_db()
    assert mailbox.imap_password == SECRET


def test_service_errors_land_on_the_named_field(client, mailbox):
    response = client.post(reverse("channels:mailbox_edit", args=[mailbox.pk]), form_post(imap_port="70000"))
    page = text(response)
    assert response.status_code == 422
    assert 'data-testid="error-imap_port"' in page and "65535" in page


def test_duplicate_address_shows_an_error_at_the_address(client, mailbox):
    response = client.post(
        reverse("channels:mailbox_new"),
        form_post(address="SUPPORT@example.com", imap_password="x", smtp_password="y"),
    )
    page = text(response)
    assert response.status_code == 422
    assert 'data-testid="error-address"' in page and "already used" in page
    assert Mailbox.objects.count() == 1


def test_clear_checkbox_removes_the_smtp_password(client, mailbox):
    response = client.post(
        reverse("channels:mailbox_edit", args=[mailbox.pk]),
        form_post(clear_smtp_password="on", smtp_username=""),
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.smtp_password == "" and mailbox.imap_password == SECRET
    page = text(client.get(reverse("channels:mailbox_edit", args=[mailbox.pk])))
    assert 'data-testid="hint-smtp_password">Not set.' in page
    assert "clear_smtp_password" not in page and "clear_imap_password" in page


def test_connection_test_button_shows_each_protocol(client, admin):
    # given a mailbox whose servers do not listen
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data={
            "name": "Local",
            "address": "local@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": port,
            "imap_security": "none",
            "imap_password": SECRET,
        },
    )

    # when the admin presses "Test connection" (htmx)
    response = client.post(reverse("channels:mailbox_test", args=[mailbox.pk]), HTTP_HX_REQUEST="true")

    # then IMAP failed with the reason, SMTP is not configured, and no password is shown
    page = text(response)
    assert response.status_code == 200
    assert 'data-testid="test-imap" data-ok="false"' in page and "refused" in page
    assert 'data-testid="test-smtp" data-ok="none"' in page
    assert SECRET not in page

    # without htmx the whole settings page comes back with the result in it
    full = client.post(reverse("channels:mailbox_test", args=[mailbox.pk]))
    assert 'data-testid="mailbox-form"' in text(full) and 'data-ok="false"' in text(full)
    assert SECRET not in text(full)


def test_fetch_now_without_imap_is_refused_with_a_toast(client, admin):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data={"name": "Pipe", "address": "pipe@example.com"})
    response = client.post(reverse("channels:mailbox_poll", args=[mailbox.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "kf-toast" in response["HX-Trigger"]


# --- mail log ---------------------------------------------------------------------------------------


def test_mail_log_filters_and_pages_older(client, mailbox):
    # given 60 received mails and one failed outgoing one
    for i in range(60):
        make_email(mailbox, ticket=TicketFactory() if i % 2 else None)
    failed = make_email(mailbox, direction="out", status="failed", error="550 mailbox unavailable")
    url = reverse("channels:mailbox_mail", args=[mailbox.pk])

    # when the admin opens the mail log: the newest 50, with the error, in a few queries
    with CaptureQueriesContext(connection) as queries:
        first = text(client.get(url))
    assert len(queries) <= 8, [q["sql"] for q in queries]
    assert first.count('data-testid="mail-row"') == 50
    assert "550 mailbox unavailable" in first
    older = re.search(r'data-testid="mail-older" href="\?before=(\d+)"', first)
    assert older

    # then "older" shows the remaining 11
    second = text(client.get(f"{url}?before={older.group(1)}"))
    assert second.count('data-testid="mail-row"') == 11
    assert 'data-testid="mail-older"' not in second

    # and a status filter shows just the failed one
    filtered = text(client.get(url, {"status": "failed"}))
    assert filtered.count('data-testid="mail-row"') == 1
    assert reverse("channels:email_detail", args=[failed.pk]) in filtered


# --- one email --------------------------------------------------------------------------------------


@pytest.fixture
def ticket_email(mailbox, team):
    ticket = TicketFactory(team=team, subject="洗衣机漏水")
    msg = Message.objects.create(
        ticket=ticket, kind="customer", body="洗衣机漏水，请派人上门。", created_at=timezone.now()
    )
    att = Attachment(
        ticket=ticket,
        message=msg,
        filename="leak.png",
        content_type="image/png",
        size=4,
        sha256="0" * 64,
        content_id="leak1@example.cn",
        created_at=timezone.now(),
    )
    att.file.save("leak.png", ContentFile(b"\x89PNG"), save=False)
    att.save()
    email = make_email(
        mailbox,
        ticket,
        ticket_message=msg,
        html='<p>洗衣机漏水</p><img src="cid:leak1@example.cn" alt="photo"><img src="cid:unknown@x">',
    )
    email.raw.save("m.eml", ContentFile(b"From: wang@example.cn\r\nSubject: leak\r\n\r\nbody\r\n"))
    return email


def test_email_detail_renders_html_in_a_sandboxed_frame_with_inline_images(client, ticket_email):
    response = client.get(reverse("channels:email_detail", args=[ticket_email.pk]))
    page = text(response)
    assert response.status_code == 200

    # the HTML is inside <iframe sandbox="" srcdoc="…"> (escaped), with its own CSP
    frame = re.search(r'<iframe sandbox=""[^>]*srcdoc="([^"]*)"', page)
    assert frame, page
    doc = html.unescape(frame.group(1))
    assert "<p>洗衣机漏水</p>" in doc
    assert 'http-equiv="Content-Security-Policy"' in doc and "default-src 'none'" in doc
    # cid: points at a signed link to the ticket attachment (the sandboxed frame sends no
    # session cookie); an unknown cid stays as it was
    att = ticket_email.ticket.attachments.get()
    inline = re.search(r'<img src="(/channels/mail/inline/[^"]+/)" alt="photo">', doc)
    assert inline, doc
    assert "cid:leak1@example.cn" not in doc and 'src="cid:unknown@x"' in doc
    image = Client().get(inline.group(1))  # no session, like the frame
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == b"\x89PNG"
    assert "sandbox" in image["Content-Security-Policy"]
    assert Client().get(inline.group(1).replace("/inline/", "/inline/x")).status_code == 404
    # the HTML never appears unescaped in the page itself
    assert '<img src="cid:unknown@x">' not in page
    # the ticket message text, the attachment link and the raw download for admins
    assert "洗衣机漏水，请派人上门。" in page
    att_url = reverse(
        "api-1:tickets_attachment", kwargs={"ticket_id": att.ticket_id, "attachment_id": att.pk}
    )
    assert f'href="{att_url}"' in page
    assert reverse("channels:email_raw", args=[ticket_email.pk]) in page


def test_inline_image_links_expire_and_follow_visibility(client, ticket_email, team):
    # given the inline-image link an agent of the ticket's team got with the page
    agent = UserFactory(role="agent", teams=[team])
    page = text(signed_in(agent).get(reverse("channels:email_detail", args=[ticket_email.pk])))
    link = re.search(r"/channels/mail/inline/[^&\"]+/", page).group(0)
    assert Client().get(link).status_code == 200

    # when the agent leaves the team, the link no longer works
    agent.memberships.all().delete()
    assert Client().get(link).status_code == 404

    # and an admin's link expires after an hour
    admin_page = text(client.get(reverse("channels:email_detail", args=[ticket_email.pk])))
    admin_link = re.search(r"/channels/mail/inline/[^&\"]+/", admin_page).group(0)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert Client().get(admin_link).status_code == 404


def test_email_detail_follows_ticket_visibility(ticket_email, team, mailbox):
    own = UserFactory(role="agent", teams=[team])
    other = UserFactory(role="agent", teams=[TeamFactory()])
    url = reverse("channels:email_detail", args=[ticket_email.pk])

    # an agent of the ticket's team sees it (without the raw download: not their permission)
    page = signed_in(own).get(url)
    assert page.status_code == 200
    assert reverse("channels:email_raw", args=[ticket_email.pk]) not in text(page)
    # an agent of another team gets 404
    assert signed_in(other).get(url).status_code == 404
    # an email without a ticket is for mailbox admins only
    loose = make_email(mailbox, status="bounce")
    assert signed_in(own).get(reverse("channels:email_detail", args=[loose.pk])).status_code == 404
    admin_page = signed_in(UserFactory(role="admin")).get(reverse("channels:email_detail", args=[loose.pk]))
    assert admin_page.status_code == 200


def test_raw_download_needs_the_permission(client, ticket_email, team):
    url = reverse("channels:email_raw", args=[ticket_email.pk])

    # an admin downloads the .eml
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"] and ".eml" in response["Content-Disposition"]
    assert b"Subject: leak" in b"".join(response.streaming_content)

    # an agent who may see the ticket may not download the source: 403
    agent = UserFactory(role="agent", teams=[team])
    assert signed_in(agent).get(url).status_code == 403
    # a supervisor of another department does not even see it: 404
    supervisor = UserFactory(role="supervisor")
    assert signed_in(supervisor).get(url).status_code == 404


def test_fetch_now_brings_new_mail_into_the_log(client, admin, dovecot, django_capture_on_commit_callbacks):
    # given a Dovecot account with one new mail, and a mailbox polling it
    address = "fetch-now@example.com"
    dovecot.add_user(address, SECRET)
    dovecot.clear(address)
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data={
            "name": "Fetch",
            "address": address,
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "imap_password": SECRET,
        },
    )
    dovecot.deliver(
        address,
        b"From: =?utf-8?b?546L6Iqz?= <wang.fang@example.cn>\r\nTo: fetch-now@example.com\r\n"
        b"Subject: fetch now\r\nMessage-ID: <fetch-now-1@example.cn>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n",
    )

    # when the admin presses "Fetch mail now"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("channels:mailbox_poll", args=[mailbox.pk]), HTTP_HX_REQUEST="true")

    # then the mail is in the mail log (with the acknowledgement sent for the new ticket)
    assert response.status_code == 204 and "kf-toast" in response["HX-Trigger"]
    log = text(client.get(reverse("channels:mailbox_mail", args=[mailbox.pk], query={"direction": "in"})))
    assert log.count('data-testid="mail-row"') == 1 and "fetch now" in log and "wang.fang@example.cn" in log


def test_pages_render_in_chinese(admin, mailbox, ticket_email):
    c = signed_in(admin, language="zh-hans")
    for url in (
        reverse("channels:mailbox_list"),
        reverse("channels:mailbox_new"),
        reverse("channels:mailbox_edit", args=[mailbox.pk]),
        reverse("channels:mailbox_mail", args=[mailbox.pk]),
        reverse("channels:email_detail", args=[ticket_email.pk]),
    ):
        response = c.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in text(response)
