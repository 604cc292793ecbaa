"""Article writes: create and edit (Markdown rendered and sanitized, question variants, products),
status transitions (draft → published → archived, and back to draft) and variants added one at a
time (bot tuning). Every change makes a new version with a snapshot and leaves audit events; the
search index follows the events after commit."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import InvalidTransition, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.customers.models import Product
from kefu.knowledge import events
from kefu.knowledge.choices import ArticleStatus, Audience, VariantSource
from kefu.knowledge.markdown import render_markdown
from kefu.knowledge.models import Article, ArticleCategory, ArticleVariant, ArticleVersion
from kefu.knowledge.services._common import check_choice, check_ref, is_int

MAX_BODY = 100_000
MAX_VARIANTS = 50
MAX_VARIANT_LENGTH = 300
MAX_PRODUCTS = 100

# from → the statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.PUBLISHED: frozenset({ArticleStatus.ARCHIVED, ArticleStatus.DRAFT}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.DRAFT}),
}


def allowed_statuses(status: str) -> list[str]:
    """The statuses an article in `status` may move to, in the order draft, published, archived."""
    allowed = TRANSITIONS.get(status, frozenset())
    return [s for s in ArticleStatus.values if s in allowed]


def _variant_key(text: str) -> str:
    return " ".join(text.casefold().split())


def clean_variants(variants: Any) -> list[str]:
    """Trimmed, deduplicated (ignoring case and repeated spaces), at most 50 of at most 300 characters."""
    if variants is None:
        return []
    if isinstance(variants, str) or not isinstance(variants, list | tuple):
        raise ValidationFailed(_("variants must be a list of questions."), field="variants")
    cleaned: list[str] = []
    seen: set[str] = set()
    for n, raw in enumerate(variants, start=1):
        if not isinstance(raw, str):
            raise ValidationFailed(_("Question %(n)d is not text.") % {"n": n}, field="variants")
        text = " ".join(unicodedata.normalize("NFC", raw).split())
        if not text:
            continue
        if len(text) > MAX_VARIANT_LENGTH:
            raise ValidationFailed(
                _("Question %(n)d is longer than %(max)d characters.") % {"n": n, "max": MAX_VARIANT_LENGTH},
                field="variants",
            )
        clean_text(text, "variants", MAX_VARIANT_LENGTH)  # control characters
        key = _variant_key(text)
        if key not in seen:
            seen.add(key)
            cleaned.append(text)
    if len(cleaned) > MAX_VARIANTS:
        raise ValidationFailed(
            _("At most %(max)d question variants per article (%(n)d given).")
            % {"max": MAX_VARIANTS, "n": len(cleaned)},
            field="variants",
        )
    return cleaned


def _products(product_ids: Any) -> list[Product]:
    if product_ids is None:
        return []
    if isinstance(product_ids, str) or not isinstance(product_ids, list | tuple | set):
        raise ValidationFailed(_("product_ids must be a list of product ids."), field="product_ids")
    ids = list(dict.fromkeys(product_ids))
    if len(ids) > MAX_PRODUCTS:
        raise ValidationFailed(
            _("At most %(max)d products per article.") % {"max": MAX_PRODUCTS}, field="product_ids"
        )
    if not all(is_int(i) for i in ids):
        raise ValidationFailed(_("product_ids must be a list of product ids."), field="product_ids")
    found = Product.objects.in_bulk(ids)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            _("product_ids: %(ids)s do not exist.") % {"ids": ", ".join(missing[:5])}, field="product_ids"
        )
    return [found[i] for i in ids]


def _language(language: Any) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if not isinstance(language, str) or language.lower() not in codes:
        raise ValidationFailed(
            _("language: choose one of %(allowed)s.") % {"allowed": ", ".join(codes)}, field="language"
        )
    return language.lower()


def make_slug(title: str) -> str:
    return slugify(title, allow_unicode=True)[:200] or "article"


def _lock(article_id: Any) -> Article:
    article = (
        Article.objects.select_for_update().filter(pk=article_id).first() if is_int(article_id) else None
    )
    if article is None:
        raise NotFound(_("Article %(id)s not found.") % {"id": article_id}, field="article_id")
    return article


def _check_transition(old: str, new: str) -> None:
    if new != old and new not in TRANSITIONS.get(old, frozenset()):
        raise InvalidTransition(
            _("An article cannot go from %(from)s to %(to)s.")
            % {"from": ArticleStatus(old).label, "to": ArticleStatus(new).label},
            field="status",
            allowed=allowed_statuses(old),
        )


def _variant_texts(article: Article) -> list[str]:
    return list(article.variants.order_by("id").values_list("text", flat=True))


def _sync_variants(article: Article, wanted: list[str], actor: Any, now: Any) -> list[str]:
    """Keep the existing rows of variants still wanted (their source and author), delete the others,
    add the new ones as the editor's. Returns the variants in stored order."""
    existing = list(article.variants.order_by("id"))
    wanted_keys = {_variant_key(t): t for t in wanted}
    kept_keys = set()
    to_delete = []
    for row in existing:
        key = _variant_key(row.text)
        if key in wanted_keys and key not in kept_keys:
            kept_keys.add(key)
            if row.text != wanted_keys[key]:  # the editor fixed case or spacing
                row.text = wanted_keys[key]
                row.save(update_fields=["text"])
        else:
            to_delete.append(row.pk)
    if to_delete:
        ArticleVariant.objects.filter(pk__in=to_delete).delete()
    ArticleVariant.objects.bulk_create(
        ArticleVariant(
            article=article,
            text=text,
            source=VariantSource.EDITOR,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        for key, text in wanted_keys.items()
        if key not in kept_keys
    )
    return _variant_texts(article)


def _snapshot(article: Article, variants: list[str], actor: Any, now: Any) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        version=article.version,
        title=article.title,
        body=article.body,
        variants=variants,
        status=article.status,
        audience=article.audience,
        author=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )


