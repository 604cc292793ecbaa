"""Mailbox configuration services: passwords are write-only and kept unless replaced or cleared,
bad input is refused naming the field, every save is audited without secrets, and the connection
test talks to real servers (Dovecot, an SMTP sink) and never repeats a password."""

from __future__ import annotations

import json
import socket

import pytest

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.channels.models import ChannelSettings, Mailbox
from kefu.channels.services.mailboxes import (
    poll_mailbox_now,
    save_channel_settings,
    save_mailbox,
)
from kefu.channels.services.mailboxes import test_mailbox_connection as check_connection
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db

IMAP_SECRET = "imap-S3cret!pw"
SMTP_SECRET = "smtp-S3cret!pw"


@pytest.fixture
def admin():
    return UserFactory(role="admin")


@pytest.fixture
def team():
    return TeamFactory(name="售后")


def mailbox_data(team=None, **overrides):
    data = {
        "name": "After-sales",
        "address": "Support@Example.com",
        "team_id": team.pk if team else None,
        "is_active": True,
        "send_acknowledgement": True,
        "max_message_mb": 20,
        "imap_host": "imap.example.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_username": "support@example.com",
        "imap_password": IMAP_SECRET,
        "imap_folder": "INBOX",
        "smtp_host": "smtp.example.com",
        "smtp_port": 465,
        "smtp_security": "ssl",
        "smtp_username": "support@example.com",
        "smtp_password": SMTP_SECRET,
    }
    data.update(overrides)
    return data


def events_for(mailbox):
    return list(AuditEvent.objects.filter(verb="mailbox.saved", subject_id=mailbox.pk).order_by("id"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


# --- save ------------------------------------------------------------------------------------------


def test_create_stores_settings_and_audits_field_names_only(admin, team):
    # when an admin creates a mailbox
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))

    # then it is stored (the address in lower case) with its passwords
    mailbox.refresh_from_db()
    assert mailbox.address == "support@example.com"
    assert mailbox.team == team
    assert (mailbox.imap_password, mailbox.smtp_password) == (IMAP_SECRET, SMTP_SECRET)
    # and the audit event names the fields, never a password value
    (event,) = events_for(mailbox)
    assert event.actor == admin
    assert event.data["created"] is True
    assert "imap_host" in event.data["fields"] and "imap_password" not in event.data["fields"]
    assert event.data["passwords"] == ["imap_password set", "smtp_password set"]
    dumped = json.dumps(event.data)
    assert IMAP_SECRET not in dumped and SMTP_SECRET not in dumped


def test_empty_password_keeps_the_stored_one(admin, team):
    # given a mailbox with passwords
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))

    # when the form is saved again with empty password inputs and another host
    data = mailbox_data(team, imap_password="", smtp_password="", imap_host="imap2.example.com")
    save_mailbox(actor=admin, mailbox_id=mailbox.pk, data=data)

    # then the passwords are unchanged and the event names only the host
    mailbox.refresh_from_db()
    assert (mailbox.imap_password, mailbox.smtp_password) == (IMAP_SECRET, SMTP_SECRET)
    assert mailbox.imap_host == "imap2.example.com"
    last = events_for(mailbox)[-1]
    assert last.data["fields"] == ["imap_host"]
    assert "passwords" not in last.data


def test_new_password_replaces_and_clear_removes(admin, team):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))

    # when a new IMAP password is given
    save_mailbox(actor=admin, mailbox_id=mailbox.pk, data={"imap_password": "new-imap-pw"})
    # then it replaces the old one; the event says so without either value
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "new-imap-pw"
    event = events_for(mailbox)[-1]
    assert event.data == {
        "address": "support@example.com",
        "created": False,
        "fields": [],
        "passwords": ["imap_password changed"],
    }

    # when the SMTP password is cleared explicitly (user name too: no sign-in)
    save_mailbox(
        actor=admin,
        mailbox_id=mailbox.pk,
        data={"smtp_password": "", "clear_smtp_password": True, "smtp_username": ""},
    )
    mailbox.refresh_from_db()
    assert mailbox.smtp_password == "" and mailbox.imap_password == "new-imap-pw"
    assert events_for(mailbox)[-1].data["passwords"] == ["smtp_password cleared"]


def test_saving_nothing_new_writes_no_event(admin, team):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))
    save_mailbox(
        actor=admin, mailbox_id=mailbox.pk, data=mailbox_data(team, imap_password="", smtp_password="")
    )
    assert len(events_for(mailbox)) == 1


