"""How the knowledge base is used: standard replies inserted on tickets (`usage_count`, which orders
the reply picker) and the help center's "was this helpful?" votes (kept for later analysis).

These are counters and anonymous feedback rows, not changes of business state: the vote row is its
own record, and an insert is counted without an audit event (it happens many times a day per agent).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import Membership, Team
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import Role, authorize
from kefu.knowledge.choices import ArticleStatus, Audience
from kefu.knowledge.models import Article, ArticleVote, StandardReply

VOTE_SOURCES = ("help_center", "bot")


def reply_team_ids(actor: Any) -> list[int]:
    """The teams whose own standard replies an actor may use: their memberships, and for a
    supervisor also the teams of their department."""
    q = Q(pk__in=Membership.objects.filter(user_id=actor.pk).values("team_id"))
    if getattr(actor, "department_id", None) and actor.role == Role.SUPERVISOR:
        q |= Q(department_id=actor.department_id)
    return list(Team.objects.filter(q).values_list("pk", flat=True))


def usable_replies(actor: Any, *, team_ids: list[int] | None = None) -> QuerySet[StandardReply]:
    """Active standard replies shared by every team or belonging to one of the actor's teams."""
    teams = reply_team_ids(actor) if team_ids is None else team_ids
    return StandardReply.objects.filter(Q(team__isnull=True) | Q(team_id__in=teams), is_active=True)


def get_usable_reply(*, actor: Any, reply_id: int, team_ids: list[int] | None = None) -> StandardReply:
    authorize(actor, "kb.view")
    reply = usable_replies(actor, team_ids=team_ids).filter(pk=reply_id).first()
    if reply is None:
        raise NotFound(_("Standard reply %(id)s not found.") % {"id": reply_id}, field="reply_id")
    return reply


def record_reply_use(*, actor: Any, reply_id: int, team_ids: list[int] | None = None) -> None:
    """Count one insert of a standard reply the actor may use (an atomic increment in SQL)."""
    authorize(actor, "kb.view")
    updated = (
        usable_replies(actor, team_ids=team_ids).filter(pk=reply_id).update(usage_count=F("usage_count") + 1)
    )
    if not updated:
        raise NotFound(_("Standard reply %(id)s not found.") % {"id": reply_id}, field="reply_id")


def voter_hash(session_key: str, article_id: int) -> str:
    """Who voted, as far as one-vote-per-visitor needs to know: a hash of the session and article."""
    return hashlib.sha256(f"{session_key}:{article_id}".encode()).hexdigest()


@transaction.atomic
def record_article_vote(
    *, article_id: int, helpful: bool, voter: str, source: str = "help_center", comment: str = ""
) -> tuple[ArticleVote, bool]:
    """Store a "was this helpful?" answer on a published public article, once per voter.

    Returns (vote, created): the voter's earlier vote and False when they already answered. The
    article row is locked so two quick clicks of one visitor store one vote."""
    if source not in VOTE_SOURCES:
        raise ValidationFailed(_("Unknown vote source."), field="source")
    if not voter:
        raise ValidationFailed(_("A vote needs a voter."), field="voter")
    article = (
        Article.objects.select_for_update()
        .filter(pk=article_id, status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)
        .only("id")
        .first()
    )
    if article is None:
        raise NotFound(_("Article %(id)s not found.") % {"id": article_id}, field="article_id")
    earlier = ArticleVote.objects.filter(article_id=article.pk, voter=voter).first()
    if earlier is not None:
        return earlier, False
    vote = ArticleVote.objects.create(
        article_id=article.pk,
        helpful=helpful,
        comment=comment[:500],
        source=source,
        voter=voter,
        created_at=clock.now(),
    )
    return vote, True
