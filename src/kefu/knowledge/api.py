"""The knowledge-base API: articles (with versions and question variants), standard replies and one
search over both. Mounted at /kb."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router
from ninja.files import UploadedFile

from kefu.core.errors import ValidationFailed
from kefu.knowledge import selectors, services
from kefu.knowledge.choices import ArticleStatus
from kefu.knowledge.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatchIn,
    AttachmentOut,
    ErrorOut,
    ReplyIn,
    ReplyOut,
    ReplyPage,
    ReplyPatchIn,
    SearchHitOut,
    VariantIn,
    VariantOut,
    VersionOut,
)

router = Router()
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
NULLABLE = {"category_id", "team_id"}  # null clears these; null elsewhere means "unchanged"


def _changes(payload: Any) -> dict[str, Any]:
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in NULLABLE}


def _article(request: HttpRequest, article_id: int):
    return selectors.get_article(actor=request.user, article_id=article_id)


# --- articles ------------------------------------------------------------------------------------


@router.post("/articles", response={201: ArticleOut, **ERRORS}, summary="Create an article")
def articles_create(request: HttpRequest, payload: ArticleIn):
    """Knowledge editors and admins. The body is Markdown, rendered and sanitized into `body_html`;
    the article starts at version 1."""
    article = services.save_article(actor=request.user, **payload.dict())
    return 201, _article(request, article.pk)


@router.get("/articles", response={200: ArticlePage, **ERRORS}, summary="List articles I may see")
def articles_list(
    request: HttpRequest,
    status: str | None = None,
    audience: str | None = None,
    category_id: int | None = None,
    product_id: int | None = None,
    q: str = Query("", max_length=200, description="part of the title; see /kb/search for full text"),
    cursor: int | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(50, ge=1, le=200),
):
    """Newest id first. Editors see every status; other staff published articles only."""
    qs = selectors.list_articles(
        actor=request.user,
        status=status,
        audience=audience,
        category_id=category_id,
        product_id=product_id,
        q=q,
    ).order_by("-id")
    if cursor is not None:
        qs = qs.filter(pk__lt=cursor)
    items = list(qs[: limit + 1])
    next_cursor = items[limit - 1].pk if len(items) > limit else None
    return 200, {"items": items[:limit], "next_cursor": next_cursor}


@router.get("/articles/{int:article_id}", response={200: ArticleOut, **ERRORS}, summary="An article")
def articles_get(request: HttpRequest, article_id: int):
    return 200, _article(request, article_id)


@router.patch("/articles/{int:article_id}", response={200: ArticleOut, **ERRORS}, summary="Change an article")
def articles_patch(request: HttpRequest, article_id: int, payload: ArticlePatchIn):
    """Fields left out stay as they are. Any change makes a new version; `status` follows
    draft → published → archived → draft (409 otherwise)."""
    article = _article(request, article_id)
    values: dict[str, Any] = {
        "title": article.title,
        "body": article.body,
        "variants": [v.text for v in article.variants.all()],
        "category_id": article.category_id,
        "product_ids": [p.pk for p in article.products.all()],
        "audience": article.audience,
        "status": article.status,
        "language": article.language,
    }
    values.update(_changes(payload))
    services.save_article(actor=request.user, article_id=article.pk, **values)
    return 200, _article(request, article_id)


@router.delete(
    "/articles/{int:article_id}", response={200: ArticleOut, **ERRORS}, summary="Archive an article"
)
def articles_archive(request: HttpRequest, article_id: int):
    """Articles are never deleted: this archives it (its versions stay)."""
    _article(request, article_id)
    services.set_article_status(actor=request.user, article_id=article_id, status=ArticleStatus.ARCHIVED)
    return 200, _article(request, article_id)


@router.get(
    "/articles/{int:article_id}/versions",
    response={200: list[VersionOut], **ERRORS},
    summary="An article's versions, newest first",
)
def articles_versions(request: HttpRequest, article_id: int):
    return 200, selectors.list_versions(actor=request.user, article_id=article_id)


@router.post(
    "/articles/{int:article_id}/variants",
    response={200: VariantOut, 201: VariantOut, **ERRORS},
    summary="Add a question variant to an article",
)
def articles_add_variant(request: HttpRequest, article_id: int, payload: VariantIn):
    """201 with a new version of the article; 200 when the article already has that question."""
    known = {v.pk for v in _article(request, article_id).variants.all()}
    variant = services.add_variant(
        actor=request.user, article_id=article_id, text=payload.text, source=payload.source
    )
    return (200 if variant.pk in known else 201), variant


@router.post(
    "/articles/{int:article_id}/attachments",
    response={201: AttachmentOut, **ERRORS, 413: ErrorOut, 415: ErrorOut},
    summary="Upload an image or PDF for an article",
)
def articles_upload(request: HttpRequest, article_id: int, file: File[UploadedFile]):
    """JPEG, PNG, GIF, WebP or PDF up to 10 MB. Returns its `url` and the Markdown to paste."""
    _article(request, article_id)
    att = services.upload_article_attachment(actor=request.user, article_id=article_id, file=file)
    return 201, att


# --- standard replies ------------------------------------------------------------------------------


@router.post("/replies", response={201: ReplyOut, **ERRORS}, summary="Create a standard reply")
def replies_create(request: HttpRequest, payload: ReplyIn):
    """Editors and admins for any team or shared (no team); supervisors for their own teams."""
    reply = services.save_reply(actor=request.user, **payload.dict())
    return 201, selectors.get_reply(actor=request.user, reply_id=reply.pk)


@router.get("/replies", response={200: ReplyPage, **ERRORS}, summary="List standard replies")
def replies_list(
    request: HttpRequest,
    q: str = Query("", max_length=200, description="part of the title or text"),
    team_id: int | None = Query(None, description="0: shared replies only"),
    active: bool | None = None,
    cursor: int | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(50, ge=1, le=200),
):
    """Editors and admins see every reply; others the shared ones and their teams' ones. Newest first."""
    qs = selectors.list_replies(actor=request.user, q=q, team_id=team_id, active=active).order_by("-id")
    if cursor is not None:
        qs = qs.filter(pk__lt=cursor)
    items = list(qs[: limit + 1])
    next_cursor = items[limit - 1].pk if len(items) > limit else None
    return 200, {"items": items[:limit], "next_cursor": next_cursor}


