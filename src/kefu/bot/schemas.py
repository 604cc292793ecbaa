"""Schemas of the bot API: the public ask/feedback endpoints and the editors' tuning list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class AskIn(Schema):
    question: str = Field(
        min_length=1, max_length=500, description="the customer's question, 1–500 characters"
    )
    session: str | None = Field(
        None, max_length=64, description="the `session` of an earlier answer, to continue the conversation"
    )
    channel: str | None = Field(
        None, max_length=20, description="web (default), chat, wechat, mini_program, …"
    )
    phone: str | None = Field(
        None, max_length=40, description="optional: who to call back if handed to a person"
    )
    email: str | None = Field(
        None, max_length=254, description="optional: who to write to if handed to a person"
    )


class AnswerOut(Schema):
    type: Literal["answer"]
    text: str = Field(description="the article's text (plain, at most 2,000 characters)")
    article_id: int
    title: str
    confidence: float = Field(description="0–1: how sure the bot is (compared with its threshold)")
    url: str = Field(description="the article in the help center")
    session: str


class HandoffOut(Schema):
    type: Literal["handoff"]
    ticket_number: str
    message: str = Field(description="what to tell the customer, in the request's language")
    session: str


class FeedbackIn(Schema):
    session: str = Field(min_length=1, max_length=64)
    article_id: int
    helpful: bool


class FeedbackOut(Schema):
    created: bool = Field(description="false when this session already gave feedback on the article")


class TuningQuestionOut(Schema):
    text: str
    count: int


class TuningArticleOut(Schema):
    id: int
    title: str


class TuningGroupOut(Schema):
    questions: list[TuningQuestionOut]
    count: int
    last_asked: datetime
    handed_off: int
    low_confidence: int
    turn_ids: list[int]
    article: TuningArticleOut | None = Field(description="the bot's best guess")


class TuningOut(Schema):
    groups: list[TuningGroupOut]
    total_groups: int


class TuningVariantIn(Schema):
    turn_ids: list[int] = Field(min_length=1, max_length=500)
    article_id: int
    texts: list[str] | None = Field(None, max_length=20, description="default: every question of the group")


class TuningResolveIn(Schema):
    turn_ids: list[int] = Field(min_length=1, max_length=500)
    resolution: Literal["article_written", "dismissed"]


class TuningResolvedOut(Schema):
    resolved: int


class BotSettingsIn(Schema):
    threshold: float = Field(ge=0, le=1)
    low_confidence_margin: float = Field(ge=0, le=1)
    handoff_team_id: int | None = None


class BotSettingsOut(Schema):
    threshold: float
    low_confidence_margin: float
    handoff_team_id: int | None
