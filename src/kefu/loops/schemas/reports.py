"""Shapes of the weekly report API (/api/v1/loops/reports)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class ReportGenerateIn(Schema):
    week_start: str | None = Field(
        None, examples=["2026-11-16"], description="a Monday (YYYY-MM-DD); default: the previous week"
    )


class ReportOut(Schema):
    week_start: date
    generated_at: datetime
    generated_by: str | None
    emailed_at: datetime | None
    url: str
    pdf_url: str


class ReportDetailOut(ReportOut):
    data: dict[str, Any] = Field(
        ...,
        description="insights_by_volume, insights_by_growth, bad_rate_by_product, bad_rate_by_shop, "
        "departments, new_actions, overdue_actions, verified_actions, not_effective_actions, claims, "
        "high_risks (see kefu.loops.services.reports)",
    )


class ReportList(Schema):
    count: int
    items: list[ReportOut]
