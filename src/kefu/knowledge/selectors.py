"""Knowledge-base reads, scoped in SQL.

Who sees which article: editors (kb.edit) every article in every status; other staff (kb.view)
published articles, internal and public; anyone else published public articles only (the help
center). Standard replies: editors and admins see all; everyone else the shared ones and those of
their own teams.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import Membership
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import has_permission
from kefu.customers.models import Product
from kefu.knowledge import search as kb_search
from kefu.knowledge.choices import ArticleStatus, Audience, DocKind
from kefu.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleCategory,
    ArticleVariant,
    ArticleVersion,
    DictionaryWord,
    StandardReply,
    SynonymGroup,
)
from kefu.knowledge.usage import reply_team_ids

SEARCH_KINDS = (DocKind.ARTICLE.value, DocKind.REPLY.value)

# --- articles ---------------------------------------------------------------------------------


def can_edit(actor: Any) -> bool:
    return has_permission(actor, "kb.edit")


def articles_visible_to(actor: Any) -> QuerySet[Article]:
    qs = Article.objects.all()
    if can_edit(actor):
        return qs
    if has_permission(actor, "kb.view"):
        return qs.filter(status=ArticleStatus.PUBLISHED)
    return qs.filter(status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)


def list_articles(
    *,
    actor: Any,
    status: str | None = None,
    audience: str | None = None,
    category_id: int | None = None,
    product_id: int | None = None,
    q: str = "",
    ids: list[int] | None = None,
) -> QuerySet[Article]:
    """Articles the actor may see, newest change first, filtered; `q` matches titles (the list page's
    full-text search goes through kefu.knowledge.search)."""
    qs = articles_visible_to(actor).select_related("category", "updated_by")
    if status:
        qs = qs.filter(status=status)
    if audience:
        qs = qs.filter(audience=audience)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if product_id:
        qs = qs.filter(products__id=product_id)
    if q:
        qs = qs.filter(title__icontains=q.strip())
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.order_by("-updated_at", "-id")


def _with_details(qs: QuerySet[Article]) -> QuerySet[Article]:
    return qs.select_related("category", "created_by", "updated_by").prefetch_related(
        Prefetch("variants", queryset=ArticleVariant.objects.order_by("id")),
        Prefetch("products", queryset=Product.objects.order_by("model_number")),
    )


def _article_not_found(article_id: int) -> NotFound:
    return NotFound(_("Article %(id)s not found.") % {"id": article_id}, field="article_id")


def get_article(*, actor: Any, article_id: int) -> Article:
    """An article with its category, variants and products; NotFound when the actor may not see it."""
    article = _with_details(articles_visible_to(actor)).filter(pk=article_id).first()
    if article is None:
        raise _article_not_found(article_id)
    return article


def get_public_article(article_id: int) -> Article:
    """A published public article (the help center's, anyone may read it)."""
    qs = Article.objects.filter(status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)
    article = _with_details(qs).filter(pk=article_id).first()
    if article is None:
        raise _article_not_found(article_id)
    return article


def list_versions(*, actor: Any, article_id: int) -> list[ArticleVersion]:
    """The article's versions, newest first, with their authors."""
    article = get_article(actor=actor, article_id=article_id)
    return list(article.versions.select_related("author").order_by("-version"))


def get_version(article: Article, version: int) -> ArticleVersion:
    row = article.versions.select_related("author").filter(version=version).first()
    if row is None:
        raise NotFound(_("Version %(v)s of this article does not exist.") % {"v": version}, field="version")
    return row


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "section" | "hunk" | "add" | "remove" | "same"
    text: str


def _diff_block(label: str, old: list[str], new: list[str]) -> list[DiffLine]:
    if old == new:
        return []
    lines = [DiffLine("section", label)]
    for line in list(difflib.unified_diff(old, new, lineterm="", n=3))[2:]:  # skip the ---/+++ header
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("remove", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return lines


def _labelled(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def article_diff(article: Article, v_from: int, v_to: int) -> list[DiffLine]:
    """What changed between two versions of an article: title, status and audience, question
    variants and body, line by line (unified diff with three lines of context). Empty when equal."""
    if v_from == v_to:
        return []
    old, new = get_version(article, v_from), get_version(article, v_to)
    lines = _diff_block(_("Title"), [old.title], [new.title])
    lines += _diff_block(
        _("Status"), [_labelled(ArticleStatus, old.status)], [_labelled(ArticleStatus, new.status)]
    )
    lines += _diff_block(
        _("Audience"), [_labelled(Audience, old.audience)], [_labelled(Audience, new.audience)]
    )
    lines += _diff_block(_("Question variants"), list(old.variants or []), list(new.variants or []))
    lines += _diff_block(_("Body"), old.body.splitlines(), new.body.splitlines())
    return lines


def get_attachment(*, actor: Any, attachment_id: int) -> ArticleAttachment:
    """An article's file, for whoever may see the article (anyone, for a published public one)."""
    att = (
        ArticleAttachment.objects.filter(pk=attachment_id, article__in=articles_visible_to(actor))
        .select_related("article")
        .first()
    )
    if att is None:
        raise NotFound(_("File %(id)s not found.") % {"id": attachment_id}, field="attachment_id")
    return att


def list_attachments(article: Article) -> list[ArticleAttachment]:
    return list(article.attachments.order_by("id"))


def category_choices() -> list[tuple[int, str]]:
    """Categories in tree order as ("Parent / Child") labels."""
    categories = list(ArticleCategory.objects.all())
    by_id = {c.pk: c for c in categories}
    rows = []
    for c in categories:
        chain: list[ArticleCategory] = []
        node: ArticleCategory | None = c
        while node is not None and node not in chain:
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        chain.reverse()
        key = tuple((n.position, n.pk) for n in chain)
        rows.append((key, c.pk, " / ".join(n.name for n in chain)))
    return [(pk, label) for _key, pk, label in sorted(rows)]


def product_choices() -> list[tuple[int, str]]:
    return [(p.pk, str(p)) for p in Product.objects.filter(is_active=True).order_by("model_number")]


# --- standard replies --------------------------------------------------------------------------


def manages_all_replies(actor: Any) -> bool:
    """Editors and admins manage every standard reply; supervisors only their own teams' ones."""
    return has_permission(actor, "reply.manage") and has_permission(actor, "kb.edit")


def member_team_ids(actor: Any) -> list[int]:
    if not getattr(actor, "pk", None):
        return []
    return list(Membership.objects.filter(user_id=actor.pk).values_list("team_id", flat=True))


def can_manage_reply(actor: Any, reply: StandardReply) -> bool:
    if manages_all_replies(actor):
        return True
    if not has_permission(actor, "reply.manage"):
        return False
    return reply.team_id is not None and reply.team_id in member_team_ids(actor)


def _replies_visible_to(actor: Any) -> QuerySet[StandardReply]:
    if not has_permission(actor, "kb.view"):
        return StandardReply.objects.none()
    if manages_all_replies(actor):
        return StandardReply.objects.all()
    return StandardReply.objects.filter(Q(team__isnull=True) | Q(team_id__in=reply_team_ids(actor)))


def list_replies_for(
    *, actor: Any, q: str = "", team_id: int | None = None, active_only: bool = True
) -> QuerySet[StandardReply]:
    """The replies an actor uses: shared ones and their teams' ones (also for editors and admins)."""
    if not has_permission(actor, "kb.view"):
        return StandardReply.objects.none()
    qs = StandardReply.objects.filter(Q(team__isnull=True) | Q(team_id__in=reply_team_ids(actor)))
    return _filter_replies(qs, q=q, team_id=team_id, active=True if active_only else None)


def list_replies(
    *, actor: Any, q: str = "", team_id: int | None = None, active: bool | None = None
) -> QuerySet[StandardReply]:
    """The management list: every reply for editors and admins, shared and own teams' for others."""
    return _filter_replies(_replies_visible_to(actor), q=q, team_id=team_id, active=active)


def _filter_replies(
    qs: QuerySet[StandardReply], *, q: str, team_id: int | None, active: bool | None
) -> QuerySet[StandardReply]:
    if q.strip():
        qs = qs.filter(Q(title__icontains=q.strip()) | Q(body__icontains=q.strip()))
    if team_id == 0:
        qs = qs.filter(team__isnull=True)
    elif team_id:
        qs = qs.filter(team_id=team_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.select_related("team", "category").order_by("title", "id")


def get_reply(*, actor: Any, reply_id: int) -> StandardReply:
    reply = _replies_visible_to(actor).select_related("team", "category").filter(pk=reply_id).first()
    if reply is None:
        raise NotFound(_("Standard reply %(id)s not found.") % {"id": reply_id}, field="reply_id")
    return reply


def reply_team_choices(actor: Any) -> list[tuple[int, str]]:
    """Teams a reply may be given to by the actor (all for editors/admins, own for supervisors)."""
    from kefu.accounts.models import Team

    qs = (
        Team.objects.all()
        if manages_all_replies(actor)
        else Team.objects.filter(pk__in=member_team_ids(actor))
    )
    return [(t.pk, t.name) for t in qs.order_by("name", "id")]


# --- dictionary and synonyms ---------------------------------------------------------------------


def list_dictionary_words(*, q: str = "") -> QuerySet[DictionaryWord]:
    qs = DictionaryWord.objects.all()
    if q.strip():
        qs = qs.filter(word__icontains=q.strip())
    return qs.order_by("word")


def list_synonym_groups() -> QuerySet[SynonymGroup]:
    return SynonymGroup.objects.order_by("id")


def get_synonym_group(group_id: int) -> SynonymGroup:
    group = SynonymGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("Synonym group %(id)s not found.") % {"id": group_id}, field="group_id")
    return group


# --- search ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnowledgeHit:
    kind: str
    id: int
    title: str
    snippet: str
    score: float
    url: str


def parse_kinds(kinds: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """ "article,reply" → ("article", "reply"); empty → both. Unknown kinds are a 422."""
    if kinds is None or kinds == "" or kinds == []:
        return SEARCH_KINDS
    parts = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    chosen: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part not in SEARCH_KINDS:
            raise ValidationFailed(
                _("kinds: “%(kind)s” is not one of %(allowed)s.")
                % {"kind": part[:30], "allowed": ", ".join(SEARCH_KINDS)},
                field="kinds",
            )
        if part not in chosen:
            chosen.append(part)
    return tuple(chosen) or SEARCH_KINDS


def search_knowledge(
    *,
    actor: Any,
    query: str,
    kinds: tuple[str, ...] = SEARCH_KINDS,
    audience: str | None = None,
    limit: int = 10,
) -> list[KnowledgeHit]:
    """Ranked articles and standard replies for the console and the API: staff see internal and public
    articles (`audience` narrows), editors also drafts and archived ones; standard replies are the
    shared ones and those of the actor's teams."""
    from django.urls import reverse

    if audience and audience not in Audience.values:
        raise ValidationFailed(
            _("audience: choose one of %(allowed)s.") % {"allowed": ", ".join(Audience.values)},
            field="audience",
        )
    if not has_permission(actor, "kb.view"):
        audience, kinds = Audience.PUBLIC, tuple(k for k in kinds if k == DocKind.ARTICLE)
    if not query.strip() or not kinds:
        return []
    editor = can_edit(actor)
    team_ids = reply_team_ids(actor) if getattr(actor, "pk", None) else []
    hits = kb_search.search(
        query, kinds=kinds, audience=audience or None, team_ids=team_ids, live_only=not editor, limit=limit
    )
    # the index is a copy: check each hit against what the actor may see now (two queries at most)
    article_ids = [h.object_id for h in hits if h.kind == DocKind.ARTICLE]
    reply_ids = [h.object_id for h in hits if h.kind == DocKind.REPLY]
    visible_articles = (
        set(articles_visible_to(actor).filter(pk__in=article_ids).values_list("pk", flat=True))
        if article_ids
        else set()
    )
    visible_replies = (
        set(
            list_replies_for(actor=actor, active_only=not editor)
            .filter(pk__in=reply_ids)
            .values_list("pk", flat=True)
        )
        if reply_ids
        else set()
    )
    out = []
    for h in hits:
        if h.kind == DocKind.ARTICLE and h.object_id in visible_articles:
            url = reverse("knowledge:article_detail", args=[h.object_id])
        elif h.kind == DocKind.REPLY and h.object_id in visible_replies:
            url = reverse("knowledge:reply_detail", args=[h.object_id])
        else:
            continue
        out.append(KnowledgeHit(h.kind, h.object_id, h.title, h.snippet, float(h.score), url))
    return out
