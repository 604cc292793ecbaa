"""Article pages: the list (filters and full-text search), an article, the editor, status actions,
versions with a diff, and article files (images for the help center too)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import DomainError, NotFound
from kefu.core.htmx import is_htmx
from kefu.core.text import strip_control
from kefu.knowledge import selectors, services
from kefu.knowledge.choices import ArticleStatus, Audience
from kefu.knowledge.forms import ArticleFilterForm, ArticleForm, AttachmentForm
from kefu.knowledge.models import Article
from kefu.knowledge.views.common import editor_page, error_status, kb_context, kb_page

PAGE_SIZE = 50
SEARCH_LIMIT = 100
MAX_QUERY = 100


def _status_actions(article: Article) -> list[tuple[str, str]]:
    labels = {
        ArticleStatus.PUBLISHED: _("Publish"),
        ArticleStatus.ARCHIVED: _("Archive"),
        ArticleStatus.DRAFT: _("Back to draft"),
    }
    return [(s, labels[ArticleStatus(s)]) for s in services.allowed_statuses(article.status)]


@kb_page
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    editor = selectors.can_edit(user)
    form = ArticleFilterForm(request.GET, editor=editor)
    filters = form.filters()
    q = strip_control(request.GET.get("q", "")).strip()[:MAX_QUERY]
    snippets: dict[int, str] = {}
    page_obj = None
    if q:
        hits = selectors.search_knowledge(
            actor=user, query=q, kinds=("article",), audience=filters.get("audience"), limit=SEARCH_LIMIT
        )
        order = {h.id: n for n, h in enumerate(hits)}
        snippets = {h.id: h.snippet for h in hits}
        rows = sorted(
            selectors.list_articles(actor=user, ids=list(order), **filters), key=lambda a: order[a.pk]
        )
    else:
        page_obj = Paginator(selectors.list_articles(actor=user, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = list(page_obj.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    ctx = kb_context(
        request,
        "articles",
        form=form,
        q=q,
        results=[{"article": a, "snippet": snippets.get(a.pk, "")} for a in rows],
        page_obj=page_obj,
        querystring=query.urlencode(),
    )
    if is_htmx(request) and getattr(request.htmx, "target", None) == "kb-results":
        return render(request, "knowledge/partials/kb_article_results.html", ctx)
    return render(request, "knowledge/article_list.html", ctx)


@kb_page
@require_GET
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article(actor=request.user, article_id=pk)
    ctx = kb_context(
        request,
        "articles",
        article=article,
        status_actions=_status_actions(article),
        attachments=selectors.list_attachments(article) if selectors.can_edit(request.user) else [],
    )
    return render(request, "knowledge/article_detail.html", ctx)


def _attachment_rows(article: Article | None) -> list[dict[str, Any]]:
    if article is None:
        return []
    return [
        {"att": att, "url": services.attachment_url(att), "markdown": services.attachment_markdown(att)}
        for att in selectors.list_attachments(article)
    ]


def _edit_page(
    request: HttpRequest,
    article: Article | None,
    form: ArticleForm,
    *,
    upload_form: AttachmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    ctx = kb_context(
        request,
        "articles",
        article=article,
        form=form,
        upload_form=upload_form or AttachmentForm(),
        attachments=_attachment_rows(article),
    )
    return render(request, "knowledge/article_edit.html", ctx, status=status)


def _article_form_page(request: HttpRequest, article: Article | None) -> HttpResponse:
    if request.method != "POST":
        # a new article may come prefilled from the bot-tuning list ("write an article")
        initial = (
            ArticleForm.initial_for(article)
            if article
            else {
                "title": request.GET.get("title", "")[:200],
                "variants": request.GET.get("variants", "")[:5000],
            }
        )
        return _edit_page(request, article, ArticleForm(initial=initial, article=article))
    form = ArticleForm(request.POST, article=article)
    status = 422
    if form.is_valid():
        try:
            saved = services.save_article(
                actor=request.user, article_id=article.pk if article else None, **form.service_kwargs()
            )
        except DomainError as exc:
            status = error_status(exc)
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Article “%(title)s” saved.") % {"title": saved.title})
            return redirect("knowledge:article_detail", pk=saved.pk)
    form.invalid_class()
    return _edit_page(request, article, form, status=status)


@editor_page
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    return _article_form_page(request, None)


@editor_page
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _article_form_page(request, selectors.get_article(actor=request.user, article_id=pk))


@editor_page
@require_POST
def article_status(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article(actor=request.user, article_id=pk)
    try:
        saved = services.set_article_status(
            actor=request.user, article_id=article.pk, status=request.POST.get("status", "")
        )
    except DomainError as exc:
        error_status(exc)
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("“%(title)s” is now %(status)s.")
            % {"title": saved.title, "status": saved.get_status_display()},
        )
    return redirect("knowledge:article_detail", pk=article.pk)


@editor_page
@require_POST
def article_upload(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article(actor=request.user, article_id=pk)
    upload_form = AttachmentForm(request.POST, request.FILES)
    status = 422
    if upload_form.is_valid():
        try:
            att = services.upload_article_attachment(
                actor=request.user, article_id=article.pk, file=upload_form.cleaned_data["file"]
            )
        except DomainError as exc:
            status = error_status(exc)
            upload_form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("%(name)s uploaded. Paste this line into the body: %(markdown)s")
                % {"name": att.filename, "markdown": services.attachment_markdown(att)},
            )
            return redirect("knowledge:article_edit", pk=article.pk)
    upload_form.invalid_class()
    form = ArticleForm(initial=ArticleForm.initial_for(article), article=article)
    return _edit_page(request, article, form, upload_form=upload_form, status=status)


def _version_number(raw: str | None, default: int) -> int | None:
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        return None


@kb_page
@require_GET
def article_versions(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article(actor=request.user, article_id=pk)
    versions = selectors.list_versions(actor=request.user, article_id=pk)
    numbers = [v.version for v in versions]
    latest = numbers[0] if numbers else article.version
    v_to = _version_number(request.GET.get("to"), latest)
    v_from = _version_number(request.GET.get("from"), max(min(numbers, default=1), latest - 1))
    error, status, diff = "", 200, []
    if v_from not in numbers or v_to not in numbers:
        error, status = _("Choose two versions of this article from the lists."), 400
    else:
        try:
            diff = selectors.article_diff(article, v_from, v_to)
        except NotFound as exc:  # a version vanished meanwhile
            error, status = exc.message, 400
    ctx = kb_context(
        request,
        "articles",
        article=article,
        versions=versions,
        v_from=v_from,
        v_to=v_to,
        diff=diff,
        error=error,
    )
    return render(request, "knowledge/article_versions.html", ctx, status=status)


@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """An article's image or PDF: staff with kb.view for articles they may see; anyone for published
    public articles (the help center shows their images). Never sniffed by the browser."""
    try:
        att = selectors.get_attachment(actor=request.user, attachment_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    is_image = att.content_type.startswith("image/")
    response = FileResponse(
        att.file.open("rb"),
        content_type=att.content_type,
        as_attachment=not is_image,
        filename=att.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    public = att.article.audience == Audience.PUBLIC and att.article.status == ArticleStatus.PUBLISHED
    response["Cache-Control"] = "public, max-age=3600" if public else "private, max-age=3600"
    response["ETag"] = f'"{att.sha256}"'
    return response


urlpatterns: list = [
    path("", article_list, name="article_list"),
    path("articles/new/", article_new, name="article_new"),
    path("articles/<int:pk>/", article_detail, name="article_detail"),
    path("articles/<int:pk>/edit/", article_edit, name="article_edit"),
    path("articles/<int:pk>/status/", article_status, name="article_status"),
    path("articles/<int:pk>/attachments/", article_upload, name="article_upload"),
    path("articles/<int:pk>/versions/", article_versions, name="article_versions"),
    path("attachments/<int:pk>/", attachment, name="attachment"),
]
