"""Schemas of the text-model API: analyze, model versions, retraining."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

MAX_TEXTS = 1000
MAX_TEXT_CHARS = 5000


class AnalyzeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(
        ...,
        min_length=1,
        max_length=MAX_TEXTS,
        description=f"1–{MAX_TEXTS} texts, each ≤ {MAX_TEXT_CHARS} characters",
    )


class LabelOut(Schema):
    id: int
    name: str
    path: str
    confidence: float
    source: str = Field(description="model or rule (the taxonomy keywords)")
    model_id: int | None = None
    terms: list[str] = Field(description="the words that weighed most for this label")


class AnalysisOut(Schema):
    sentiment: float = Field(description="−1 (angry) … 1 (delighted)")
    polarity: str
    sentiment_confidence: float
    sentiment_source: str = Field(description="model, rule (the lexicon), or empty when nothing was found")
    sentiment_model_id: int | None = None
    terms: list[str] = Field(description="the words that weighed most for the sentiment")
    cause: LabelOut | None
    touchpoint: LabelOut | None


class AnalyzeOut(Schema):
    results: list[AnalysisOut]


class ModelOut(Schema):
    id: int
    kind: str
    version: int
    status: str
    n_train: int
    n_test: int
    accuracy: float | None
    baseline_accuracy: float | None = Field(
        description="accuracy of the model in use (or the lexicon/rules) on the same held-out slice"
    )
    labels: list[Any]
    report: dict[str, Any]
    error: str
    created_at: datetime
    trained_at: datetime | None
    activated_at: datetime | None
