from __future__ import annotations

from django.db.models import QuerySet

from kefu.accounts.models import ApiToken, Membership, User
from kefu.accounts.services import digest_token


def get_active_token(raw: str) -> ApiToken | None:
    """The unrevoked token of an active user matching the raw bearer value, with its user."""
    if not raw or len(raw) > 200:
        return None
    return (
        ApiToken.objects.select_related("user")
        .filter(digest=digest_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def list_api_tokens(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-id")


def team_ids_of(user: User) -> QuerySet:
    return Membership.objects.filter(user_id=user.pk).values("team_id")