def _event(actor: Any, verb: str, article: Article, **data: Any) -> None:
    record_event(
        actor=actor,
        verb=verb,
        subject=article,
        data={"article_id": article.pk, "title": article.title, "version": article.version, **data},
    )


def _status_events(actor: Any, article: Article, old: str | None) -> None:
    if article.status == old:
        return
    if article.status == ArticleStatus.PUBLISHED:
        _event(actor, events.ARTICLE_PUBLISHED.verb, article, **{"from": old, "to": article.status})
    elif article.status == ArticleStatus.ARCHIVED:
        _event(actor, events.ARTICLE_ARCHIVED.verb, article, **{"from": old, "to": article.status})


@transaction.atomic
def save_article(
    *,
    actor: Any,
    article_id: int | None = None,
    title: Any,
    body: Any,
    variants: Any,
    category_id: Any,
    product_ids: Any,
    audience: Any,
    status: Any,
    language: Any = "zh-hans",
) -> Article:
    """Create (article_id None) or change an article. Each change is a new version with a snapshot
    (title, body, variants, status, audience, author, time); saving unchanged values changes nothing."""
    authorize(actor, "kb.edit")
    title = clean_text(title, "title", 200, required=True, single_line=True)
    body = clean_text(body, "body", MAX_BODY)
    wanted = clean_variants(variants)
    category = check_ref(ArticleCategory, category_id, "category_id")
    products = _products(product_ids)
    audience = check_choice(audience, Audience, "audience")
    status = check_choice(status, ArticleStatus, "status")
    language = _language(language)
    now = clock.now()
    user = actor if getattr(actor, "pk", None) else None

    if article_id is None:
        if status == ArticleStatus.ARCHIVED:
            raise ValidationFailed(_("A new article is a draft or published."), field="status")
        article = Article.objects.create(
            title=title,
            slug=make_slug(title),
            body=body,
            body_html=render_markdown(body),
            category=category,
            audience=audience,
            status=status,
            language=language,
            version=1,
            created_by=user,
            updated_by=user,
            created_at=now,
            updated_at=now,
            published_at=now if status == ArticleStatus.PUBLISHED else None,
        )
        article.products.set(products)
        stored = _sync_variants(article, wanted, actor, now)
        _snapshot(article, stored, actor, now)
        _event(actor, events.ARTICLE_CREATED.verb, article, status=status, audience=audience)
        _status_events(actor, article, ArticleStatus.DRAFT)
        return article

    article = _lock(article_id)
    _check_transition(article.status, status)
    old_status = article.status
    changed: list[str] = []
    for field, value in (
        ("title", title),
        ("body", body),
        ("category_id", category.pk if category else None),
        ("audience", audience),
        ("status", status),
        ("language", language),
    ):
        if getattr(article, field) != value:
            setattr(article, field, value)
            changed.append(field.removesuffix("_id"))
    old_variants = _variant_texts(article)
    if sorted(old_variants) != sorted(wanted):  # the order of variants carries no meaning
        changed.append("variants")
    old_products = set(article.products.values_list("pk", flat=True))
    if old_products != {p.pk for p in products}:
        changed.append("products")
    if not changed:
        return article

    if "title" in changed:
        article.slug = make_slug(title)
    if "body" in changed:
        article.body_html = render_markdown(body)
    if status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.version += 1
    article.updated_by = user
    article.updated_at = now
    article.save()
    if "products" in changed:
        article.products.set(products)
    stored = _sync_variants(article, wanted, actor, now) if "variants" in changed else old_variants
    _snapshot(article, stored, actor, now)
    _event(actor, events.ARTICLE_UPDATED.verb, article, fields=changed)
    _status_events(actor, article, old_status)
    return article


