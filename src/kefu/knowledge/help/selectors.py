"""Reads of the public help center: published public articles only, in the visitor's language first
and then in zh-hans (the fallback; a zh-hans visitor reads zh-hans articles only), with a bounded
number of queries whatever the size of the handbook."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Count, F, IntegerField, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.knowledge.choices import ArticleStatus, Audience
from kefu.knowledge.models import Article, ArticleCategory, ArticleVote
from kefu.knowledge.search import search

FALLBACK_LANGUAGE = "zh-hans"
PER_CATEGORY = 10  # articles listed per category on the help center's front page
CATEGORY_LIMIT = 200  # articles listed on one category's page


@dataclass
class HelpCategory:
    category_id: int | None  # None: articles without a category
    name: str
    articles: list[Article] = field(default_factory=list)
    total: int = 0  # published public articles of the category in the visitor's languages

    @property
    def has_more(self) -> bool:
        return self.total > len(self.articles)


def languages_for(language: str) -> list[str]:
    """The article languages a visitor reads, preferred first."""
    code = (language or FALLBACK_LANGUAGE).lower()
    return [code] if code == FALLBACK_LANGUAGE else [code, FALLBACK_LANGUAGE]


def public_articles() -> QuerySet[Article]:
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)


def article_slug(article: Article) -> str:
    """The slug of the article's readable URL: the stored one, else made from the title."""
    return article.slug or slugify(article.title, allow_unicode=True)[:200]


def _category_paths(categories: list[ArticleCategory]) -> dict[int, tuple[str, tuple]]:
    """Each category's display name ("Parent / Child") and tree-order sort key."""
    by_id = {c.pk: c for c in categories}
    paths: dict[int, tuple[str, tuple]] = {}
    for c in categories:
        chain: list[ArticleCategory] = []
        seen: set[int] = set()
        node: ArticleCategory | None = c
        while node is not None and node.pk not in seen:  # a cycle never loops forever
            seen.add(node.pk)
            chain.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        chain.reverse()
        paths[c.pk] = (" / ".join(n.name for n in chain), tuple((n.position, n.pk) for n in chain))
    return paths


def _readable(language: str) -> QuerySet[Article]:
    """Published public articles in the visitor's languages."""
    return public_articles().filter(language__in=languages_for(language))


def _language_order(language: str) -> Case:
    """Sorts the visitor's own language (0) before the fallback (1)."""
    own = languages_for(language)[0]
    return Case(When(language=own, then=Value(0)), default=Value(1), output_field=IntegerField())


_LISTED = ("id", "title", "slug", "language", "category_id", "published_at")


def list_help_categories(*, language: str) -> list[HelpCategory]:
    """Categories (in tree order) with their first PER_CATEGORY published public articles: those in
    the visitor's language first, then the zh-hans ones. Two queries."""
    rows = list(
        _readable(language)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("category_id")],
                order_by=[_language_order(language), F("title"), F("id")],
            ),
            total=Window(Count("id"), partition_by=[F("category_id")]),
        )
        .filter(rank__lte=PER_CATEGORY)
        .only(*_LISTED)
        .order_by("category_id", "rank")
    )
    grouped: dict[int | None, list[Article]] = {}
    for a in rows:
        grouped.setdefault(a.category_id, []).append(a)
    paths = _category_paths(list(ArticleCategory.objects.all())) if set(grouped) - {None} else {}
    ordered: list[tuple[int | None, str]] = [
        (pk, paths[pk][0]) for pk in sorted((c for c in grouped if c in paths), key=lambda c: paths[c][1])
    ]
    if None in grouped:
        ordered.append((None, _("Other questions")))
    return [
        HelpCategory(
            category_id=pk, name=name, articles=grouped[pk], total=getattr(grouped[pk][0], "total", 0)
        )
        for pk, name in ordered
    ]


def list_category_articles(*, category_id: int, language: str) -> HelpCategory:
    """One category's page: its published public articles, the visitor's language first."""
    articles = list(
        _readable(language)
        .filter(category_id=category_id)
        .only(*_LISTED)
        .order_by(_language_order(language), "title", "id")[:CATEGORY_LIMIT]
    )
    paths = _category_paths(list(ArticleCategory.objects.all())) if articles else {}
    if category_id not in paths:
        raise NotFound(_("Category %(id)s not found.") % {"id": category_id}, field="category_id")
    return HelpCategory(
        category_id=category_id, name=paths[category_id][0], articles=articles, total=len(articles)
    )


def get_help_article(*, article_id: int) -> Article:
    """A published public article with its category; NotFound for drafts, archived and internal ones."""
    article = public_articles().select_related("category").filter(pk=article_id).first()
    if article is None:
        raise NotFound(_("Article %(id)s not found.") % {"id": article_id}, field="article_id")
    return article


def has_voted(*, article_id: int, voter: str) -> bool:
    return bool(voter) and ArticleVote.objects.filter(article_id=article_id, voter=voter).exists()


@dataclass
class HelpHit:
    article: Article
    snippet: str  # escaped HTML with <mark>, from the search index


def search_help(*, query: str, language: str, limit: int = 20) -> list[HelpHit]:
    """Published public articles matching `query`, ranked by the search index, those in the visitor's
    language first (then zh-hans, then any other). One query besides the index's own."""
    hits = search(query, kinds=("article",), audience=Audience.PUBLIC, limit=limit)
    if not hits:
        return []
    articles = (
        public_articles()
        .only("id", "title", "slug", "language", "category_id")
        .in_bulk([h.object_id for h in hits])
    )
    languages = languages_for(language)
    found = [
        HelpHit(article=articles[h.object_id], snippet=h.snippet) for h in hits if h.object_id in articles
    ]

    def preference(hit: HelpHit) -> int:
        lang = hit.article.language.lower()
        return languages.index(lang) if lang in languages else len(languages)

    return sorted(found, key=preference)  # stable: the index's ranking within each language
