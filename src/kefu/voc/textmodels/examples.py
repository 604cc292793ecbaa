"""The organization's labelled examples of one kind, each with a stable key for the held-out slice.

- sentiment: feedback items a person labelled (their polarity), plus every review with text by its
  rating (好评 → positive, 差评 → negative). 中评 are left out: a three-star text is mostly a complaint
  written politely, and as a "neutral" class it blurs both others; a person's neutral labels still
  teach the neutral class. A 追评 is never labelled by the stars (they rate the first review).
- cause, touchpoint: feedback items a person labelled, on nodes that are still active."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.voc.choices import LabelSource, ModelKind, Polarity, RatingLevel
from kefu.voc.models import FeedbackItem, Review, TaxonomyNode
from kefu.voc.textmodels.training import is_held_out

MAX_EXAMPLES = 60_000  # the most recent ones, per kind
REVIEW_LEVELS = {RatingLevel.GOOD: Polarity.POSITIVE, RatingLevel.BAD: Polarity.NEGATIVE}


@dataclass
class Examples:
    train_texts: list[str]
    train_labels: list[object]
    test_texts: list[str]
    test_labels: list[object]

    @property
    def total(self) -> int:
        return len(self.train_texts) + len(self.test_texts)


def _split(rows: list[tuple[str, str, object]]) -> Examples:
    ex = Examples([], [], [], [])
    for key, text, label in rows:
        if is_held_out(key):
            ex.test_texts.append(text)
            ex.test_labels.append(label)
        else:
            ex.train_texts.append(text)
            ex.train_labels.append(label)
    return ex


def person_label_count(kind: str) -> int:
    return FeedbackItem.objects.filter(**{f"{kind}_source": LabelSource.PERSON}).count()


def collect(kind: str) -> Examples:
    rows: list[tuple[str, str, object]] = []
    if kind == ModelKind.SENTIMENT:
        labelled_reviews: set[int] = set()
        items = (
            FeedbackItem.objects.filter(sentiment_source=LabelSource.PERSON)
            .exclude(polarity="")
            .order_by("-id")
            .values_list("id", "text", "polarity", "review_id", "source")[:MAX_EXAMPLES]
        )
        for pk, text, polarity, review_id, source in items:
            rows.append((f"item:{pk}", text, polarity))
            if review_id and source == "review":
                labelled_reviews.add(review_id)
        reviews = (
            Review.objects.filter(level__in=list(REVIEW_LEVELS))
            .exclude(content="")
            .order_by("-id")
            .values_list("id", "content", "level")[: max(0, MAX_EXAMPLES - len(rows))]
        )
        for pk, content, level in reviews:
            if pk not in labelled_reviews:
                rows.append((f"review:{pk}", content, str(REVIEW_LEVELS[RatingLevel(level)])))
    else:
        active = set(TaxonomyNode.objects.filter(kind=kind, is_active=True).values_list("id", flat=True))
        items = (
            FeedbackItem.objects.filter(**{f"{kind}_source": LabelSource.PERSON, f"{kind}__isnull": False})
            .order_by("-id")
            .values_list("id", "text", f"{kind}_id")[:MAX_EXAMPLES]
        )
        rows = [(f"item:{pk}", text, node) for pk, text, node in items if node in active]
    rows.sort(key=lambda r: r[0])  # the same order every time: a deterministic fit
    return _split(rows)
