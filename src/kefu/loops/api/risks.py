"""The risk register API: list (filters, heat map), one risk, create, change, drills, review."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from kefu.loops.models import Risk
from kefu.loops.schemas.risks import DrillIn, ReviewIn, RiskCreateIn, RiskDetailOut, RiskPage, RiskPatchIn
from kefu.loops.services.risks import (
    clean_filter,
    create_risk,
    get_risk,
    heat_map,
    list_risks,
    record_drill,
    review_risk,
    update_risk,
)
from kefu.tickets.schemas import ErrorOut

router = Router(tags=["closed loop: risks"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MAX_PAGE = 500


def risk_out(r: Risk) -> dict[str, Any]:
    return {
        "id": r.pk,
        "title": r.title,
        "description": r.description,
        "type": r.type,
        "likelihood": r.likelihood,
        "impact": r.impact,
        "score": r.score,
        "owner_id": r.owner_id,
        "owner": str(r.owner) if r.owner else None,
        "department_id": r.department_id,
        "department": r.department.name if r.department else None,
        "contingency_plan": r.contingency_plan,
        "status": r.status,
        "review_every_days": r.review_every_days,
        "last_reviewed_at": r.last_reviewed_at,
        "next_review_at": r.next_review_at,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def risk_detail_out(r: Risk) -> dict[str, Any]:
    return {
        **risk_out(r),
        "insight_ids": sorted(i.pk for i in r.insights.all()),
        "action_ids": sorted(a.pk for a in r.actions.all()),
        "drills": [
            {
                "id": d.pk,
                "held_on": d.held_on,
                "result": d.result,
                "lessons": d.lessons,
                "recorded_by": str(d.recorded_by) if d.recorded_by else None,
                "created_at": d.created_at,
            }
            for d in r.drills.all()
        ],
    }


@router.get(
    "/risks", response={200: RiskPage, **ERRORS}, summary="Risks, highest score first, and the heat map"
)
def risks_list(
    request: HttpRequest,
    type: str | None = None,
    status: str | None = None,
    min_score: str | None = None,
    likelihood: str | None = None,
    impact: str | None = None,
) -> dict[str, Any]:
    params = {
        "type": type,
        "status": status,
        "min_score": min_score,
        "likelihood": likelihood,
        "impact": impact,
    }
    f = clean_filter(params)
    qs = list_risks(actor=request.auth, f=f)
    return {
        "count": qs.count(),
        "items": [risk_out(r) for r in qs[:MAX_PAGE]],
        "heat_map": heat_map(actor=request.auth, f=f),
    }


@router.get("/risks/{risk_id}", response={200: RiskDetailOut, **ERRORS}, summary="One risk with drills")
def risks_get(request: HttpRequest, risk_id: int) -> dict[str, Any]:
    return risk_detail_out(get_risk(actor=request.auth, risk_id=risk_id))


@router.post("/risks", response={201: RiskDetailOut, **ERRORS}, summary="Add a risk")
def risks_create(request: HttpRequest, payload: RiskCreateIn) -> tuple[int, dict[str, Any]]:
    risk = create_risk(actor=request.auth, **payload.dict())
    return 201, risk_detail_out(get_risk(actor=request.auth, risk_id=risk.pk))


@router.patch("/risks/{risk_id}", response={200: RiskDetailOut, **ERRORS}, summary="Change a risk")
def risks_patch(request: HttpRequest, risk_id: int, payload: RiskPatchIn) -> dict[str, Any]:
    update_risk(actor=request.auth, risk_id=risk_id, **payload.dict(exclude_unset=True))
    return risk_detail_out(get_risk(actor=request.auth, risk_id=risk_id))


@router.post("/risks/{risk_id}/drills", response={201: RiskDetailOut, **ERRORS}, summary="Record a drill")
def risks_drill(request: HttpRequest, risk_id: int, payload: DrillIn) -> tuple[int, dict[str, Any]]:
    record_drill(actor=request.auth, risk_id=risk_id, **payload.dict())
    return 201, risk_detail_out(get_risk(actor=request.auth, risk_id=risk_id))


@router.post("/risks/{risk_id}/review", response={200: RiskDetailOut, **ERRORS}, summary="Review a risk")
def risks_review(request: HttpRequest, risk_id: int, payload: ReviewIn) -> dict[str, Any]:
    review_risk(actor=request.auth, risk_id=risk_id, note=payload.note)
    return risk_detail_out(get_risk(actor=request.auth, risk_id=risk_id))
