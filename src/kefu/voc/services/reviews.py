"""Review intake (差评管理): uploaded export files (preview → confirm → imported by the worker in
batches) and reviews pushed through the API. Idempotent by (shop, dedup key); a 追评 arriving later is
added to the known review. New reviews become feedback items and, per the shop's rule, tickets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import Conflict, LimitExceeded, NotFound, UnsupportedMediaType, ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.models import Product, Shop
from kefu.voc import events, imports, textmodels
from kefu.voc.choices import FeedbackSource, ImportStatus, Polarity, RatingLevel
from kefu.voc.imports import ParsedReview, ProductMatcher, RowError
from kefu.voc.models import FeedbackItem, Review, ReviewImport, ReviewMapping
from kefu.voc.services.feedback import build_feedback, record_feedback
from kefu.voc.services.review_rules import open_review_tickets, rule_for

MAX_FILE_BYTES = 20 * 1024 * 1024
BATCH = 500
MAX_SKIPPED = 1000
MAX_PUSH = 1000
PREVIEW_ROWS = 10
API_FIELDS = {"platform_review_id": "review_id"}  # review field → API field name where they differ


def _shop(shop_id: Any, field_name: str = "shop_id") -> Shop:
    shop = Shop.objects.filter(pk=shop_id).first() if str(shop_id or "").isdigit() else None
    if shop is None:
        raise ValidationFailed(_("No such shop."), field=field_name)
    return shop


def read_file(imp: ReviewImport) -> bytes:
    with imp.file.open("rb") as fh:
        return fh.read()


def file_headers(imp: ReviewImport) -> list[str]:
    try:
        return imports.read_table(read_file(imp), limit=1).headers
    except (imports.UnreadableFile, OSError):
        return []


@transaction.atomic
def create_import(*, actor: Any, shop_id: Any, uploaded_file: Any) -> ReviewImport:
    """Store an uploaded export (CSV or XLSX, at most 20 MB) for preview, its columns mapped from the
    shop's saved mapping or the known headers."""
    authorize(actor, "voc.import")
    shop = _shop(shop_id)
    if uploaded_file is None:
        raise ValidationFailed(_("Choose a review export file."), field="file")
    if (uploaded_file.size or 0) > MAX_FILE_BYTES:
        raise LimitExceeded(_("The file is larger than 20 MB."), field="file")
    data = b"".join(uploaded_file.chunks())
    if len(data) > MAX_FILE_BYTES:
        raise LimitExceeded(_("The file is larger than 20 MB."), field="file")
    if imports.sniff(data[:8192]) is None:
        raise UnsupportedMediaType(_("Upload a CSV or XLSX review export."), field="file")
    try:
        table = imports.read_table(data, limit=PREVIEW_ROWS)
    except imports.UnreadableFile as exc:
        raise ValidationFailed(str(exc), field="file") from exc
    saved = ReviewMapping.objects.filter(shop=shop).values_list("columns", flat=True).first()
    name = (getattr(uploaded_file, "name", "") or "reviews").rsplit("/", 1)[-1][:200]
    imp = ReviewImport(
        shop=shop,
        file_name=name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        columns=imports.auto_map(table.headers, saved),
        status=ImportStatus.PREVIEW,
        created_by=actor,
        created_at=clock.now(),
    )
    imp.file.save(f"{imp.file_sha256[:16]}.{table.kind}", ContentFile(data), save=False)
    imp.save()
    return imp


def clean_columns(columns: Mapping[str, Any], headers: Sequence[str]) -> dict[str, str]:
    """The mapping {field: header} checked against the file: known fields, existing headers, the review
    time and the text or the rating mapped. Raises ValidationFailed naming columns.<field>."""
    out: dict[str, str] = {}
    for fld, header in (columns or {}).items():
        if fld not in imports.FIELDS:
            raise ValidationFailed(_("Unknown review field '%(f)s'.") % {"f": fld}, field=f"columns.{fld}")
        header = str(header or "").strip()
        if not header:
            continue
        if header not in headers:
            raise ValidationFailed(
                _("The file has no column '%(h)s'.") % {"h": header}, field=f"columns.{fld}"
            )
        out[fld] = header
    if "reviewed_at" not in out:
        raise ValidationFailed(_("Choose the column with the review time."), field="columns.reviewed_at")
    if "content" not in out and "rating" not in out:
        raise ValidationFailed(
            _("Choose the column with the review text or the rating."), field="columns.content"
        )
    return out