def test_moving_to_another_imap_server_restarts_the_uid_state(admin, team):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=7, imap_last_uid=42, last_error="boom")

    save_mailbox(actor=admin, mailbox_id=mailbox.pk, data={"imap_folder": "Support"})

    mailbox.refresh_from_db()
    assert (mailbox.imap_uidvalidity, mailbox.imap_last_uid, mailbox.last_error) == (None, 0, "")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"address": "not-an-address"}, "address"),
        ({"team_id": 999999}, "team_id"),
        ({"imap_port": 0}, "imap_port"),
        ({"imap_port": 70000}, "imap_port"),
        ({"smtp_port": "abc"}, "smtp_port"),
        ({"imap_host": "bad host!"}, "imap_host"),
        ({"smtp_security": "tls13"}, "smtp_security"),
        ({"max_message_mb": 0}, "max_message_mb"),
        ({"imap_password": ""}, "imap_password"),  # IMAP needs one
        ({"smtp_password": ""}, "smtp_password"),  # a user name without a password
        ({"imap_security": "none"}, "imap_security"),  # a password in clear text over the network
        ({"imap_folder": "IN\nBOX"}, "imap_folder"),
    ],
)
def test_bad_input_is_refused_naming_the_field(admin, team, overrides, field):
    # when a mailbox is saved with one bad value
    with pytest.raises(ValidationFailed) as exc:
        save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team, **overrides))

    # then the error names that field and nothing is stored
    assert exc.value.field == field
    assert exc.value.message
    assert not Mailbox.objects.exists()


def test_plain_imap_on_this_machine_is_allowed(admin):
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data=mailbox_data(imap_host="127.0.0.1", imap_port=1143, imap_security="none", smtp_host=""),
    )
    assert mailbox.imap_security == "none"


def test_duplicate_address_is_refused(admin, team):
    # given a mailbox for support@example.com
    save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team))

    # when another one is saved with the same address in other letters
    with pytest.raises(ValidationFailed) as exc:
        save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(team, address="SUPPORT@example.com"))

    # then the address field carries the error
    assert exc.value.field == "address"
    assert "support@example.com" in exc.value.message
    assert Mailbox.objects.count() == 1


def test_only_mailbox_admins_may_save(team):
    agent = UserFactory(role="agent")
    with pytest.raises(PermissionDenied):
        save_mailbox(actor=agent, mailbox_id=None, data=mailbox_data(team))
    with pytest.raises(NotFound):
        save_mailbox(actor=UserFactory(role="admin"), mailbox_id=424242, data={})


# --- channel settings and fetch now ---------------------------------------------------------------


def test_channel_settings_set_the_repair_team(admin, team):
    save_channel_settings(actor=admin, repair_team_id=team.pk)
    assert ChannelSettings.load().repair_team == team
    event = AuditEvent.objects.get(verb="channel_settings.saved")
    assert event.data["repair_team"] == {"from": None, "to": team.pk}

    with pytest.raises(ValidationFailed) as exc:
        save_channel_settings(actor=admin, repair_team_id=999999)
    assert exc.value.field == "repair_team"
    with pytest.raises(PermissionDenied):
        save_channel_settings(actor=UserFactory(role="supervisor"), repair_team_id=None)


def test_fetch_now_needs_an_imap_host(admin):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(imap_host="", smtp_host=""))
    with pytest.raises(ValidationFailed) as exc:
        poll_mailbox_now(actor=admin, mailbox_id=mailbox.pk)
    assert exc.value.field == "imap_host"


# --- connection test ------------------------------------------------------------------------------


def test_connection_test_against_real_servers(admin, dovecot, smtp_sink):
    # given a Dovecot account and a mailbox pointing at it and at the SMTP server
    dovecot.add_user("conn-test@example.com", IMAP_SECRET)
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data=mailbox_data(
            address="conn-test@example.com",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            imap_username="conn-test@example.com",
            smtp_host=smtp_sink.host,
            smtp_port=smtp_sink.port,
            smtp_security="none",
        ),
    )

    # when the admin tests the connection
    result = check_connection(actor=admin, mailbox_id=mailbox.pk)

    # then both protocols answer
    assert result["imap"]["ok"] is True, result
    assert result["smtp"]["ok"] is True, result
    assert "INBOX" in result["imap"]["detail"]


def test_connection_test_reports_a_wrong_password_without_it(admin, dovecot):
    dovecot.add_user("wrong-pw@example.com", "the-right-one")
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data=mailbox_data(
            address="wrong-pw@example.com",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            imap_username="wrong-pw@example.com",
            smtp_host="",
        ),
    )
    result = check_connection(actor=admin, mailbox_id=mailbox.pk)
    assert result["imap"]["ok"] is False
    assert result["imap"]["error"] and IMAP_SECRET not in result["imap"]["error"]
    assert result["smtp"] == {"configured": False, "ok": None, "error": "", "detail": ""}


def test_connection_test_to_a_closed_port_fails_without_the_password(admin):
    # given a mailbox whose servers do not listen
    port = closed_port()
    mailbox = save_mailbox(
        actor=admin,
        mailbox_id=None,
        data=mailbox_data(
            imap_host="127.0.0.1",
            imap_port=port,
            imap_security="none",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
        ),
    )

    # when tested
    result = check_connection(actor=admin, mailbox_id=mailbox.pk)

    # then each protocol fails with a message, none containing a password
    for proto in ("imap", "smtp"):
        assert result[proto]["ok"] is False
        assert "ConnectionRefused" in result[proto]["error"]
        assert IMAP_SECRET not in result[proto]["error"] and SMTP_SECRET not in result[proto]["error"]


def test_connection_test_is_for_admins_only(admin):
    mailbox = save_mailbox(actor=admin, mailbox_id=None, data=mailbox_data(smtp_host=""))
    with pytest.raises(PermissionDenied):
        check_connection(actor=UserFactory(role="agent"), mailbox_id=mailbox.pk)
