"""Shapes of the improvement-actions API (/api/v1/loops/actions)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class MilestoneIn(Schema):
    title: str = Field(..., max_length=200, examples=["更换风扇供应商"])
    due_date: date | None = None


class ActionCreateIn(Schema):
    title: str = Field(..., examples=["制氧机 KY-5W 噪音"])
    problem: str = Field(..., examples=["近两周差评集中在夜间噪音大"])
    department_id: int = Field(..., description="the owning department")
    owner_id: int | None = Field(None, description="a person of that department; else its head is notified")
    source: str = Field("manual", description="insight, feedback, ticket or manual")
    insight_id: int | None = Field(None, description="its items (up to 200) become evidence")
    feedback_item_ids: list[int] = []
    ticket_ids: list[int] = []
    metric: str = Field(
        "", description="negative_review_rate, complaint_volume, repeat_contact_rate or empty"
    )
    metric_product_id: int | None = None
    metric_shop_id: int | None = None
    metric_cause_id: int | None = None
    goal_value: float | None = None
    milestones: list[MilestoneIn] = []


class ActionPatchIn(Schema):
    title: str | None = None
    problem: str | None = None
    department_id: int | None = Field(None, description="re-assigning resets the deadline and escalation")
    owner_id: int | None = None
    metric: str | None = None
    metric_product_id: int | None = None
    metric_shop_id: int | None = None
    metric_cause_id: int | None = None
    goal_value: float | None = None


class TransitionIn(Schema):
    to: str = Field(..., examples=["accepted"])
    reason: str = Field("", description="required when rejecting")


class CommitIn(Schema):
    date: dt.date = Field(..., description="the committed fix date (local), today or later")


class CommentIn(Schema):
    body: str = Field(..., examples=["已联系供应商更换风扇"])


class EvidenceIn(Schema):
    feedback_item_id: int | None = None
    ticket_id: int | None = None


class MilestoneOut(Schema):
    id: int
    title: str
    due_date: date | None
    done_at: datetime | None


class EvidenceOut(Schema):
    id: int
    feedback_item_id: int | None
    ticket_id: int | None
    created_at: datetime


class CommentOut(Schema):
    id: int
    author: str | None
    body: str
    created_at: datetime
    files: list[str] = []


class ActionOut(Schema):
    id: int
    number: str = Field(..., examples=["IA2026112400012"])
    title: str
    problem: str
    source: str
    status: str
    insight_id: int | None
    department_id: int
    department: str
    owner_id: int | None
    owner: str | None
    created_by_id: int | None
    reject_reason: str
    commit_deadline: datetime | None = Field(None, description="accept and commit a date by")
    committed_date: date | None
    escalation_level: int = Field(
        ..., description="0 none, 1 owner reminded, 2 department head, 3 executives"
    )
    overdue: bool
    metric: str
    metric_product_id: int | None
    metric_shop_id: int | None
    metric_cause_id: int | None
    baseline_value: float | None
    goal_value: float | None
    verified_value: float | None
    claimed_by_id: int | None
    claimed_by: str | None
    claimed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    implemented_at: datetime | None
    closed_at: datetime | None
    allowed_transitions: list[str]


class ActionDetailOut(ActionOut):
    milestones: list[MilestoneOut]
    evidence: list[EvidenceOut]
    comments: list[CommentOut]


class ActionPage(Schema):
    items: list[ActionOut]
    count: int
