"""The voice-of-customer demo: nine weeks of JD and Tmall reviews (mostly 好评, a steady trickle of
差评 about logistics and customer service, and 制氧机 noise complaints on JD jumping this week), their
feedback items as the import makes them, and the insights computed from them.

`seed_voc_demo(now)` is idempotent: reviews are keyed "demo-<n>" per shop, feedback items by
"review:<id>", so a second run adds nothing."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from kefu.core import clock
from kefu.customers.models import Product, Shop
from kefu.voc.choices import FeedbackSource, RatingLevel
from kefu.voc.models import Review
from kefu.voc.services.feedback import record_feedback
from kefu.voc.services.insights import compute_insights
from kefu.voc.services.insights_stats import week_of, window_weeks

# 制氧机 noise 差评 on JD, per week, oldest first: a trickle, then this week's jump
NOISE_PER_WEEK = [1, 2, 1, 1, 2, 1, 1, 2, 12]
GOOD_PER_WEEK = 14  # per shop
TRICKLE_PER_WEEK = 2  # logistics / service 差评 per shop

GOOD = [
    "制氧机很好用，氧浓度稳定，老人用着放心",
    "物流很快，第二天就到了，包装完好",
    "客服很耐心，教我怎么调流量，好评",
    "质量不错，操作简单，家里老人也会用",
    "性价比高，声音也不大，推荐购买",
    "用了一周了，效果很好，睡眠改善了",
]
NOISE = [
    "制氧机噪音太大了，晚上根本睡不着",
    "噪音很大，像拖拉机一样，老人受不了",
    "用了三天噪音越来越大，还有嗡嗡声",
    "机器噪音大，放在卧室没法用，失望",
    "噪音比描述的大多了，晚上吵得睡不着觉",
    "开机噪音特别大，邻居都能听到",
]
TRICKLE = [
    "物流太慢了，等了一个星期才到",
    "快递太慢，催了好几次物流都没动",
    "客服态度很差，问了半天没人回复",
    "客服回复太慢，问题一直没解决",
    "物流太慢，包装还压坏了",
    "客服态度敷衍，答非所问",
]


def _shop(code: str, name: str, platform: str) -> Shop:
    shop = (
        Shop.objects.filter(code=code).first()
        or Shop.objects.filter(platform=platform).order_by("id").first()
    )
    return shop or Shop.objects.create(code=code, name=name, platform=platform)


def _product() -> Product:
    product = (
        Product.objects.filter(model_number="KY-5W").first()
        or Product.objects.filter(name="制氧机").order_by("id").first()
    )
    return product or Product.objects.create(model_number="KY-5W", name="制氧机", category="呼吸健康")


def _seed_taxonomies() -> None:
    try:
        from kefu.voc.demo_taxonomy import seed_taxonomies
    except ImportError:  # the taxonomy demo is not there yet: insights work without causes
        return
    seed_taxonomies()


def _when(rng: random.Random, monday: Any, now: datetime) -> datetime:
    start = datetime.combine(monday, time(8), tzinfo=clock.local_tz())
    end = min(start + timedelta(days=6, hours=14), now - timedelta(minutes=1))
    if end <= start:
        start = datetime.combine(monday, time.min, tzinfo=clock.local_tz())
        end = max(now - timedelta(seconds=1), start)
    return start + (end - start) * rng.random()


def _plan(now: datetime, jd: Shop, tmall: Shop) -> list[dict[str, Any]]:
    """Every demo review: the same list for the same week, so re-seeding finds them again."""
    rng = random.Random(20261124)
    mondays = window_weeks(week_of(now, clock.local_tz()))
    reviews: list[dict[str, Any]] = []
    for w, monday in enumerate(mondays):
        for shop in (jd, tmall):
            batch = [(RatingLevel.GOOD, 5, rng.choice(GOOD)) for _ in range(GOOD_PER_WEEK)]
            batch += [(RatingLevel.BAD, 1, rng.choice(TRICKLE)) for _ in range(TRICKLE_PER_WEEK)]
            if shop == jd:
                batch += [
                    (RatingLevel.BAD, rng.choice((1, 2)), rng.choice(NOISE)) for _ in range(NOISE_PER_WEEK[w])
                ]
            for level, rating, text in batch:
                reviews.append(
                    {
                        "shop": shop,
                        "level": level,
                        "rating": rating,
                        "text": text,
                        "at": _when(rng, monday, now),
                    }
                )
    return reviews


@transaction.atomic
def seed_voc_demo(now: datetime | None = None) -> dict[str, int]:
    """Create the demo reviews and their feedback items (once), then compute the insights."""
    now = now or clock.now()
    _seed_taxonomies()
    jd = _shop("jd-self", "康悦京东自营旗舰店", "jd")
    tmall = _shop("tmall-flagship", "康悦官方旗舰店", "tmall")
    product = _product()
    created = 0
    for n, spec in enumerate(_plan(now, jd, tmall)):
        shop = spec["shop"]
        review, made = Review.objects.get_or_create(
            shop=shop,
            dedup_key=f"demo-{n}",
            defaults={
                "platform": shop.platform,
                "platform_review_id": f"demo{n:05d}",
                "rating": spec["rating"],
                "level": spec["level"],
                "content": spec["text"],
                "reviewed_at": spec["at"],
                "product": product,
                "product_name": str(product),
                "sku": product.model_number,
                "buyer_nick": f"买家{n % 97:02d}***",
                "created_at": now,
                "updated_at": now,
            },
        )
        created += int(made)
        record_feedback(
            source=FeedbackSource.REVIEW,
            source_key=f"review:{review.pk}",
            text=review.content,
            occurred_at=review.reviewed_at,
            review_id=review.pk,
            product_id=review.product_id,
            shop_id=shop.pk,
            channel=shop.platform,
        )
    insights = compute_insights(now)
    return {"reviews": created, "insights": insights}


def _default_rule() -> None:
    """Negative and neutral reviews and negative 追评 become tickets for 电商客服组 (e-commerce team)."""
    from kefu.accounts.models import Team, User
    from kefu.voc.models import ReviewTicketRule
    from kefu.voc.services.review_rules import save_review_rule

    team = Team.objects.filter(name="电商客服组").first()
    admin = User.objects.filter(username="admin").first()
    if team is None or admin is None or ReviewTicketRule.objects.filter(shop=None).exists():
        return
    save_review_rule(actor=admin, shop_id=None, team_id=team.pk)


def write_demo_export(now: datetime) -> Path:
    """A JD review export for the manager to upload on /voc/imports/new/ (DATA_DIR/demo/)."""
    from kefu.voc.demo_files import write_jd_export

    jd = _shop("jd-self", "康悦京东自营旗舰店", "jd")
    products = Product.objects.filter(model_number__in=["KY-5W", "KY-3A", "BP-620"]).order_by("model_number")
    return write_jd_export(
        Path(settings.DATA_DIR) / "demo" / "jd-reviews.xlsx", shop_name=jd.name, products=products, now=now
    )


DEMO_BACKFILL = 5000  # the newest demo tickets become feedback items
DEMO_LABELS = 60  # negative reviews the e-commerce supervisor labelled by hand (the models' training data)
# how the supervisor labelled them: (words in the text, cause, touchpoint) — more precise than the
# keyword rules for slow delivery (快递太慢 is 配送慢) and for the customer service a buyer met before
# buying (the rules find no touchpoint there)
DEMO_LABEL_RULES = [
    (("慢", "物流"), "配送慢", "配送慢"),
    (("慢", "快递"), "配送慢", "配送慢"),
    (("压坏",), "包装", "包装破损"),
    (("噪音",), "性能/噪音", "噪音"),
    (("客服", "回复"), "响应慢", "售前咨询"),
    (("客服", "态度"), "客服态度", "售前咨询"),
]


def _demo_label(text: str) -> tuple[str, str] | None:
    for words, cause, touchpoint in DEMO_LABEL_RULES:
        if all(w in text for w in words):
            return cause, touchpoint
    return None


def _demo_labels_and_models() -> str:
    """The supervisor's earlier labelling of the oldest negative reviews, then the first version of
    each text model, trained right away so the models page shows figures to compare with."""
    from kefu.accounts.models import User
    from kefu.voc.choices import ModelStatus, TaxonomyKind
    from kefu.voc.models import FeedbackItem, TaxonomyNode, TextModel
    from kefu.voc.services import models as model_services
    from kefu.voc.services.feedback import label_feedback

    labeller = User.objects.filter(username="supervisor2").first()
    admin = User.objects.filter(username="admin").first()
    if labeller is None or admin is None or TextModel.objects.exists():
        return ""

    def node(kind: str, name: str) -> int | None:
        return TaxonomyNode.objects.filter(kind=kind, name=name).values_list("pk", flat=True).first()

    items = FeedbackItem.objects.filter(source=FeedbackSource.REVIEW, review__level=RatingLevel.BAD)
    labelled = 0
    # one transaction: the reactions to the labels (retraining) run once all of them are stored
    with transaction.atomic():
        for item in items.order_by("occurred_at", "id"):
            labels = _demo_label(item.text)
            if labels is None:
                continue
            cause, touchpoint = node(TaxonomyKind.CAUSE, labels[0]), node(TaxonomyKind.TOUCHPOINT, labels[1])
            if cause and touchpoint:
                label_feedback(actor=labeller, item_id=item.pk, cause_id=cause, touchpoint_id=touchpoint)
                labelled += 1
            if labelled >= DEMO_LABELS:
                break
    made = []
    for kind in ("sentiment", "cause", "touchpoint"):
        model = TextModel.objects.filter(kind=kind, status=ModelStatus.TRAINING).first()
        model = model or model_services.request_training(actor=admin, kind=kind)
        trained = model_services.train_model(model.pk)
        if trained is not None:
            made.append(f"{kind} v{trained.version} {trained.status}")
    return "; models: " + ", ".join(made)


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    """The `kefu seed-demo` receiver (connected in kefu.voc.handlers.connect)."""
    from kefu.voc.services.backfill import backfill_feedback

    backfill_feedback(limit=DEMO_BACKFILL)  # the demo's tickets were written in bulk, without events
    made = seed_voc_demo(now)
    _default_rule()
    trained = _demo_labels_and_models()
    path = write_demo_export(now)
    return (
        f"Voice of customer: {made['reviews']} demo reviews, {made['insights']} insights{trained}; "
        f"a JD review export to upload: {path}"
    )