@transaction.atomic
def set_article_status(*, actor: Any, article_id: int, status: Any) -> Article:
    """Publish, archive or return an article to draft (a new version); the same status is a no-op."""
    authorize(actor, "kb.edit")
    status = check_choice(status, ArticleStatus, "status")
    article = _lock(article_id)
    if article.status == status:
        return article
    _check_transition(article.status, status)
    now = clock.now()
    old = article.status
    article.status = status
    if status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.version += 1
    article.updated_by = actor if getattr(actor, "pk", None) else None
    article.updated_at = now
    article.save()
    _snapshot(article, _variant_texts(article), actor, now)
    if status == ArticleStatus.DRAFT:
        _event(actor, events.ARTICLE_UPDATED.verb, article, fields=["status"], **{"from": old, "to": status})
    else:
        _status_events(actor, article, old)
    return article


@transaction.atomic
def add_variant(
    *, actor: Any, article_id: int, text: Any, source: Any = VariantSource.EDITOR
) -> ArticleVariant:
    """Add one question variant (bot tuning turns a customer's question into one). A variant the
    article already has (ignoring case and spacing) is returned as it is, without a new version."""
    authorize(actor, "kb.edit")
    source = check_choice(source, VariantSource, "source")
    if not isinstance(text, str):
        raise ValidationFailed(_("text must be text."), field="text")
    text = " ".join(unicodedata.normalize("NFC", text).split())
    text = clean_text(text, "text", MAX_VARIANT_LENGTH, required=True)
    article = _lock(article_id)
    key = _variant_key(text)
    rows = list(article.variants.order_by("id"))
    for row in rows:
        if _variant_key(row.text) == key:
            return row
    if len(rows) >= MAX_VARIANTS:
        raise ValidationFailed(
            _("At most %(max)d question variants per article.") % {"max": MAX_VARIANTS}, field="text"
        )
    now = clock.now()
    variant = ArticleVariant.objects.create(
        article=article,
        text=text,
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
    )
    article.version += 1
    article.updated_by = actor if getattr(actor, "pk", None) else None
    article.updated_at = now
    article.save(update_fields=["version", "updated_by", "updated_at"])
    _snapshot(article, [r.text for r in rows] + [text], actor, now)
    _event(actor, events.ARTICLE_VARIANT_ADDED.verb, article, variant_id=variant.pk, text=text, source=source)
    return variant