@router.get("/replies/{int:reply_id}", response={200: ReplyOut, **ERRORS}, summary="A standard reply")
def replies_get(request: HttpRequest, reply_id: int):
    return 200, selectors.get_reply(actor=request.user, reply_id=reply_id)


@router.patch(
    "/replies/{int:reply_id}", response={200: ReplyOut, **ERRORS}, summary="Change a standard reply"
)
def replies_patch(request: HttpRequest, reply_id: int, payload: ReplyPatchIn):
    reply = selectors.get_reply(actor=request.user, reply_id=reply_id)
    values: dict[str, Any] = {
        "title": reply.title,
        "body": reply.body,
        "team_id": reply.team_id,
        "category_id": reply.category_id,
        "is_active": reply.is_active,
    }
    values.update(_changes(payload))
    services.save_reply(actor=request.user, reply_id=reply.pk, **values)
    return 200, selectors.get_reply(actor=request.user, reply_id=reply_id)


@router.delete("/replies/{int:reply_id}", response={204: None, **ERRORS}, summary="Delete a standard reply")
def replies_delete(request: HttpRequest, reply_id: int):
    selectors.get_reply(actor=request.user, reply_id=reply_id)
    services.delete_reply(actor=request.user, reply_id=reply_id)
    return 204, None


# --- search ------------------------------------------------------------------------------------------


@router.get("/search", response={200: list[SearchHitOut], **ERRORS}, summary="Search articles and replies")
def kb_search(
    request: HttpRequest,
    q: str = Query(..., max_length=200, description="words or a question, Chinese or English"),
    limit: int = Query(10, ge=1, le=50),
    audience: str | None = Query(None, description="public: only articles the help center shows"),
    kinds: str = Query("article,reply", description="comma-separated: article, reply"),
):
    """Ranked hits (BM25-style) with highlighted snippets. Staff see internal and public articles
    (`audience` narrows), editors also drafts; standard replies are the shared ones and those of your
    teams. With `audience=public` no standard replies are returned."""
    chosen = selectors.parse_kinds(kinds)
    if audience == "public":
        chosen = tuple(k for k in chosen if k != "reply")
    if not q.strip():
        raise ValidationFailed(_("q: give something to search for."), field="q")
    hits = selectors.search_knowledge(
        actor=request.user, query=q, kinds=chosen, audience=audience, limit=limit
    )
    return 200, [h.__dict__ for h in hits]
