from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts import events
from kefu.accounts.models import ApiToken, User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import NotFound, PermissionDenied
from kefu.core.permissions import Role, has_permission

TOKEN_PREFIX = "kefu_"


def digest_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_token_owner(actor: Any, user: User) -> None:
    if actor is None:  # the operator's CLI
        return
    if actor.pk != user.pk and not has_permission(actor, "token.manage_others"):
        raise PermissionDenied(_("You may only manage your own API tokens."))


@transaction.atomic
def create_api_token(*, actor: Any, user: User, name: str = "default") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns (token, raw). The raw value is never stored."""
    _check_token_owner(actor, user)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100] or "default",
        prefix=raw[:12],
        digest=digest_token(raw),
        created_at=clock.now(),
    )
    record_event(
        actor=actor,
        verb=events.TOKEN_CREATED.verb,
        subject=token,
        data={"name": token.name, "user": user.username},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor: Any, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id).select_related("user").first()
    if token is None:
        raise NotFound(_("No such API token."), field="token_id")
    _check_token_owner(actor, token.user)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, verb=events.TOKEN_REVOKED.verb, subject=token, data={"name": token.name})
    return token


def touch_api_token(token: ApiToken) -> None:
    """Record use at most once a minute (no write on every request)."""
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


SYSTEM_USERNAME = "kefu-system"


def get_system_user() -> User:
    """The actor of background work (SLA escalations, channels): an administrator who cannot sign in."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, role=Role.ADMIN, display_name="kefu", is_active=True)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            user = User.objects.get(username=SYSTEM_USERNAME)
    return user
