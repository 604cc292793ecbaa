"""Channel reads: mailboxes for admins, the mail log newest first in keyset pages, emails scoped by
their ticket's visibility in SQL, and cid: links resolved to the ticket's attachments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.channels import selectors
from kefu.channels.models import EmailMessage, Mailbox
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.tickets.models import Attachment
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(role="admin")


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(name="After-sales", address="support@example.com")


_seq = iter(range(10**6))


def email(mailbox=None, ticket=None, **fields):
    n = next(_seq)
    values = {
        "direction": "in",
        "status": "new_ticket",
        "message_id": f"<sel-{n}@example.com>",
        "created_at": timezone.now(),
    }
    values.update(fields)
    return EmailMessage.objects.create(mailbox=mailbox, ticket=ticket, **values)


def test_mailboxes_are_for_admins_with_recent_counts(admin, mailbox):
    email(mailbox)
    email(mailbox, direction="out", status="sent")
    email(mailbox, created_at=timezone.now() - timedelta(days=30))

    (row,) = selectors.list_mailboxes(actor=admin)
    assert (row.received_recent, row.sent_recent) == (1, 1)
    with pytest.raises(PermissionDenied):
        selectors.list_mailboxes(actor=UserFactory(role="supervisor"))
    with pytest.raises(PermissionDenied):
        selectors.get_mailbox(actor=UserFactory(role="agent"), mailbox_id=mailbox.pk)
    with pytest.raises(NotFound):
        selectors.get_mailbox(actor=admin, mailbox_id=mailbox.pk + 1000)


def test_mail_log_pages_newest_first_with_filters(admin, mailbox):
    # given five received mails, two sent ones (one failed) and mail of another mailbox
    received = [email(mailbox, ticket=TicketFactory()) for _ in range(5)]
    sent = email(mailbox, direction="out", status="sent")
    failed = email(mailbox, direction="out", status="failed")
    email(Mailbox.objects.create(name="Other", address="other@example.com"))

    # when read two at a time: newest first, each page after the previous one's last
    with CaptureQueriesContext(connection) as queries:
        page = selectors.list_mailbox_emails(actor=admin, mailbox_id=mailbox.pk, limit=2)
        for e in page.emails:
            _ = e.ticket  # loaded with the page
    assert [e.pk for e in page.emails] == [failed.pk, sent.pk]
    assert len(queries) == 2  # the mailbox check and the page
    seen = [e.pk for e in page.emails]
    while page.older:
        page = selectors.list_mailbox_emails(
            actor=admin, mailbox_id=mailbox.pk, limit=2, before_id=page.older
        )
        seen += [e.pk for e in page.emails]
    assert seen == [failed.pk, sent.pk] + [e.pk for e in reversed(received)]

    # filters
    outgoing = selectors.list_mailbox_emails(actor=admin, mailbox_id=mailbox.pk, direction="out")
    assert [e.pk for e in outgoing.emails] == [failed.pk, sent.pk] and outgoing.older is None
    only_failed = selectors.list_mailbox_emails(actor=admin, mailbox_id=mailbox.pk, status="failed")
    assert [e.pk for e in only_failed.emails] == [failed.pk]
    with pytest.raises(ValidationFailed) as exc:
        selectors.list_mailbox_emails(actor=admin, mailbox_id=mailbox.pk, direction="sideways")
    assert exc.value.field == "direction"


def test_emails_are_visible_with_their_ticket(admin, mailbox):
    # given two teams of one department and a ticket of each, each with an email
    dept = DepartmentFactory()
    team_a, team_b = TeamFactory(department=dept), TeamFactory(department=dept)
    mail_a = email(mailbox, TicketFactory(team=team_a))
    mail_b = email(mailbox, TicketFactory(team=team_b))
    loose = email(mailbox, status="bounce")  # no ticket

    agent_a = UserFactory(role="agent", teams=[team_a])
    supervisor = UserFactory(role="supervisor", department=dept)
    outsider = UserFactory(role="supervisor", department=DepartmentFactory())

    def visible(user):
        return set(selectors.visible_emails(user).values_list("pk", flat=True))

    assert visible(agent_a) == {mail_a.pk}
    assert visible(supervisor) == {mail_a.pk, mail_b.pk}
    assert visible(outsider) == set()
    assert visible(admin) == {mail_a.pk, mail_b.pk, loose.pk}
    assert selectors.get_email(actor=agent_a, email_id=mail_a.pk) == mail_a
    for user, pk in ((agent_a, mail_b.pk), (agent_a, loose.pk), (outsider, mail_a.pk)):
        with pytest.raises(NotFound):
            selectors.get_email(actor=user, email_id=pk)


def test_raw_source_needs_view_raw_and_a_stored_file(admin, mailbox):
    team = TeamFactory()
    mail = email(mailbox, TicketFactory(team=team))
    with pytest.raises(NotFound):  # nothing kept
        selectors.get_email_raw(actor=admin, email_id=mail.pk)
    mail.raw.save("x.eml", ContentFile(b"Subject: x\r\n\r\nx\r\n"))
    assert selectors.get_email_raw(actor=admin, email_id=mail.pk) == mail
    with pytest.raises(PermissionDenied):
        selectors.get_email_raw(actor=UserFactory(role="agent", teams=[team]), email_id=mail.pk)


def test_cid_links_point_at_the_attachment_with_that_content_id():
    ticket = TicketFactory()
    att = Attachment.objects.create(
        ticket=ticket,
        file="attachments/x",
        filename="a.png",
        content_type="image/png",
        size=1,
        sha256="0" * 64,
        content_id="<Part1.ABC&x@mail>",
        created_at=timezone.now(),
    )
    url = selectors.attachment_url(att)
    body = '<img src="cid:part1.abc&amp;x@mail"><a href="cid:nope">x</a><img src="https://e.com/cid:Part1">'

    out = selectors.rewrite_cid_links(body, [att])

    assert out == f'<img src="{url}"><a href="cid:nope">x</a><img src="https://e.com/cid:Part1">'
    assert selectors.rewrite_cid_links(body, []) == body
