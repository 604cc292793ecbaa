"""API tokens: the `token` command, the services behind it, bearer and session authentication."""

import hashlib
import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from kefu.accounts.models import ApiToken
from kefu.accounts.services import create_api_token, revoke_api_token
from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import PermissionDenied
from kefu.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice", role="agent")


def token_cmd(*args):
    out = io.StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def create_raw(username="alice", *extra):
    """Run `token create` and return (ApiToken, raw) read from its output."""
    raw = token_cmd("create", username, *extra).strip().splitlines()[-1]
    return ApiToken.objects.get(digest=hashlib.sha256(raw.encode()).hexdigest()), raw


def bearer(raw, **kwargs):
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **kwargs)


# --- token create ---------------------------------------------------------------------------------


def test_create_prints_the_raw_token_as_the_last_line(alice):
    # when the operator creates a token
    output = token_cmd("create", "alice", "--name", "crm-sync")

    # then the last line is the raw token, the lines before explain it
    lines = output.strip().splitlines()
    raw = lines[-1]
    assert raw.startswith("kefu_")
    assert len(raw) > 40
    assert " " not in raw
    token = ApiToken.objects.get(user=alice)
    assert f"#{token.pk}" in lines[0]
    assert "crm-sync" in lines[0]
    assert token.name == "crm-sync"


def test_only_the_sha256_digest_is_stored_never_the_raw_token(alice):
    token, raw = create_raw()

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(v) for v in row.values()}
    assert row["prefix"] == raw[:12]  # enough to recognise it in a list, not to use it
    # nor is it in the audit trail
    assert all(raw not in str(e.data) for e in AuditEvent.objects.all())


def test_each_created_token_is_different(alice):
    _, first = create_raw()
    _, second = create_raw()
    assert first != second
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_created_token_authenticates_the_api(alice):
    _, raw = create_raw()

    response = bearer(raw).get("/api/v1/tickets")

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_created_token_acts_as_its_user(alice):
    # given a token of alice
    _, raw = create_raw()

    # when it creates a customer
    response = bearer(raw).post(
        "/api/v1/customers", '{"phone": "13800138000"}', content_type="application/json"
    )

    # then the change is alice's, from the api
    assert response.status_code == 201
    event = AuditEvent.objects.get(verb="customer.created")
    assert (event.actor_id, event.source) == (alice.pk, "api")


def test_create_for_an_unknown_user_is_a_command_error():
    with pytest.raises(CommandError, match="nobody"):
        token_cmd("create", "nobody")
    assert ApiToken.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="token.created").exists()


def test_create_is_audited_as_a_cli_action(alice):
    token, _ = create_raw("alice", "--name", "crm-sync")

    event = AuditEvent.objects.get(verb="token.created")
    assert event.subject_type == "apitoken"
    assert event.subject_id == token.pk
    assert event.actor_id is None  # the operator at the console
    assert event.source == "cli"
    assert event.data == {"name": "crm-sync", "user": "alice"}


# --- token list -----------------------------------------------------------------------------------


def test_list_shows_the_users_tokens_with_state_but_never_the_raw_value(alice):
    token, raw = create_raw()
    other = UserFactory(username="bob")
    create_api_token(actor=None, user=other, name="bobs")

    output = token_cmd("list", "alice")

    [line] = output.strip().splitlines()
    fields = line.split("\t")
    assert fields[0] == str(token.pk)
    assert fields[1] == f"{raw[:12]}…"
    assert fields[2] == "cli"
    assert fields[3] == "active"
    assert fields[4] == "last used never"
    assert raw not in output


def test_list_shows_last_use(alice):
    token, raw = create_raw()
    assert bearer(raw).get("/api/v1/tickets").status_code == 200

    [line] = token_cmd("list", "alice").strip().splitlines()

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert line.endswith(f"last used {token.last_used_at.isoformat()}")


def test_list_for_an_unknown_user_is_a_command_error():
    with pytest.raises(CommandError, match="nobody"):
        token_cmd("list", "nobody")


# --- token revoke ---------------------------------------------------------------------------------


def test_revoked_token_no_longer_authenticates(alice):
    # given a working token
    token, raw = create_raw()
    assert bearer(raw).get("/api/v1/tickets").status_code == 200

    # when it is revoked
    output = token_cmd("revoke", str(token.pk))

    # then it is refused with 401, and listed as revoked
    assert f"#{token.pk}" in output
    response = bearer(raw).get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "\trevoked\t" in token_cmd("list", "alice")


def test_revoke_is_audited_once_and_is_idempotent(alice):
    token, _ = create_raw()

    token_cmd("revoke", str(token.pk))
    token.refresh_from_db()
    first_revoked_at = token.revoked_at
    token_cmd("revoke", str(token.pk))

    token.refresh_from_db()
    assert token.revoked_at == first_revoked_at
    [event] = AuditEvent.objects.filter(verb="token.revoked")
    assert (event.subject_type, event.subject_id, event.source) == ("apitoken", token.pk, "cli")
    assert event.data == {"name": "cli"}