def _enqueue(import_id: int) -> None:
    from kefu.voc.tasks import run_review_import_task

    run_review_import_task(import_id)


@transaction.atomic
def confirm_import(*, actor: Any, import_id: int, columns: Mapping[str, Any]) -> ReviewImport:
    """Check and save the mapping (also as the shop's mapping), queue the import."""
    authorize(actor, "voc.import")
    imp = ReviewImport.objects.select_for_update().select_related("shop").filter(pk=import_id).first()
    if imp is None:
        raise NotFound(_("No such import."))
    if imp.status != ImportStatus.PREVIEW:
        raise Conflict(_("This import has already been started."), field="status")
    cleaned = clean_columns(columns, file_headers(imp))
    now = clock.now()
    mapping, _created = ReviewMapping.objects.select_for_update().get_or_create(
        shop=imp.shop, defaults={"columns": cleaned, "updated_by": actor, "updated_at": now}
    )
    if _created or mapping.columns != cleaned:
        mapping.columns = cleaned
        mapping.updated_by = actor
        mapping.updated_at = now
        mapping.save()
        record_event(
            actor=actor,
            verb=events.MAPPING_SAVED.verb,
            subject=mapping,
            data={"shop": imp.shop.name, "shop_id": imp.shop_id, "columns": cleaned},
        )
    imp.columns = cleaned
    imp.status = ImportStatus.QUEUED
    imp.save(update_fields=["columns", "status"])
    record_event(
        actor=actor,
        verb=events.IMPORT_STARTED.verb,
        subject=imp,
        data={"file_name": imp.file_name, "shop": imp.shop.name, "shop_id": imp.shop_id},
    )
    transaction.on_commit(partial(_enqueue, imp.pk), robust=True)
    return imp


@dataclass
class StoreResult:
    created: int = 0
    duplicates: int = 0
    follow_ups: int = 0
    ids: list[int] = field(default_factory=list)


def _level_from_text(analysis: textmodels.Analysis | None) -> str:
    polarity = str(analysis.polarity) if analysis else ""
    levels: dict[str, str] = {Polarity.NEGATIVE: RatingLevel.BAD, Polarity.POSITIVE: RatingLevel.GOOD}
    return levels.get(polarity, RatingLevel.NEUTRAL)


def _record_follow_up(review: Review, analysis: textmodels.Analysis | None = None) -> Any:
    return record_feedback(
        source=FeedbackSource.REVIEW_FOLLOW_UP,
        source_key=f"review:{review.pk}:follow_up",
        text=review.follow_up_content,
        occurred_at=review.follow_up_at or review.reviewed_at,
        review_id=review.pk,
        customer_id=review.customer_id,
        product_id=review.product_id,
        shop_id=review.shop_id,
        channel=review.platform,
        analysis=analysis,
    )


def _analyze_batch(texts: Sequence[str]) -> dict[str, textmodels.Analysis]:
    """One analyze() call for a batch's texts (the models' per-call checks are paid once)."""
    unique = sorted({t.strip()[:5000] for t in texts if t and t.strip()})
    return dict(zip(unique, textmodels.analyze(unique), strict=True)) if unique else {}


def _feedback_for(
    review: Review, analysis: Callable[[str], textmodels.Analysis | None]
) -> list[FeedbackItem]:
    """The unsaved items of a new review: its text and, when it has one, its 追评."""
    common: dict[str, Any] = {
        "review_id": review.pk,
        "customer_id": review.customer_id,
        "product_id": review.product_id,
        "shop_id": review.shop_id,
        "channel": review.platform,
    }
    items = [
        build_feedback(
            source=FeedbackSource.REVIEW,
            source_key=f"review:{review.pk}",
            text=review.content,
            occurred_at=review.reviewed_at,
            analysis=analysis(review.content),
            **common,
        )
    ]
    if review.follow_up_content:
        items.append(
            build_feedback(
                source=FeedbackSource.REVIEW_FOLLOW_UP,
                source_key=f"review:{review.pk}:follow_up",
                text=review.follow_up_content,
                occurred_at=review.follow_up_at or review.reviewed_at,
                analysis=analysis(review.follow_up_content),
                **common,
            )
        )
    return [i for i in items if i is not None]


