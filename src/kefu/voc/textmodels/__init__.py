"""Chinese text models for voice of customer: sentiment, cause category, touchpoint.

`analyze(texts)` is the one entry point (feedback items, `POST /api/v1/voc/analyze`, suggestions in
the UI). Out of the box it uses a sentiment lexicon and the taxonomy nodes' keywords; once the
organization has labels (people's, and review star ratings for sentiment) the active TextModel
version of each kind is used instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kefu.voc.choices import LabelSource, Polarity


@dataclass
class Label:
    """A cause or touchpoint suggestion: node id (None: no suggestion) and how sure."""

    node_id: int | None = None
    confidence: float = 0.0
    source: str = LabelSource.NONE
    model_id: int | None = None
    terms: list[str] = field(default_factory=list)  # the words that weighed most (explanation)


@dataclass
class Analysis:
    sentiment: float = 0.0  # −1 … 1
    polarity: str = Polarity.NEUTRAL
    sentiment_confidence: float = 0.0
    sentiment_source: str = LabelSource.NONE
    sentiment_model_id: int | None = None
    sentiment_terms: list[str] = field(default_factory=list)
    cause: Label = field(default_factory=Label)
    touchpoint: Label = field(default_factory=Label)


def analyze(texts: Sequence[str]) -> list[Analysis]:
    """Sentiment, cause and touchpoint for each text (placeholder until the models land)."""
    return [Analysis() for _ in texts]