def test_revoking_one_token_leaves_the_users_other_tokens_working(alice):
    revoked, revoked_raw = create_raw()
    _, kept_raw = create_raw()

    token_cmd("revoke", str(revoked.pk))

    assert bearer(revoked_raw).get("/api/v1/tickets").status_code == 401
    assert bearer(kept_raw).get("/api/v1/tickets").status_code == 200


def test_revoking_an_unknown_token_is_a_command_error():
    with translation.override("en"), pytest.raises(CommandError, match="No such API token"):
        token_cmd("revoke", "999999")


# --- token authentication -------------------------------------------------------------------------


def test_a_deactivated_users_token_is_refused(alice):
    _, raw = create_raw()
    alice.is_active = False
    alice.save()

    response = bearer(raw).get("/api/v1/tickets")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kefu_not-a-real-token",
        "Bearer ",
        "Bearer " + "x" * 500,
        "Basic YWxpY2U6a2VmdS10ZXN0",  # alice:kefu-test — passwords are never accepted per request
        "Token kefu_x",
    ],
)
def test_bad_authorization_headers_are_401(alice, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_use_is_stamped_at_most_once_a_minute(alice):
    token, raw = create_raw()
    client = bearer(raw)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        client.get("/api/v1/tickets")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get("/api/v1/tickets")
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get("/api/v1/tickets")
        token.refresh_from_db()
        assert token.last_used_at == start + timedelta(seconds=61)


def test_a_revoked_token_on_a_post_is_401_for_a_real_client(alice):
    # given a revoked token, used by an API client that has no CSRF cookie (curl, a CRM)
    token, raw = create_raw()
    token_cmd("revoke", str(token.pk))
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")

    # when it posts
    response = client.post("/api/v1/customers", '{"phone": "13800138000"}', content_type="application/json")

    # then it is told to authenticate
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_valid_token_needs_no_csrf_token_for_unsafe_methods(alice):
    _, raw = create_raw()
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.post("/api/v1/customers", '{"phone": "13800138000"}', content_type="application/json")

    assert response.status_code == 201
    assert Customer.objects.count() == 1


# --- services: who may manage whose tokens --------------------------------------------------------


def test_a_user_may_create_and_revoke_their_own_token(alice):
    token, raw = create_api_token(actor=alice, user=alice, name="mine")

    revoke_api_token(actor=alice, token_id=token.pk)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert [e.actor_id for e in AuditEvent.objects.filter(subject_type="apitoken").order_by("id")] == [
        alice.pk,
        alice.pk,
    ]


def test_a_non_admin_may_not_revoke_another_users_token(alice):
    # given bob's working token
    bob = UserFactory(username="bob", role="supervisor")
    token, raw = create_api_token(actor=bob, user=bob)

    # when alice (an agent) tries to revoke it
    with pytest.raises(PermissionDenied) as exc:
        revoke_api_token(actor=alice, token_id=token.pk)

    # then 403, the token still works and nothing is recorded
    assert exc.value.status == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(raw).get("/api/v1/tickets").status_code == 200
    assert not AuditEvent.objects.filter(verb="token.revoked").exists()


def test_a_non_admin_may_not_create_a_token_for_another_user(alice):
    bob = UserFactory(username="bob")
    with pytest.raises(PermissionDenied):
        create_api_token(actor=alice, user=bob)
    assert not ApiToken.objects.filter(user=bob).exists()


def test_an_admin_may_revoke_another_users_token(alice):
    admin = UserFactory(role="admin")
    token, raw = create_api_token(actor=alice, user=alice)

    revoke_api_token(actor=admin, token_id=token.pk)

    assert bearer(raw).get("/api/v1/tickets").status_code == 401
    event = AuditEvent.objects.get(verb="token.revoked")
    assert event.actor_id == admin.pk


# --- session authentication -----------------------------------------------------------------------


def test_a_signed_in_session_may_use_the_api(alice):
    client = Client()
    client.force_login(alice)

    response = client.get("/api/v1/tickets")

    assert response.status_code == 200


def test_a_deactivated_users_session_is_refused(alice):
    client = Client()
    client.force_login(alice)
    alice.is_active = False
    alice.save()

    assert client.get("/api/v1/tickets").status_code == 401


def test_a_session_post_without_csrf_token_is_rejected(alice):
    # given a signed-in browser
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/tickets").status_code == 200  # safe methods need no CSRF token

    # when a page on another site makes it post without the CSRF token
    response = client.post("/api/v1/customers", '{"phone": "13800138000"}', content_type="application/json")

    # then it is refused and nothing is written
    assert response.status_code == 403
    assert Customer.objects.count() == 0


def test_a_session_post_with_the_csrf_token_is_accepted(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/login/")  # sets the CSRF cookie, as any page with a form does
    csrf = client.cookies["csrftoken"].value

    response = client.post(
        "/api/v1/customers",
        '{"phone": "13800138000"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == 201
    event = AuditEvent.objects.get(verb="customer.created")
    assert (event.actor_id, event.source) == (alice.pk, "api")
