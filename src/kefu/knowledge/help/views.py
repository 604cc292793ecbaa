"""The public help center (/help): browse and search published public articles, read one at a readable
URL, and answer "was this helpful?". No sign-in, no JavaScript needed; zh-hans by default, English
through the language switch (articles in the visitor's language first, zh-hans as the fallback)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.errors import DomainError, NotFound, RateLimited
from kefu.core.ratelimit import client_ip, hit
from kefu.core.text import strip_control
from kefu.knowledge import usage
from kefu.knowledge.help import selectors
from kefu.knowledge.models import Article

MAX_QUERY = 100  # characters of a search
SEARCH_RESULTS = 20


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _language() -> str:
    return get_language() or selectors.FALLBACK_LANGUAGE


def _visitor(request: HttpRequest) -> str:
    """Who is calling, for rate limits: the address, else the session."""
    return client_ip(request) or f"session:{request.session.session_key or '-'}"


def article_url(article: Article) -> str:
    slug = selectors.article_slug(article)
    if slug:
        return reverse("help:article", kwargs={"pk": article.pk, "slug": slug})
    return reverse("help:article_id", kwargs={"pk": article.pk})


def _with_urls(articles: list[Article]) -> list[Article]:
    for a in articles:
        a.help_url = article_url(a)  # type: ignore[attr-defined]
    return articles


def _voter(request: HttpRequest, article_id: int, *, create: bool = False) -> str:
    key = request.session.session_key
    if not key and create:
        request.session.save()  # an anonymous visitor gets a session: one vote per session
        key = request.session.session_key
    return usage.voter_hash(key, article_id) if key else ""


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    categories = selectors.list_help_categories(language=_language())
    for group in categories:
        _with_urls(group.articles)
    return render(request, "knowledge/help_home.html", {"categories": categories, "q": ""})


@require_GET
def category(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        group = selectors.list_category_articles(category_id=pk, language=_language())
    except NotFound as exc:
        raise Http404(exc.message) from exc
    _with_urls(group.articles)
    return render(request, "knowledge/help_category.html", {"group": group, "q": ""})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = strip_control(request.GET.get("q", ""))[:MAX_QUERY].strip()
    context: dict = {"q": q, "results": [], "error": None}
    if not q:
        return render(request, "knowledge/help_search.html", context)
    try:
        hit("help_search", _visitor(request), limit=_limit("KEFU_HELP_SEARCH_LIMIT", 60), window_seconds=60)
        results = selectors.search_help(query=q, language=_language(), limit=SEARCH_RESULTS)
    except DomainError as exc:  # RateLimited (429) above all
        context["error"] = exc.message
        response = render(request, "knowledge/help_search.html", context, status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.extra.get("retry_after") or 60)
        return response
    context["results"] = results
    _with_urls([r.article for r in results])
    return render(request, "knowledge/help_search.html", context)


def _article_page(
    request: HttpRequest, article: Article, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "article": article,
        "voted": selectors.has_voted(article_id=article.pk, voter=_voter(request, article.pk)),
        "vote_error": error,
        "q": "",
    }
    return render(request, "knowledge/help_article.html", context, status=status)


def _get_article(pk: int) -> Article:
    try:
        return selectors.get_help_article(article_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
def article(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    """An article at its readable URL; an old or missing slug redirects to the current one."""
    art = _get_article(pk)
    if slug != selectors.article_slug(art):
        return redirect(article_url(art), permanent=True)
    return _article_page(request, art)


@require_POST
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Was this helpful?": one answer per session and article, rate-limited per visitor."""
    art = _get_article(pk)
    answer = request.POST.get("helpful", "")
    if answer not in ("yes", "no"):
        return _article_page(request, art, error=_("Choose “Yes” or “No”."), status=422)
    try:
        hit(
            "help_vote",
            _visitor(request),
            limit=_limit("KEFU_HELP_VOTE_LIMIT", 30),
            window_seconds=_limit("KEFU_HELP_VOTE_WINDOW", 600),
        )
    except RateLimited as exc:
        response = _article_page(request, art, error=exc.message, status=429)
        response["Retry-After"] = str(exc.extra.get("retry_after") or 60)
        return response
    try:
        _vote, created = usage.record_article_vote(
            article_id=art.pk, helpful=answer == "yes", voter=_voter(request, art.pk, create=True)
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if created:
        flash.success(request, _("Thank you for your feedback."))
    else:
        flash.info(request, _("You have already answered for this article. Thank you."))
    return redirect(article_url(art) + "#kf-vote")
