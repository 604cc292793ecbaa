"""The weekly VoC report API: list the weeks, one week's figures, generate (or regenerate) a week."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router

from kefu.loops.models import WeeklyReport
from kefu.loops.schemas.reports import ReportDetailOut, ReportGenerateIn, ReportList
from kefu.loops.services.reports import generate_weekly_report, get_report, list_reports
from kefu.tickets.schemas import ErrorOut

router = Router(tags=["closed loop: weekly report"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def report_out(r: WeeklyReport) -> dict[str, Any]:
    week = r.week_start.isoformat()
    return {
        "week_start": r.week_start,
        "generated_at": r.generated_at,
        "generated_by": str(r.generated_by) if r.generated_by else None,
        "emailed_at": r.emailed_at,
        "url": reverse("loops:report_detail", args=[week]),
        "pdf_url": reverse("loops:report_pdf", args=[week]),
    }


@router.get("/reports", response={200: ReportList, **ERRORS}, summary="Weekly reports, newest first")
def reports_list(request: HttpRequest) -> dict[str, Any]:
    reports = list_reports(actor=request.auth)
    return {"count": len(reports), "items": [report_out(r) for r in reports]}


@router.get("/reports/{week}", response={200: ReportDetailOut, **ERRORS}, summary="One week's report")
def reports_get(request: HttpRequest, week: str) -> dict[str, Any]:
    report = get_report(actor=request.auth, week_start=week)
    return {**report_out(report), "data": report.data}


@router.post("/reports", response={201: ReportDetailOut, **ERRORS}, summary="Generate a week's report now")
def reports_generate(request: HttpRequest, payload: ReportGenerateIn) -> tuple[int, dict[str, Any]]:
    report = generate_weekly_report(week_start=payload.week_start, actor=request.auth)
    return 201, {**report_out(report), "data": report.data}