def store_reviews(
    shop: Shop, parsed: Sequence[ParsedReview], *, matcher: ProductMatcher, source_import: ReviewImport | None
) -> StoreResult:
    """Write parsed reviews of one shop (in the caller's transaction): new ones created with their
    feedback items (in bulk) and tickets, known ones counted as duplicates or given their new 追评."""
    result = StoreResult()
    keys = {p.dedup_key for p in parsed}
    known = {r.dedup_key: r for r in Review.objects.filter(shop=shop, dedup_key__in=keys)}
    now = clock.now()
    analyses = _analyze_batch(
        [p.content for p in parsed if p.dedup_key not in known] + [p.follow_up_content for p in parsed]
    )

    def analysis(text: str) -> textmodels.Analysis | None:
        return analyses.get((text or "").strip()[:5000])

    new: dict[str, Review] = {}  # the batch's new reviews, first occurrence of each key
    order: list[Review] = []
    for p in parsed:
        review = known.get(p.dedup_key) or new.get(p.dedup_key)
        if review is None:
            review = Review(
                shop=shop,
                platform=shop.platform,
                platform_review_id=p.platform_review_id,
                dedup_key=p.dedup_key,
                rating=p.rating,
                level=p.level or _level_from_text(analysis(p.content)),
                content=p.content,
                reviewed_at=p.reviewed_at,
                follow_up_content=p.follow_up_content,
                follow_up_at=(p.follow_up_at or p.reviewed_at) if p.follow_up_content else None,
                order_number=p.order_number,
                product_id=matcher.match(p.sku, p.product_name),
                product_name=p.product_name,
                sku=p.sku,
                buyer_nick=p.buyer_nick,
                source_import=source_import,
                created_at=now,
                updated_at=now,
            )
            new[p.dedup_key] = review
            result.created += 1
        elif p.follow_up_content and not review.follow_up_content:
            review.follow_up_content = p.follow_up_content
            review.follow_up_at = p.follow_up_at or now
            review.updated_at = now
            result.follow_ups += 1
            if review.pk is not None:  # stored before this batch: its 追评 is news now
                review.save(update_fields=["follow_up_content", "follow_up_at", "updated_at"])
                item = _record_follow_up(review, analysis(review.follow_up_content))
                open_review_tickets(review, new_review=False, follow_up_item=item)
        else:
            result.duplicates += 1
        order.append(review)
    if new:
        Review.objects.bulk_create(new.values())
        items = [item for review in new.values() for item in _feedback_for(review, analysis)]
        FeedbackItem.objects.bulk_create(items, ignore_conflicts=True)
        follow_ups = {i.review_id: i for i in items if i.source == FeedbackSource.REVIEW_FOLLOW_UP}
        rule = rule_for(shop.pk)
        for review in new.values():
            open_review_tickets(review, new_review=True, follow_up_item=follow_ups.get(review.pk), rule=rule)
    result.ids = [r.pk for r in order]
    return result


def _products() -> ProductMatcher:
    return ProductMatcher(Product.objects.filter(is_active=True).values_list("id", "model_number"))


def _fail(import_id: int, message: str) -> ReviewImport:
    with transaction.atomic():
        imp = ReviewImport.objects.select_for_update().get(pk=import_id)
        imp.status = ImportStatus.FAILED
        imp.error = message
        imp.finished_at = clock.now()
        imp.save(update_fields=["status", "error", "finished_at"])
        record_event(
            actor=None,
            verb=events.IMPORT_FINISHED.verb,
            subject=imp,
            data={"file_name": imp.file_name, "created": 0, "duplicates": 0, "skipped": 0, "error": message},
        )
    return imp


