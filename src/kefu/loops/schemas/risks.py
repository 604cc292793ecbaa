"""Shapes of the risk register API (/api/v1/loops/risks)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class RiskCreateIn(Schema):
    title: str = Field(..., max_length=200, examples=["大促期间京东店差评率超标"])
    type: str = Field(..., description="metric, settlement, management, system or brand")
    description: str = ""
    likelihood: int = Field(3, description="1–5")
    impact: int = Field(3, description="1–5")
    owner_id: int | None = None
    department_id: int | None = None
    contingency_plan: str = ""
    status: str = Field("open", description="open, mitigated or closed")
    review_every_days: int = Field(90, description="1–3650")
    insight_ids: list[int] = Field(default_factory=list)
    action_ids: list[int] = Field(default_factory=list)


class RiskPatchIn(Schema):
    """Only the fields sent are changed."""

    title: str | None = None
    type: str | None = None
    description: str | None = None
    likelihood: int | None = None
    impact: int | None = None
    owner_id: int | None = None
    department_id: int | None = None
    contingency_plan: str | None = None
    status: str | None = None
    review_every_days: int | None = None
    insight_ids: list[int] | None = None
    action_ids: list[int] | None = None


class DrillIn(Schema):
    held_on: str = Field(..., examples=["2026-11-20"], description="YYYY-MM-DD, not in the future")
    result: str
    lessons: str = ""


class ReviewIn(Schema):
    note: str = ""


class DrillOut(Schema):
    id: int
    held_on: date
    result: str
    lessons: str
    recorded_by: str | None
    created_at: datetime


class RiskOut(Schema):
    id: int
    title: str
    description: str
    type: str
    likelihood: int
    impact: int
    score: int = Field(..., description="likelihood × impact; ≥ 15 is high")
    owner_id: int | None
    owner: str | None
    department_id: int | None
    department: str | None
    contingency_plan: str
    status: str
    review_every_days: int
    last_reviewed_at: datetime | None
    next_review_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RiskDetailOut(RiskOut):
    insight_ids: list[int]
    action_ids: list[int]
    drills: list[DrillOut]


class RiskPage(Schema):
    count: int
    items: list[RiskOut]
    heat_map: list[list[int]] = Field(
        ..., description="counts per cell: rows impact 5→1, columns likelihood 1→5 (type/status filters)"
    )
