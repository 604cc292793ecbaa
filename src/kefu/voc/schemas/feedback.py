"""Schemas of the feedback API: items with their labels, the list filter, label changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kefu.voc.selectors.feedback import FeedbackFilter


class FeedbackFilterIn(Schema):
    """The same parameters as the list page (/voc/feedback/?cause=12&polarity=negative&week=…)."""

    source: str | None = None
    shop: str | None = None
    product: str | None = None
    cause: str | None = Field(None, description="cause node id; includes the nodes below it")
    touchpoint: str | None = Field(None, description="touchpoint node id; includes the nodes below it")
    polarity: str | None = Field(None, description="negative, neutral or positive")
    channel: str | None = None
    since: str | None = Field(None, description="YYYY-MM-DD, inclusive, in the organization's zone")
    until: str | None = Field(None, description="YYYY-MM-DD, inclusive")
    week: str | None = Field(None, description="the Monday (YYYY-MM-DD) of an ISO week")
    q: str | None = Field(None, description="text contains")
    labelled: str | None = Field(None, description="person, machine or none (cause/touchpoint labels)")

    def to_filter(self) -> FeedbackFilter:
        return FeedbackFilter.from_params(self.model_dump())


class LabelOut(Schema):
    node_id: int | None
    path: str
    source: str
    confidence: float | None
    by: str | None = Field(None, description="the person who set it")
    model_id: int | None = Field(None, description="the text-model version that set it")


class SentimentOut(Schema):
    score: float | None
    polarity: str
    source: str
    confidence: float | None
    by: str | None = None
    model_id: int | None = None


class RefOut(Schema):
    id: int
    name: str


class FeedbackOut(Schema):
    id: int
    source: str
    source_key: str
    text: str
    occurred_at: datetime
    ticket_id: int | None
    review_id: int | None
    bot_session_id: int | None
    customer: RefOut | None
    product: RefOut | None
    shop: RefOut | None
    channel: str
    cause: LabelOut
    touchpoint: LabelOut
    sentiment: SentimentOut


class FeedbackPage(Schema):
    items: list[FeedbackOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class LabelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    cause: int | None = Field(None, description="cause node id (null clears when given)")
    touchpoint: int | None = Field(None, description="touchpoint node id (null clears when given)")
    sentiment: float | None = Field(None, ge=-1, le=1, description="−1 (angry) … 1 (delighted)")
    polarity: str | None = Field(None, description="negative, neutral or positive")
    confirm: str | None = Field(
        None, description="cause, touchpoint or sentiment: confirm the model's suggestion as it is"
    )

    def service_kwargs(self) -> dict[str, Any]:
        """Only the labels sent (an explicit null for cause/touchpoint clears that label)."""
        sent = self.model_fields_set
        out: dict[str, Any] = {}
        if "cause" in sent:
            out["cause_id"] = self.cause
        if "touchpoint" in sent:
            out["touchpoint_id"] = self.touchpoint
        if self.sentiment is not None:
            out["sentiment"] = self.sentiment
        if self.polarity is not None:
            out["polarity"] = self.polarity
        return out