def run_import(import_id: int) -> ReviewImport | None:
    """The worker's job (idempotent, resumable): parse every row first — an unreadable file fails the
    import with nothing written — then write in batches of 500, one transaction each."""
    with transaction.atomic():
        imp = ReviewImport.objects.select_for_update().select_related("shop").filter(pk=import_id).first()
        if imp is None or imp.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return imp
        imp.status = ImportStatus.RUNNING
        imp.started_at = imp.started_at or clock.now()
        imp.save(update_fields=["status", "started_at"])
    try:
        table = imports.read_table(read_file(imp))
        entries = list(imports.parse_rows(table, imp.columns))
    except imports.UnreadableFile as exc:
        return _fail(import_id, str(exc))
    except OSError:
        return _fail(import_id, _("The uploaded file is missing from storage."))
    ReviewImport.objects.filter(pk=import_id).update(total_rows=len(entries))
    matcher = _products()
    offset = imp.processed_rows
    while offset < len(entries):
        with transaction.atomic():
            imp = ReviewImport.objects.select_for_update().select_related("shop").get(pk=import_id)
            if imp.processed_rows != offset or imp.status != ImportStatus.RUNNING:
                return imp  # another worker is on it
            batch = entries[offset : offset + BATCH]
            parsed = [e for e in batch if isinstance(e, ParsedReview)]
            errors = [e for e in batch if isinstance(e, RowError)]
            result = store_reviews(imp.shop, parsed, matcher=matcher, source_import=imp)
            room = max(0, MAX_SKIPPED - len(imp.skipped))
            imp.skipped = list(imp.skipped) + [e.as_dict() for e in errors[:room]]
            imp.skipped_count += len(errors)
            imp.created_count += result.created
            imp.duplicate_count += result.duplicates
            imp.updated_count += result.follow_ups
            offset += len(batch)
            imp.processed_rows = offset
            imp.total_rows = len(entries)
            imp.save()
    with transaction.atomic():
        imp = ReviewImport.objects.select_for_update().get(pk=import_id)
        if imp.status != ImportStatus.RUNNING:
            return imp
        imp.status = ImportStatus.DONE
        imp.finished_at = clock.now()
        imp.total_rows = len(entries)
        imp.save(update_fields=["status", "finished_at", "total_rows"])
        record_event(
            actor=imp.created_by,
            verb=events.IMPORT_FINISHED.verb,
            subject=imp,
            data={
                "file_name": imp.file_name,
                "created": imp.created_count,
                "duplicates": imp.duplicate_count,
                "follow_ups": imp.updated_count,
                "skipped": imp.skipped_count,
            },
        )
    return imp


def _shop_by_id_or_code(shop: Any) -> Shop:
    text = str(shop if shop is not None else "").strip()
    found = Shop.objects.filter(pk=int(text)).first() if text.isdigit() else None
    found = found or (Shop.objects.filter(code=text).first() if text else None)
    if found is None:
        raise ValidationFailed(_("No such shop (give its id or code)."), field="shop")
    return found


@transaction.atomic
def receive_reviews(*, actor: Any, shop_id: Any, reviews: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Reviews pushed by another system: all stored, or none when one is invalid (422 naming
    reviews[i].field). Repeats are duplicates; a repeat carrying a new 追评 adds it."""
    authorize(actor, "voc.import")
    shop = _shop_by_id_or_code(shop_id)
    if not reviews:
        raise ValidationFailed(_("Send at least one review."), field="reviews")
    if len(reviews) > MAX_PUSH:
        raise LimitExceeded(_("At most %(n)d reviews per request.") % {"n": MAX_PUSH}, field="reviews")
    parsed: list[ParsedReview] = []
    for i, item in enumerate(reviews):
        values = {f: item.get(API_FIELDS.get(f, f)) for f in imports.FIELDS}
        values["level"] = item.get("level")
        labels = {f: f"reviews[{i}].{API_FIELDS.get(f, f)}" for f in (*imports.FIELDS, "level")}
        result = imports.parse_values(values, row=i, labels=labels)
        if isinstance(result, RowError):
            name = f"reviews[{i}].{API_FIELDS.get(result.field, result.field)}"
            raise ValidationFailed(
                result.reason if name in result.reason else f"{name}: {result.reason}", field=name
            )
        parsed.append(result)
    stored = store_reviews(shop, parsed, matcher=_products(), source_import=None)
    record_event(
        actor=actor,
        verb=events.REVIEWS_RECEIVED.verb,
        subject=shop,
        data={
            "shop": shop.name,
            "created": stored.created,
            "duplicates": stored.duplicates,
            "follow_ups": stored.follow_ups,
        },
    )
    return {
        "created": stored.created,
        "duplicates": stored.duplicates,
        "follow_ups_added": stored.follow_ups,
        "ids": stored.ids,
    }
